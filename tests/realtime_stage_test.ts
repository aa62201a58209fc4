/**
 * The live segmentation stage while its model opens, with the opening held by the test: frames
 * that arrive before the model is open go out without masks and are counted as such, and the
 * keyframe report counts exactly the others, however long the opening takes.
 */
import assert from "node:assert/strict";
import { lastValueFrom, Subject, toArray } from "rxjs";
import { chooseSegmentation, type RealtimeReport } from "../src/cli/segmentation_stage.ts";
import { resolveRealtime } from "../src/cli/realtime_args.ts";
import type { Frame } from "../src/frame.ts";
import type { Segmenter } from "../src/segment/segmenter.ts";
import { parsePointFlag } from "../src/segment/prompts.ts";
import { RegionGrowingSegmenter } from "./helpers/region_growing_segmenter.ts";
import { sampleFrames } from "./helpers/sample_frames.ts";

const FRAMES = await sampleFrames("occlusion", Array.from({ length: 24 }, (_, i) => i));

/** A model opening the test completes when it chooses. */
function gatedModel() {
  let release!: () => void;
  const released = new Promise<void>((resolve) => release = resolve);
  const segmenter = new RegionGrowingSegmenter();
  return {
    segmenter,
    release,
    open: async (): Promise<Segmenter> => {
      await released;
      return segmenter;
    },
  };
}

for (const before of [0, 1, 7, 24]) {
  Deno.test(`a live stage whose model opens after ${before} frames: unmasked and keyframe counts add up`, async () => {
    const model = gatedModel();
    let unmasked = 0;
    let opened!: (framesBefore: number) => void;
    const openedAfter = new Promise<number>((resolve) => opened = resolve);
    let report: RealtimeReport | undefined;
    const { stage } = chooseSegmentation([parsePointFlag("150,153", true, "--point")], {
      precision: "fp32",
    }, {
      realtime: resolveRealtime({}, true),
      openModel: model.open,
      passWhileOpening: true,
      onUnmaskedFrame: () => unmasked++,
      onModelOpen: (framesBefore) => opened(framesBefore),
      onRealtimeReport: (r) => report = r,
    });
    const input = new Subject<Frame>();
    const output = lastValueFrom(input.pipe(stage, toArray()));
    FRAMES.slice(0, before).forEach((frame) => input.next(frame));
    model.release();
    assert.equal(await openedAfter, before);
    FRAMES.slice(before).forEach((frame) => input.next(frame));
    input.complete();
    const out = await output;

    assert.equal(out.length, FRAMES.length);
    assert.equal(unmasked, before);
    assert.ok(out.slice(0, before).every((item) => item.masks.objects.length === 0));
    assert.ok(report, "a tracking run reports its keyframes");
    assert.equal(report.counts.frames + unmasked, out.length);
    if (before === FRAMES.length) return; // no frame came after the opening
    assert.ok(report.counts.encoded >= 1, "the first frame after the opening is a keyframe");
  });
}
