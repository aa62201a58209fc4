import assert from "node:assert/strict";
import { parseSegmentArgs, type SegmentArgs, UsageError } from "../src/cli/args.ts";
import { formatProgressLine, reportProgress } from "../src/cli/progress.ts";
import { lastValueFrom, of } from "rxjs";

const BASE = ["--input", "in.mp4", "--output", "out.mp4"];

Deno.test("valid flags become typed options with prompts in command-line order", () => {
  const args = parseSegmentArgs([
    ...BASE,
    "--point",
    "10,20",
    "--point",
    "30,40,2@5",
    "--negative-point",
    "1,1,2@5",
    "--box",
    "0,0,50,50,3@0.5s",
    "--masks-dir",
    "masks",
    "--masks-json",
    "masks.jsonl",
    "--max-frames",
    "12",
    "--live",
    "-q",
    "--progress",
    "json",
  ]) as SegmentArgs;
  assert.equal(args.help, false);
  assert.equal(args.input, "in.mp4");
  assert.deepEqual(args.output, { kind: "file", path: "out.mp4", container: "mp4" });
  assert.deepEqual(args.flagPrompts.map((prompt) => prompt.origin), [
    "--point 10,20",
    "--point 30,40,2@5",
    "--negative-point 1,1,2@5",
    "--box 0,0,50,50,3@0.5s",
  ]);
  assert.deepEqual(
    [args.masksDir, args.masksJson, args.maxFrames, args.live, args.quiet, args.progress],
    ["masks", "masks.jsonl", 12, true, true, "json"],
  );
});

Deno.test("--help wins over anything else", () => {
  assert.deepEqual(parseSegmentArgs(["--bogus", "-h"]), { help: true });
});

Deno.test("standard output defaults to nut and accepts matroska or mpegts", () => {
  const stdout = parseSegmentArgs(["--input", "-", "--output", "-"]) as SegmentArgs;
  assert.deepEqual(stdout.output, { kind: "stdout", path: "-", container: "nut" });
  const mkv = parseSegmentArgs([
    "--input",
    "-",
    "--output",
    "-",
    "--output-format",
    "matroska",
  ]) as SegmentArgs;
  assert.equal(mkv.output.container, "matroska");
});

const usageErrors: [string[], RegExp][] = [
  [["--output", "out.mp4"], /^--input is required$/],
  [["--input", "in.mp4"], /^--output is required$/],
  [["--input", "", "--output", "o.mp4"], /^--input must not be empty$/],
  [[...BASE, "--max-frames", "0"], /^--max-frames must be a positive integer \(got "0"\)$/],
  [[...BASE, "--max-frames", "2.5"], /--max-frames must be a positive integer/],
  [[...BASE, "--max-frames"], /^--max-frames needs a value/],
  [[...BASE, "--progress", "xml"], /^--progress must be one of tty, json, none \(got "xml"\)$/],
  [[...BASE, "--output-format", "webm"], /^--output-format must be one of mp4, mov, matroska/],
  [["--input", "a.mp4", "--output", "b.webm"], /^--output: cannot tell the container of "b\.webm"/],
  [
    ["--input", "a.mp4", "--output", "-", "--output-format", "mp4"],
    /cannot be streamed to standard output/,
  ],
  [[...BASE, "--point", "1,2,3,4"], /^--point 1,2,3,4: expected X,Y\[,ID\]/],
  [[...BASE, "--point", "-5,2"], /^--point: a value starting with "-" must be attached/],
  [[...BASE, "--box", "5,5,1,1"], /^--box 5,5,1,1: box needs x0 < x1/],
  [[...BASE, "--live=yes"], /^--live takes no value/],
  [[...BASE, "stray"], /^unexpected argument stray/],
  [[...BASE, "--frobnicate"], /^unknown option --frobnicate/],
];

for (const [argv, message] of usageErrors) {
  Deno.test(`usage error for ${argv.slice(-2).join(" ")} names the flag in one line`, () => {
    assert.throws(() => parseSegmentArgs(argv), (error: Error) => {
      assert.ok(error instanceof UsageError, `${error.name}: ${error.message}`);
      assert.match(error.message, message);
      assert.ok(!error.message.includes("\n"));
      return true;
    });
  });
}

Deno.test("the output may not overwrite the input", async () => {
  const path = await Deno.makeTempFile({ suffix: ".mp4" });
  try {
    assert.throws(
      () => parseSegmentArgs(["--input", path, "--output", path]),
      /--output must differ from --input/,
    );
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("progress lines show frames, percentage, fps and ETA", () => {
  assert.equal(
    formatProgressLine({
      event: "progress",
      frames: 120,
      totalFrames: 300,
      elapsedSeconds: 4.2,
      fps: 28.3,
      etaSeconds: 66.4,
    }),
    "frame 120/300 (40%)  28.3 fps  ETA 1:06",
  );
  assert.equal(
    formatProgressLine({
      event: "end",
      frames: 7,
      totalFrames: null,
      elapsedSeconds: 1,
      fps: 7,
      etaSeconds: null,
    }),
    "frame 7  7.0 fps",
  );
});

Deno.test("JSON progress writes one parseable record per report and a final record", async () => {
  const written: string[] = [];
  await lastValueFrom(
    of(1, 2, 3).pipe(
      reportProgress({
        mode: "json",
        totalFrames: 3,
        intervalMs: 0,
        write: (t) => written.push(t),
      }),
    ),
  );
  const records = written.map((text) => JSON.parse(text));
  assert.deepEqual(records.map((record) => [record.event, record.frames]), [
    ["progress", 1],
    ["progress", 2],
    ["progress", 3],
    ["end", 3],
  ]);
  assert.equal(records[3].totalFrames, 3);
  assert.ok(written.every((text) => text.endsWith("\n") && text.indexOf("\n") === text.length - 1));
});
