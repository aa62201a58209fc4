/**
 * What asynchronous refinement (live runs) costs in tracking quality: the committed samples,
 * tracked with the region-growing test segmenter whose encoder is made to take `d` frames (a
 * refinement lands `d` frames after its keyframe, as the model's would on a slow machine), with
 * adaptive keyframes, against encoding every frame synchronously. J&F is given over all frames,
 * and over the frames from `--settled` on (default 15), after every row's first refinement has
 * landed: the start-up (no mask can be shown before the model has seen the first frame) apart.
 *
 *   deno run -A tests/bench/async_quality.ts [--delays 1,3,5,10,15] [--settled 15]
 */
import { parseArgs } from "node:util";
import type { Frame } from "../../src/frame.ts";
import { SequenceEvaluator } from "../../src/eval/evaluator.ts";
import { readPromptsFile, resolvePrompts } from "../../src/segment/prompts.ts";
import type { Segmenter } from "../../src/segment/segmenter.ts";
import {
  adaptiveKeyframes,
  fixedStride,
  type KeyframePolicy,
} from "../../src/segment/tracker/keyframe_policy.ts";
import {
  KeyframeTracker,
  type RefinementMode,
} from "../../src/segment/tracker/keyframe_tracker.ts";
import { parseInputSource } from "../../src/video/input_source.ts";
import { probeVideo } from "../../src/video/probe.ts";
import { DelayedSegmenter } from "../helpers/delayed_segmenter.ts";
import { RegionGrowingSegmenter } from "../helpers/region_growing_segmenter.ts";
import {
  SAMPLE_NAMES,
  sampleFrames,
  sampleGroundTruth,
  SAMPLES_DIR,
} from "../helpers/sample_frames.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    delays: { type: "string", default: "1,3,5,10,15" },
    settled: { type: "string", default: "15" },
  },
});
const delays = values.delays.split(",").map(Number);
const settledFrom = Number(values.settled);

interface Sample {
  readonly name: string;
  readonly frames: readonly Frame[];
  readonly truth: readonly Map<number, Uint8Array>[];
  readonly prompts: Awaited<ReturnType<typeof resolvePrompts>>;
}

interface Run {
  readonly all: number;
  readonly settled: number;
  readonly encoded: number;
}

async function loadSample(name: string): Promise<Sample> {
  const source = parseInputSource(`${SAMPLES_DIR}/${name}/video.mp4`);
  const info = await probeVideo(source);
  const prompts = resolvePrompts(
    await readPromptsFile(`${SAMPLES_DIR}/${name}/prompts.json`),
    info,
  );
  const frames = await sampleFrames(name, [...Array(info.frameCount ?? 0).keys()]);
  const truth = await Promise.all(frames.map((f) => sampleGroundTruth(name, f.index)));
  return { name, frames, truth, prompts };
}

/**
 * Tracks a sample frame by frame. With a delay, one frame's time passes per frame and while a step
 * waits for the model (a user prompt waits for the refinement under way).
 */
async function track(
  sample: Sample,
  policy: KeyframePolicy,
  refine: RefinementMode,
  delay: number,
): Promise<Run> {
  const delayed = new DelayedSegmenter(new RegionGrowingSegmenter(), delay);
  const segmenter: Segmenter = delay > 0 ? delayed : new RegionGrowingSegmenter();
  const tracker = new KeyframeTracker(segmenter, sample.prompts, { keyframes: { policy, refine } });
  const all = new SequenceEvaluator(), settled = new SequenceEvaluator();
  for (const frame of sample.frames) {
    delayed.tick();
    await delayed.settled();
    let done = false;
    const step = tracker.step(frame).finally(() => done = true);
    await delayed.settled();
    while (!done) {
      delayed.tick();
      await delayed.settled();
    }
    const masks = await step;
    const predicted = new Map(masks.objects.map((o) => [o.id, o.mask.data]));
    const size = { frameIndex: frame.index, width: frame.width, height: frame.height };
    const truth = { ...size, masks: sample.truth[frame.index] };
    all.addFrame(truth, { ...size, masks: predicted });
    if (frame.index >= settledFrom) settled.addFrame(truth, { ...size, masks: predicted });
  }
  for (let i = 0; i <= delay; i++) delayed.tick();
  await tracker.settle();
  return {
    all: all.finish().jfMean,
    settled: settled.finish().jfMean,
    encoded: tracker.counts().encoded,
  };
}

const samples = await Promise.all(SAMPLE_NAMES.map(loadSample));
const rows: { label: string; runs: Run[] }[] = [];
const runAll = async (label: string, run: (s: Sample) => Promise<Run>) => {
  const runs: Run[] = [];
  for (const sample of samples) runs.push(await run(sample));
  rows.push({ label, runs });
};
await runAll("every frame, sync", (s) => track(s, fixedStride(1), "sync", 0));
await runAll("auto, sync", (s) => track(s, adaptiveKeyframes(), "sync", 0));
for (const d of delays) {
  await runAll(`auto, async, d = ${d}`, (s) => track(s, adaptiveKeyframes(), "async", d));
}

const header = samples.map((s) => `${s.name} all | ${s.name} from ${settledFrom}`).join(" | ");
console.log(`| run | ${header} | encoded |`);
console.log(`| --- | ${samples.map(() => "--- | ---").join(" | ")} | --- |`);
for (const { label, runs } of rows) {
  const cells = runs.map((r) => `${r.all.toFixed(3)} | ${r.settled.toFixed(3)}`).join(" | ");
  console.log(`| ${label} | ${cells} | ${runs.map((r) => r.encoded).join(" / ")} |`);
}
