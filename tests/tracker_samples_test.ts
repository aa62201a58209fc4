/**
 * The tracker on the committed synthetic samples, through the real pipeline: ffmpeg decodes
 * samples/<name>/video.mp4, the tracker follows the prompted objects (with the region-growing test
 * segmenter), masks are exported as a masks directory and masks JSON lines beside an encoded
 * overlay video, and `deno task eval` scores the masks against samples/<name>/gt.
 */
import assert from "node:assert/strict";
import { lastValueFrom } from "rxjs";
import { segmentVideo } from "../pipelines/segment_video.ts";
import type { EvaluationReport } from "../src/eval/evaluate.ts";
import { readGroundTruth } from "../src/eval/sources.ts";
import { readMasksJsonl } from "../src/export/masks_jsonl.ts";
import { readPromptsFile, resolvePrompts } from "../src/segment/prompts.ts";
import { trackObjects } from "../src/segment/tracker/track_objects.ts";
import { parseInputSource } from "../src/video/input_source.ts";
import { parseOutputTarget } from "../src/video/output_target.ts";
import { probeVideo } from "../src/video/probe.ts";
import { StreamStats } from "../src/video/stream_stats.ts";
import { RegionGrowingSegmenter } from "./helpers/region_growing_segmenter.ts";
import { countDecodableFrames, REPO_DIR } from "./helpers/video.ts";

const SAMPLES = ["occlusion", "exit_enter", "crossing"] as const;

/**
 * Runs decode -> track -> masks dir + masks JSONL + overlay video -> `deno task eval --json`;
 * checks that no pixel has two objects; returns the report.
 */
async function trackSample(name: string): Promise<{ report: EvaluationReport; frames: number }> {
  const sampleDir = `${REPO_DIR}/samples/${name}`;
  const out = await Deno.makeTempDir({ prefix: `tracker_${name}_` });
  const source = parseInputSource(`${sampleDir}/video.mp4`);
  const info = await probeVideo(source);
  const prompts = resolvePrompts(await readPromptsFile(`${sampleDir}/prompts.json`), info);
  const segmenter = new RegionGrowingSegmenter();
  const stats = new StreamStats();
  await lastValueFrom(
    segmentVideo({
      source,
      info,
      segmentation: trackObjects(segmenter, prompts),
      target: parseOutputTarget(`${out}/overlay.mp4`),
      masksDir: `${out}/masks`,
      masksJsonl: `${out}/masks.jsonl`,
      stats,
    }),
    { defaultValue: undefined },
  );
  const frames = await countDecodableFrames(`${out}/overlay.mp4`);
  // The JSON lines keep every object's own mask: no pixel may belong to two objects.
  let jsonFrames = 0;
  for await (const masks of readMasksJsonl(`${out}/masks.jsonl`)) {
    jsonFrames++;
    const owners = new Uint8Array(masks.width * masks.height);
    for (const object of masks.objects) {
      object.mask.data.forEach((v, i) => owners[i] += v);
    }
    assert.ok(owners.every((n) => n <= 1), `frame ${masks.frameIndex}: a pixel has two objects`);
  }
  assert.equal(jsonFrames, frames);
  const evaluation = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      `${REPO_DIR}/src/cli/eval.ts`,
      "--pred",
      `${out}/masks`,
      "--gt",
      `${sampleDir}/gt`,
      "--json",
      `${out}/report.json`,
    ],
    cwd: REPO_DIR,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(
    evaluation.code,
    0,
    `deno task eval failed: ${new TextDecoder().decode(evaluation.stderr)}`,
  );
  console.log(`${name}:\n${new TextDecoder().decode(evaluation.stdout)}`);
  const report: EvaluationReport = JSON.parse(await Deno.readTextFile(`${out}/report.json`));
  await Deno.remove(out, { recursive: true });
  return { report, frames };
}

/**
 * Reappearances after a full occlusion of at least `minFrames` frames, from the ground truth: the
 * object is visible, absent (inside the frame) for `minFrames` or more, then visible again.
 */
function reappearances(
  perFrameVisible: readonly boolean[],
  minFrames: number,
): number[] {
  const found: number[] = [];
  let seen = false, absentRun = 0;
  perFrameVisible.forEach((visible, frame) => {
    if (visible) {
      if (seen && absentRun >= minFrames) found.push(frame);
      seen = true;
      absentRun = 0;
    } else if (seen) {
      absentRun++;
    }
  });
  return found;
}

for (const name of SAMPLES) {
  Deno.test(`tracker on sample ${name}: J >= 0.90, J&F >= 0.85, no identity switch, nothing drawn after leaving, re-acquired within 5 frames, disjoint masks`, async () => {
    const { report, frames } = await trackSample(name);
    assert.equal(frames, report.frames, "overlay video has one frame per ground-truth frame");
    assert.equal(report.missingPredictionFrames, 0);
    assert.ok(report.jMean >= 0.9, `mean J ${report.jMean.toFixed(3)} < 0.90`);
    assert.ok(report.jfMean >= 0.85, `J&F ${report.jfMean.toFixed(3)} < 0.85`);
    assert.equal(report.idSwitches, 0, "identity switches");
    assert.equal(report.drawnAfterLeft, 0, "objects drawn after they left the frame");
    assert.deepEqual(report.predictionOnlyIds, [], "no object outside the prompts");

    // Ground-truth visibility per object and frame, from the gt label maps.
    const gtDir = `${REPO_DIR}/samples/${name}/gt`;
    const visible = new Map<number, boolean[]>();
    let frameCount = 0;
    for await (const gt of readGroundTruth(gtDir)) {
      for (const [id, mask] of gt.masks) {
        const list = visible.get(id) ?? [];
        list[gt.frameIndex] = mask.some((v) => v !== 0);
        visible.set(id, list);
      }
      frameCount++;
    }
    let occlusions = 0;
    for (const object of report.objects) {
      const seen = Array.from(
        { length: frameCount },
        (_, f) => visible.get(object.id)?.[f] ?? false,
      );
      for (const back of reappearances(seen, 10)) {
        occlusions++;
        // J is the region IoU: the first frame from the reappearance with IoU >= 0.5.
        const found = object.perFrame.find((s) => s.frame >= back && s.j >= 0.5 && seen[s.frame]);
        assert.ok(
          found,
          `object ${object.id} never re-acquired after reappearing on frame ${back}`,
        );
        assert.ok(
          found.frame - back <= 5,
          `object ${object.id} reappeared on frame ${back}, re-acquired on frame ${found.frame}`,
        );
      }
    }
    if (name !== "exit_enter") assert.ok(occlusions > 0, `${name} has a long full occlusion`);
  });
}
