/**
 * Keyframes on the committed synthetic samples, through the real pipeline (ffmpeg decoding,
 * tracking with the region-growing test segmenter, masks JSON lines, evaluation against the
 * ground truth): adaptive keyframes and a fixed stride of 3 keep the tracker's thresholds, and
 * adaptive keyframes stay within 3 J&F points of encoding every frame while encoding at most
 * 40% of the frames.
 */
import assert from "node:assert/strict";
import { lastValueFrom } from "rxjs";
import { segmentVideo } from "../pipelines/segment_video.ts";
import { evaluateMasks, type EvaluationReport } from "../src/eval/evaluate.ts";
import { readGroundTruth } from "../src/eval/sources.ts";
import { readPromptsFile, resolvePrompts } from "../src/segment/prompts.ts";
import {
  adaptiveKeyframes,
  fixedStride,
  type KeyframePolicy,
} from "../src/segment/tracker/keyframe_policy.ts";
import type { KeyframeCounts } from "../src/segment/tracker/keyframe_tracker.ts";
import { trackObjects } from "../src/segment/tracker/track_objects.ts";
import { parseInputSource } from "../src/video/input_source.ts";
import { parseOutputTarget } from "../src/video/output_target.ts";
import { probeVideo } from "../src/video/probe.ts";
import { StreamStats } from "../src/video/stream_stats.ts";
import { RegionGrowingSegmenter } from "./helpers/region_growing_segmenter.ts";
import { SAMPLE_NAMES } from "./helpers/sample_frames.ts";
import { REPO_DIR } from "./helpers/video.ts";

async function trackSample(
  name: string,
  policy: KeyframePolicy,
): Promise<{ report: EvaluationReport; counts: KeyframeCounts }> {
  const sampleDir = `${REPO_DIR}/samples/${name}`;
  const out = await Deno.makeTempDir({ prefix: `keyframes_${name}_` });
  try {
    const source = parseInputSource(`${sampleDir}/video.mp4`);
    const info = await probeVideo(source);
    const prompts = resolvePrompts(await readPromptsFile(`${sampleDir}/prompts.json`), info);
    let counts: KeyframeCounts | undefined;
    await lastValueFrom(
      segmentVideo({
        source,
        info,
        segmentation: trackObjects(new RegionGrowingSegmenter(), prompts, {
          keyframes: { policy },
          onKeyframeCounts: (c) => counts = c,
        }),
        target: parseOutputTarget(`${out}/overlay.mp4`),
        masksJsonl: `${out}/masks.jsonl`,
        stats: new StreamStats(),
      }),
      { defaultValue: undefined },
    );
    const report = await evaluateMasks(`${out}/masks.jsonl`, `${sampleDir}/gt`);
    return { report, counts: counts! };
  } finally {
    await Deno.remove(out, { recursive: true });
  }
}

/** Frames on which an object reappears after at least `minFrames` frames fully hidden. */
async function reappearances(name: string, minFrames: number): Promise<Map<number, number[]>> {
  const visible = new Map<number, boolean[]>();
  for await (const gt of readGroundTruth(`${REPO_DIR}/samples/${name}/gt`)) {
    for (const [id, mask] of gt.masks) {
      const list = visible.get(id) ?? [];
      list[gt.frameIndex] = mask.some((v) => v !== 0);
      visible.set(id, list);
    }
  }
  const found = new Map<number, number[]>();
  for (const [id, list] of visible) {
    let seen = false, absent = 0;
    for (let frame = 0; frame < list.length; frame++) {
      if (list[frame]) {
        if (seen && absent >= minFrames) found.set(id, [...(found.get(id) ?? []), frame]);
        seen = true;
        absent = 0;
      } else if (seen) absent++;
    }
  }
  return found;
}

function checkThresholds(report: EvaluationReport, label: string): void {
  assert.equal(report.missingPredictionFrames, 0);
  assert.ok(report.jMean >= 0.9, `${label}: mean J ${report.jMean.toFixed(3)} < 0.90`);
  assert.ok(report.jfMean >= 0.85, `${label}: J&F ${report.jfMean.toFixed(3)} < 0.85`);
  assert.equal(report.idSwitches, 0, `${label}: identity switches`);
  assert.equal(report.drawnAfterLeft, 0, `${label}: drawn after leaving`);
}

for (const name of SAMPLE_NAMES) {
  Deno.test(`sample ${name}: adaptive keyframes keep the tracker's thresholds, within 3 J&F points of encoding every frame, encoding at most 40% of the frames`, async () => {
    const every = await trackSample(name, fixedStride(1));
    const auto = await trackSample(name, adaptiveKeyframes());
    console.log(
      `${name}: every frame J&F ${
        every.report.jfMean.toFixed(3)
      } (${every.counts.encoded} encoded); ` +
        `auto J&F ${
          auto.report.jfMean.toFixed(3)
        } (${auto.counts.encoded} of ${auto.counts.frames} encoded: ${
          JSON.stringify(auto.counts.reasons)
        })`,
    );
    checkThresholds(auto.report, "auto");
    assert.ok(
      auto.report.jfMean >= every.report.jfMean - 0.03,
      `auto J&F ${auto.report.jfMean.toFixed(3)} vs ${every.report.jfMean.toFixed(3)} every frame`,
    );
    assert.ok(auto.counts.encoded <= 0.4 * auto.counts.frames, `${auto.counts.encoded} encoded`);
    // Re-acquisition after a long full occlusion: within 8 frames (searches run on keyframes at
    // least every 3 frames while an object is lost).
    for (const [id, frames] of await reappearances(name, 10)) {
      const scores = auto.report.objects.find((o) => o.id === id)!;
      for (const back of frames) {
        const found = scores.perFrame.find((s) => s.frame >= back && s.j >= 0.5);
        assert.ok(
          found && found.frame - back <= 8,
          `object ${id} back on ${back}, found on ${found?.frame}`,
        );
      }
    }
  });

  Deno.test(`sample ${name}: a fixed stride of 3 keeps the tracker's J and J&F thresholds`, async () => {
    const { report, counts } = await trackSample(name, fixedStride(3));
    console.log(
      `${name}: stride 3 J&F ${
        report.jfMean.toFixed(3)
      } (${counts.encoded} of ${counts.frames} encoded)`,
    );
    checkThresholds(report, "stride 3");
  });
}
