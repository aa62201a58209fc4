import assert from "node:assert/strict";
import { boundaryFMeasure, boundaryTolerance, seg2bmap } from "../src/eval/boundary.ts";
import { regionSimilarity } from "../src/eval/region.ts";
import { type FrameObjects, SequenceEvaluator } from "../src/eval/evaluator.ts";
import { evaluateMasks } from "../src/eval/evaluate.ts";
import { encodeLabelMapPng, maskPngName } from "../src/export/label_map.ts";
import { frameMasksToJsonLine } from "../src/export/masks_jsonl.ts";
import { maskToBbox } from "../src/segment/geometry/boxes.ts";

const N = 20; // 20x20 frames: diagonal 28.3 px, so the DAVIS tolerance is ceil(0.226) = 1 px.

/** A filled axis-aligned rectangle, columns x0..x1 and rows y0..y1 inclusive. */
function rect(x0: number, y0: number, x1: number, y1: number): Uint8Array {
  const data = new Uint8Array(N * N);
  for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) data[y * N + x] = 1;
  return data;
}

function frame(frameIndex: number, masks: [number, Uint8Array][]): FrameObjects {
  return { frameIndex, width: N, height: N, masks: new Map(masks) };
}

Deno.test("seg2bmap marks pixels that differ from their east, south or south-east neighbour", () => {
  assert.deepEqual([...seg2bmap(new Uint8Array([0, 0, 0, 0, 1, 0, 0, 0, 0]), 3, 3)], [
    1,
    1,
    0,
    1,
    1,
    0,
    0,
    0,
    0,
  ]);
  // The boundary of the square rows/cols 5..8 is the 16-pixel ring around rows/cols 4..8.
  const ring = seg2bmap(rect(5, 5, 8, 8), N, N);
  assert.equal(ring.reduce((a, b) => a + b, 0), 16);
  assert.equal(ring[4 * N + 4], 1);
  assert.equal(ring[8 * N + 8], 1);
  assert.equal(ring[6 * N + 6], 0);
  assert.equal(boundaryTolerance(N, N), 1);
  assert.equal(boundaryTolerance(854, 480), 8); // DAVIS 480p: ceil(0.008 * 979.6)
  assert.equal(boundaryTolerance(480, 270), 5);
});

Deno.test("J and F match a hand-computed case: a 4x4 square against a copy shifted 2 px right", () => {
  const gt = rect(5, 5, 8, 8);
  const pred = rect(7, 5, 10, 8);
  // J: 2 shared columns x 4 rows = 8; union 16 + 16 - 8 = 24.
  assert.equal(regionSimilarity(gt, pred), 1 / 3);
  // Boundaries: gt ring G = perimeter of rows 4..8 x cols 4..8, prediction ring P = rows 4..8 x
  // cols 6..10 (16 px each). Tolerance 1 px uses the plus-shaped disk(1).
  // P pixels within 1 px of G: top row x = 6..9 (4), bottom row x = 6..9 (4), left column
  // (6,5) and (6,7) (touching G's top and bottom rows): 10 of 16 -> precision 0.625.
  // G pixels within 1 px of P: top row x = 5..8 (4), bottom row x = 5..8 (4), right column
  // (8,5) and (8,7): 10 of 16 -> recall 0.625, so F = 0.625.
  assert.deepEqual(boundaryFMeasure(gt, pred, N, N), { precision: 0.625, recall: 0.625, f: 0.625 });
  // Shifted by one pixel only, every boundary pixel is within the tolerance.
  assert.equal(boundaryFMeasure(gt, rect(6, 5, 9, 8), N, N).f, 1);
  // Empty against empty is perfect; one side empty scores 0.
  assert.equal(regionSimilarity(new Uint8Array(4), new Uint8Array(4)), 1);
  assert.equal(boundaryFMeasure(new Uint8Array(N * N), new Uint8Array(N * N), N, N).f, 1);
  assert.equal(boundaryFMeasure(gt, new Uint8Array(N * N), N, N).f, 0);
  assert.equal(boundaryFMeasure(new Uint8Array(N * N), gt, N, N).f, 0);
});

Deno.test("sequence scores: a hand-made clip with a miss, a swap and a mask drawn after the object left", () => {
  const a = rect(1, 1, 4, 4), b = rect(12, 12, 16, 16), c = rect(1, 12, 5, 16);
  const evaluator = new SequenceEvaluator();
  // Frame 0: all right. Frame 1: ids 1 and 2 swapped. Frame 2: swapped; object 3 has left the
  // ground truth but is still drawn. Frame 3: ids back to right; object 3 gone in both.
  evaluator.addFrame(frame(0, [[1, a], [2, b], [3, c]]), frame(0, [[1, a], [2, b], [3, c]]));
  evaluator.addFrame(frame(1, [[1, a], [2, b], [3, c]]), frame(1, [[2, a], [1, b], [3, c]]));
  evaluator.addFrame(frame(2, [[1, a], [2, b]]), frame(2, [[2, a], [1, b], [3, c]]));
  evaluator.addFrame(frame(3, [[1, a], [2, b]]), frame(3, [[1, a], [2, b]]));
  const scores = evaluator.finish();
  const [one, two, three] = scores.objects;
  // Objects 1 and 2: J = F = 1 on frames 0 and 3, 0 on frames 1 and 2 (disjoint masks).
  assert.equal(one.jMean, 0.5);
  assert.equal(one.fMean, 0.5);
  assert.equal(one.jRecall, 0.5);
  // Matches of object 1: 1, 2, 2, 1 -> two switches; the same for object 2.
  assert.equal(one.idSwitches, 2);
  assert.equal(two.idSwitches, 2);
  // Object 3: J = F = 1 on frames 0, 1 (right) and 3 (absent, not drawn); 0 on frame 2.
  assert.equal(three.jMean, 0.75);
  assert.equal(three.fMean, 0.75);
  assert.equal(three.drawnWhileAbsent, 1);
  assert.equal(three.drawnAfterLeft, 1);
  assert.equal(three.visibleFrames, 2);
  assert.equal(scores.jMean, (0.5 + 0.5 + 0.75) / 3);
  assert.equal(scores.jfMean, (scores.jMean + scores.fMean) / 2);
  assert.equal(scores.idSwitches, 4);
  assert.deepEqual(scores.predictionOnlyIds, []);
});

Deno.test("a prediction drawn before its object appears is scored there, and unknown ids are listed", () => {
  const a = rect(1, 1, 4, 4);
  const evaluator = new SequenceEvaluator();
  evaluator.addFrame(frame(0, []), frame(0, [[1, a], [9, a]]));
  evaluator.addFrame(frame(1, [[1, a]]), frame(1, [[1, a]]));
  const scores = evaluator.finish();
  assert.equal(scores.objects.length, 1);
  assert.deepEqual(scores.objects[0].perFrame, [{ frame: 0, j: 0, f: 0 }, {
    frame: 1,
    j: 1,
    f: 1,
  }]);
  assert.equal(scores.objects[0].drawnWhileAbsent, 1);
  assert.equal(scores.objects[0].drawnAfterLeft, 0);
  assert.deepEqual(scores.predictionOnlyIds, [9]);
});

/** Writes a ground-truth directory and the same masks as a JSONL prediction; returns their paths. */
async function writeClip(root: string): Promise<{ gt: string; jsonl: string }> {
  const gt = `${root}/gt`;
  await Deno.mkdir(gt, { recursive: true });
  const lines: string[] = [];
  for (let t = 0; t < 6; t++) {
    const labels = new Uint16Array(N * N);
    const masks = [];
    for (
      const [id, data] of [[1, rect(1 + t, 2, 6 + t, 7)], [
        300,
        rect(10, 10 + t % 3, 15, 14),
      ]] as const
    ) {
      data.forEach((v, i) => v && (labels[i] = id));
      const mask = { width: N, height: N, data };
      masks.push({ id, mask, score: 0.8, bbox: maskToBbox(mask) });
    }
    await Deno.writeFile(
      `${gt}/${maskPngName(t)}`,
      encodeLabelMapPng({ width: N, height: N, labels }),
    );
    lines.push(
      frameMasksToJsonLine({
        frameIndex: t,
        ptsSeconds: t / 30,
        width: N,
        height: N,
        objects: masks,
      }),
    );
  }
  const jsonl = `${root}/pred.jsonl`;
  await Deno.writeTextFile(jsonl, lines.join("\n") + "\n");
  return { gt, jsonl };
}

Deno.test("ground truth evaluated against itself scores J = F = 1 from a directory and from JSONL", async () => {
  const { gt, jsonl } = await writeClip(await Deno.makeTempDir());
  for (const prediction of [gt, jsonl]) {
    const report = await evaluateMasks(prediction, gt);
    assert.equal(report.frames, 6);
    assert.deepEqual(report.objects.map((o) => o.id), [1, 300]);
    assert.equal(report.jMean, 1);
    assert.equal(report.fMean, 1);
    assert.equal(report.jfMean, 1);
    assert.equal(report.idSwitches, 0);
    assert.equal(report.missingPredictionFrames, 0);
  }
});

async function runEval(args: string[]) {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", new URL("../src/cli/eval.ts", import.meta.url).pathname, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code,
    stdout: new TextDecoder().decode(stdout),
    stderr: new TextDecoder().decode(stderr),
  };
}

Deno.test("eval CLI prints a table, writes the JSON report and counts missing prediction frames", async () => {
  const root = await Deno.makeTempDir();
  const { gt, jsonl } = await writeClip(root);
  // Drop the last two frames of the prediction: both objects score 0 there.
  const lines = (await Deno.readTextFile(jsonl)).trimEnd().split("\n");
  await Deno.writeTextFile(jsonl, lines.slice(0, 4).join("\n") + "\n");
  const { code, stdout, stderr } = await runEval([
    "--pred",
    jsonl,
    "--gt",
    gt,
    "--json",
    `${root}/r.json`,
  ]);
  assert.equal(code, 0, stderr);
  assert.match(stdout, /J&F/);
  assert.match(stdout, /2 ground-truth frames had no prediction/);
  const report = JSON.parse(await Deno.readTextFile(`${root}/r.json`));
  assert.equal(report.objects[0].jMean, 4 / 6);
  assert.equal(report.missingPredictionFrames, 2);
});

Deno.test("eval CLI rejects missing or corrupt inputs and bad flags with one line and a non-zero exit", async () => {
  const root = await Deno.makeTempDir();
  const { gt, jsonl } = await writeClip(root);
  await Deno.mkdir(`${root}/corrupt`);
  await Deno.writeFile(
    `${root}/corrupt/000000.png`,
    (await Deno.readFile(`${gt}/000000.png`)).slice(0, 30),
  );
  await Deno.writeTextFile(`${root}/bad.jsonl`, "{not json}\n");
  const cases: [string[], number, RegExp][] = [
    [["--pred", `${root}/nope`, "--gt", gt], 1, /predictions .*nope do not exist/],
    [["--pred", jsonl, "--gt", `${root}/nope`], 1, /masks directory .*nope does not exist/],
    [["--pred", jsonl, "--gt", `${root}/corrupt`], 1, /000000.png: PNG: truncated/],
    [["--pred", `${root}/corrupt`, "--gt", gt], 1, /000000.png: PNG: truncated/],
    [["--pred", `${root}/bad.jsonl`, "--gt", gt], 1, /bad.jsonl:1: not valid JSON/],
    [["--pred", jsonl, "--gt", gt, "--json", `${root}/missing/r.json`], 1, /cannot write .*r.json/],
    [["--pred", jsonl], 2, /--gt is required/],
    [["--pred", jsonl, "--gt", gt, "--frames", "3"], 2, /Unknown option '--frames'/],
    [["--pred", jsonl, "--gt", gt, "--bound-th=-1"], 2, /--bound-th must be a positive number/],
    [["--pred", jsonl, "--gt", gt, "--bound-th", "abc"], 2, /--bound-th must be a positive number/],
    [["--pred", jsonl, "--gt", gt, "--bound-th"], 2, /argument missing/],
  ];
  for (const [args, expectedCode, message] of cases) {
    const { code, stdout, stderr } = await runEval(args);
    assert.equal(code, expectedCode, `${args.join(" ")}: ${stderr}`);
    assert.match(stderr, message);
    assert.equal(stderr.trimEnd().split("\n").length, 1, `one line: ${stderr}`);
    assert.equal(stdout, "");
  }
});
