/**
 * Keyframes: the encoder runs only on the frames a policy picks, objects are carried by motion in
 * between, prompts and discovery passes fall on keyframes, stride 1 is exactly the frame-by-frame
 * tracker, and the adaptive policy encodes more often when the scene moves faster.
 */
import assert from "node:assert/strict";
import { from, lastValueFrom, toArray } from "rxjs";
import type { Frame } from "../src/frame.ts";
import type { SegmentedFrame } from "../src/segment/mask.ts";
import { NO_MOTION } from "../src/segment/motion/similarity.ts";
import type { ObjectPrompt } from "../src/segment/prompts.ts";
import {
  adaptiveKeyframes,
  fixedStride,
  type KeyframeEvidence,
} from "../src/segment/tracker/keyframe_policy.ts";
import { type KeyframeCounts, KeyframeTracker } from "../src/segment/tracker/keyframe_tracker.ts";
import type { CarriedObject } from "../src/segment/tracker/motion_propagation.ts";
import type { DiscoveryStep } from "../src/segment/tracker/object_tracker.ts";
import { trackObjects, type TrackObjectsOptions } from "../src/segment/tracker/track_objects.ts";
import {
  type Disc,
  discCentre,
  discMask,
  discPrompt,
  hueRgb,
  maskIou,
  renderDiscFrame,
  renderDiscFrames,
} from "./helpers/disc_scene.ts";
import { DelayedSegmenter } from "./helpers/delayed_segmenter.ts";
import { observeAt } from "./helpers/observe.ts";
import { RegionGrowingSegmenter } from "./helpers/region_growing_segmenter.ts";

const WIDTH = 480, HEIGHT = 270;

async function track(
  frames: readonly Frame[],
  prompts: readonly ObjectPrompt[],
  options: TrackObjectsOptions,
): Promise<{ out: SegmentedFrame[]; segmenter: RegionGrowingSegmenter; counts?: KeyframeCounts }> {
  const segmenter = new RegionGrowingSegmenter();
  let counts: KeyframeCounts | undefined;
  const out = await lastValueFrom(
    from(frames).pipe(
      trackObjects(segmenter, prompts, { ...options, onKeyframeCounts: (c) => counts = c }),
      toArray(),
    ),
  );
  return { out, segmenter, counts };
}

/** Mean IoU of every drawn object against the scene's truth, and the worst one. */
function accuracy(out: readonly SegmentedFrame[], discs: readonly Disc[]) {
  let sum = 0, n = 0, worst = 1;
  for (const item of out) {
    for (const object of item.masks.objects) {
      const iou = maskIou(object.mask, discMask(WIDTH, HEIGHT, discs, object.id, item.frame.index));
      sum += iou;
      n++;
      worst = Math.min(worst, iou);
    }
  }
  return { mean: n > 0 ? sum / n : 0, worst, drawn: n };
}

const twoDiscs: Disc[] = [
  { id: 1, x: 120, y: 100, radius: 24, vx: 2, vy: 0.5, rgb: hueRgb(0) },
  { id: 2, x: 330, y: 170, radius: 30, vx: -1.5, vy: -0.5, rgb: hueRgb(200) },
];

Deno.test("with stride 1 the keyframe tracker is exactly the frame-by-frame tracker", async () => {
  const frames = renderDiscFrames(WIDTH, HEIGHT, twoDiscs, 12);
  const prompts = twoDiscs.map((d) => discPrompt(d, 0));
  const plain = await track(frames, prompts, {});
  const keyed = await track(frames, prompts, { keyframes: { policy: fixedStride(1) } });
  assert.deepEqual(keyed.segmenter.calls, plain.segmenter.calls);
  assert.equal(keyed.out.length, plain.out.length);
  plain.out.forEach((item, i) => {
    const other = keyed.out[i].masks;
    assert.deepEqual(
      other.objects.map((o) => [o.id, o.score, o.bbox]),
      item.masks.objects.map((o) => [o.id, o.score, o.bbox]),
    );
    item.masks.objects.forEach((o, k) => assert.deepEqual(other.objects[k].mask.data, o.mask.data));
  });
  assert.deepEqual(keyed.counts, {
    frames: 12,
    keyframes: 12,
    encoded: 12,
    reasons: { stride: 12 },
    folded: 0,
    meanFoldDelay: 0,
    discoveryPasses: 0,
    meanDiscoveryDelay: 0,
    maxDiscoveryDelay: 0,
    discoverySkipped: 0,
    discoveriesLanded: 0,
    meanDiscoveryFrames: 0,
  });
});

Deno.test("stride N encodes every N-th frame and every prompt frame; objects are carried in between", async () => {
  const frames = renderDiscFrames(WIDTH, HEIGHT, twoDiscs, 20);
  // A correction for object 2 on frame 6 forces a keyframe there; counting restarts from it.
  const prompts = [
    discPrompt(twoDiscs[0], 0),
    discPrompt(twoDiscs[1], 0),
    discPrompt(twoDiscs[1], 6),
  ];
  const { out, segmenter, counts } = await track(frames, prompts, {
    keyframes: { policy: fixedStride(4) },
  });
  assert.equal(out.length, 20);
  assert.equal(segmenter.calls.embeds, 6, "frames 0, 4, 6, 10, 14, 18");
  assert.deepEqual(counts?.reasons, { forced: 2, stride: 4 });
  const { mean, worst, drawn } = accuracy(out, twoDiscs);
  assert.equal(drawn, 40, "both objects on every frame");
  assert.ok(
    mean >= 0.93 && worst >= 0.85,
    `mean IoU ${mean.toFixed(3)}, worst ${worst.toFixed(3)}`,
  );
});

Deno.test("the adaptive policy encodes more often when the scene moves faster, and keeps the masks accurate", async () => {
  const encodes: number[] = [];
  for (const speed of [0.5, 1.5, 4]) {
    const disc: Disc = {
      id: 1,
      x: 40,
      y: 80,
      radius: 22,
      vx: speed,
      vy: speed / 4,
      rgb: hueRgb(120),
    };
    const frames = renderDiscFrames(WIDTH, HEIGHT, [disc], 60);
    const { out, segmenter } = await track(frames, [discPrompt(disc, 0)], {
      keyframes: { policy: adaptiveKeyframes() },
    });
    const { mean, worst } = accuracy(out, [disc]);
    assert.ok(
      mean >= 0.93 && worst >= 0.85,
      `speed ${speed}: mean IoU ${mean.toFixed(3)}, worst ${worst.toFixed(3)}`,
    );
    encodes.push(segmenter.calls.embeds);
  }
  assert.ok(
    encodes[0] < encodes[1] && encodes[1] < encodes[2],
    `encodes at 0.5, 1.5, 4 px/frame: ${encodes}`,
  );
  assert.ok(encodes[2] < 60, `even the fast scene skips frames (${encodes[2]} of 60)`);
});

Deno.test("discovery passes run on keyframes, with that frame's embedding", async () => {
  const frames = renderDiscFrames(WIDTH, HEIGHT, twoDiscs, 22);
  const discovered: number[] = [];
  const discovery: DiscoveryStep = {
    runsOn: (frameIndex) => frameIndex % 7 === 0,
    discover: ({ frame, embedding }) => {
      assert.equal(embedding.frameWidth, frame.width);
      discovered.push(frame.index);
    },
  };
  const { segmenter } = await track(frames, twoDiscs.map((d) => discPrompt(d, 0)), {
    discovery,
    keyframes: { policy: fixedStride(10) },
  });
  assert.deepEqual(discovered, [0, 7, 14, 21]);
  assert.equal(
    segmenter.calls.embeds,
    4,
    "frames 0, 7, 14, 21 (forced; the stride restarts from each)",
  );
});

Deno.test("live, a discovery pass runs beside tracking: refinements land while it runs, passes due meanwhile are skipped and counted, and its finds join the refined objects", async () => {
  const frames = renderDiscFrames(WIDTH, HEIGHT, twoDiscs, 40);
  // Disc 1 is prompted; disc 2 is left for discovery. Passes are due every 8 frames; the first
  // holds until the test opens its gate on frame 24, the second returns at once.
  let gate!: () => void;
  const opened = new Promise<void>((resolve) => gate = resolve);
  const started: number[] = [];
  let last = -Infinity;
  const discovery: DiscoveryStep = {
    every: 8,
    runsOn: (frameIndex) => frameIndex - last >= 8,
    discover: async ({ frame, embedding, segmenter, state }) => {
      last = frame.index;
      started.push(frame.index);
      if (started.length === 1) await opened;
      if (state.objects().some((o) => o.id === 2)) return;
      const centre = discCentre(twoDiscs[1], frame.index);
      state.add(await observeAt(segmenter, embedding, centre.x, centre.y));
    },
  };
  // Every embedding takes 2 frames.
  const segmenter = new DelayedSegmenter(new RegionGrowingSegmenter(), 2);
  const tracker = new KeyframeTracker(segmenter, [discPrompt(twoDiscs[0], 0)], {
    discovery,
    keyframes: { policy: fixedStride(3), refine: "async" },
  });
  const drawn: number[][] = [];
  let foldedBeforeGate = 0;
  for (const frame of frames) {
    if (frame.index === 24) {
      foldedBeforeGate = tracker.counts().folded;
      gate();
    }
    segmenter.tick();
    await segmenter.settled();
    const masks = await tracker.step(frame);
    drawn.push(masks.objects.map((o) => o.id));
    for (const o of masks.objects) {
      const iou = maskIou(o.mask, discMask(WIDTH, HEIGHT, twoDiscs, o.id, frame.index));
      assert.ok(iou >= 0.8, `object ${o.id} on frame ${frame.index}: IoU ${iou.toFixed(3)}`);
    }
  }
  for (let i = 0; i < 4; i++) segmenter.tick();
  await tracker.settle();
  // The first pass waits for the prompt's refinement (keyframe 0, landed on frame 2); tracking
  // refinements keep landing while it runs.
  assert.equal(started[0], 2);
  assert.ok(foldedBeforeGate >= 5, `${foldedBeforeGate} refinements landed during the pass`);
  // Its find is drawn from its landing on, beside the tracked disc, until the end.
  const firstWithBoth = drawn.findIndex((ids) => ids.includes(2));
  assert.ok(firstWithBoth >= 24 && firstWithBoth <= 27, `disc 2 first drawn on ${firstWithBoth}`);
  for (const ids of drawn.slice(firstWithBoth)) assert.deepEqual(ids, [1, 2]);
  // Passes were due on 10 and 18 while the first ran: the next starts once it has landed, in
  // place of the one due on 18; the one due on 10 never started.
  assert.ok(started[1] >= 24 && started[1] <= 27, `second pass on ${started[1]}`);
  const counts = tracker.counts();
  assert.equal(counts.discoverySkipped, 1);
  assert.equal(counts.maxDiscoveryDelay, started[1] - 18);
  assert.equal(counts.discoveriesLanded, started.length);
  assert.ok(counts.discoveryPasses === started.length);
});

Deno.test("an object carried out of the frame is lost and no longer drawn", async () => {
  const disc: Disc = { id: 1, x: 400, y: 130, radius: 20, vx: 6, vy: 0, rgb: hueRgb(60) };
  const frames = renderDiscFrames(WIDTH, HEIGHT, [disc], 30);
  const { out } = await track(frames, [discPrompt(disc, 0)], {
    keyframes: { policy: fixedStride(50) },
  });
  // The disc is fully outside from frame 21 on (centre beyond 500).
  for (const item of out) {
    const visible = discMask(WIDTH, HEIGHT, [disc], 1, item.frame.index).data.some((v) => v !== 0);
    if (!visible) {
      assert.equal(item.masks.objects.length, 0, `frame ${item.frame.index} still draws it`);
    }
  }
  assert.equal(out[5].masks.objects.length, 1);
});

function carried(overrides: Partial<CarriedObject> = {}): CarriedObject {
  return {
    id: 1,
    step: { motion: NO_MOTION, residual: 1, inlierShare: 1, conditioning: 10, points: 100 },
    sinceAnchor: NO_MOTION,
    framesSinceAnchor: 1,
    travelPx: 0,
    sizePx: 40,
    areaShare: 1,
    ...overrides,
  };
}

function evidence(frameIndex: number, overrides: Partial<KeyframeEvidence> = {}): KeyframeEvidence {
  return { frameIndex, forced: false, carried: [carried()], searching: 0, ...overrides };
}

Deno.test("fixed stride: every N-th frame from the last keyframe, and forced frames", () => {
  const policy = fixedStride(3);
  const picked: number[] = [];
  for (let i = 0; i < 10; i++) {
    if (policy.decide(evidence(i, { forced: i === 0 || i === 4 }))) {
      policy.encoded(i);
      picked.push(i);
    }
  }
  assert.deepEqual(picked, [0, 3, 4, 7]);
  assert.equal(fixedStride(1).everyFrame, true);
  assert.throws(() => fixedStride(0), RangeError);
});

Deno.test("adaptive policy: why a frame becomes a keyframe", () => {
  const at = (e: KeyframeEvidence, lastKeyframe = 0, options = {}) => {
    const policy = adaptiveKeyframes(options);
    policy.encoded(lastKeyframe);
    return policy.decide(e);
  };
  assert.equal(at(evidence(5)), undefined, "nothing moved");
  assert.equal(at(evidence(5, { forced: true })), "forced");
  assert.equal(at(evidence(30)), "max-interval");
  assert.equal(
    at(evidence(5, { carried: [carried({ travelPx: 25 })] })),
    "travel",
    "25 px of a 40 px object",
  );
  assert.equal(at(evidence(5, { carried: [carried({ travelPx: 15 })] })), undefined);
  assert.equal(
    at(evidence(5, { carried: [carried({ sinceAnchor: { a: 1.2, b: 0, tx: 0, ty: 0 } })] })),
    "scale",
  );
  assert.equal(
    at(evidence(5, {
      carried: [
        carried({
          step: { motion: NO_MOTION, residual: 40, inlierShare: 0.3, conditioning: 5, points: 80 },
        }),
      ],
    })),
    "fit",
  );
  assert.equal(at(evidence(5, { carried: [carried({ areaShare: 0.5 })] })), "partial");
  assert.equal(
    at(evidence(1, { carried: [carried({ areaShare: 0.5 })] })),
    undefined,
    "partial waits 2 frames",
  );
  assert.equal(at(evidence(3, { searching: 1 })), "search");
  assert.equal(at(evidence(5, { carried: [carried({ lost: "too-small" })] })), "lost");
  assert.equal(
    at(evidence(5, { carried: [carried({ lost: "left-frame" })] })),
    undefined,
    "gone for good",
  );
  assert.equal(
    at(evidence(1, { carried: [carried({ travelPx: 99 })] }), 0, { minInterval: 2 }),
    undefined,
  );
});

Deno.test("asynchronous refinement: every frame is emitted at once with carried masks; refinements are taken over later", async () => {
  const frames = renderDiscFrames(WIDTH, HEIGHT, twoDiscs, 30);
  const inner = new RegionGrowingSegmenter();
  const segmenter = new DelayedSegmenter(inner, 3);
  const tracker = new KeyframeTracker(segmenter, twoDiscs.map((d) => discPrompt(d, 0)), {
    keyframes: { policy: fixedStride(6), refine: "async" },
  });
  const drawn: number[] = [];
  let sum = 0, n = 0;
  for (const frame of frames) {
    segmenter.tick();
    await segmenter.settled();
    // The step resolves while an embedding is still held back: it never waits for the model.
    const masks = await tracker.step(frame);
    drawn.push(masks.objects.length);
    for (const object of masks.objects) {
      sum += maskIou(object.mask, discMask(WIDTH, HEIGHT, twoDiscs, object.id, frame.index));
      n++;
    }
  }
  for (let i = 0; i < 4; i++) segmenter.tick();
  await tracker.settle();
  // The objects of the frame-0 prompts appear once that refinement is taken over (3 frames later).
  assert.deepEqual(drawn.slice(0, 4), [0, 0, 0, 2]);
  assert.ok(drawn.slice(3).every((count) => count === 2), `objects drawn per frame: ${drawn}`);
  const counts = tracker.counts();
  assert.equal(counts.folded, 5, "keyframes 0, 6, 12, 18, 24 taken over (30 is past the end)");
  assert.equal(counts.meanFoldDelay, 3);
  assert.ok(sum / n >= 0.93, `mean IoU ${(sum / n).toFixed(3)}`);
});

Deno.test("asynchronous refinement starts no optional keyframe while one is under way", async () => {
  const frames = renderDiscFrames(WIDTH, HEIGHT, twoDiscs, 20);
  const segmenter = new DelayedSegmenter(new RegionGrowingSegmenter(), 8);
  const tracker = new KeyframeTracker(segmenter, twoDiscs.map((d) => discPrompt(d, 0)), {
    keyframes: { policy: fixedStride(2), refine: "async" },
  });
  let mostPending = 0;
  for (const frame of frames) {
    segmenter.tick();
    await segmenter.settled();
    await tracker.step(frame);
    mostPending = Math.max(mostPending, segmenter.pending);
  }
  for (let i = 0; i < 9; i++) segmenter.tick();
  await tracker.settle();
  assert.equal(mostPending, 1);
  // Keyframes 0, 8 (first free frame after 0's refinement lands), 16.
  assert.equal(tracker.counts().encoded, 3);
});

Deno.test("asynchronous refinement searches for a lost object on every keyframe, past the search schedule", async () => {
  // A disc hides for 30 frames and comes back where it was; searches stop 10 frames after a
  // loss on the schedule, which a keyframe refined in the background does not follow.
  const disc: Disc = { id: 1, x: 240, y: 135, radius: 28, rgb: hueRgb(30) };
  const frames = Array.from(
    { length: 60 },
    (_, t) => renderDiscFrame(WIDTH, HEIGHT, t >= 10 && t < 40 ? [] : [disc], t),
  );
  const drawnAtEnd = async (refine: "sync" | "async") => {
    const segmenter = new DelayedSegmenter(new RegionGrowingSegmenter(), refine === "sync" ? 0 : 1);
    const tracker = new KeyframeTracker(segmenter, [discPrompt(disc, 0)], {
      keyframes: { policy: fixedStride(3), refine },
      reacquisition: { forFrames: 10 },
    });
    let drawn = 0;
    for (const frame of frames) {
      segmenter.tick();
      await segmenter.settled();
      const masks = await tracker.step(frame);
      if (frame.index >= 50) drawn += masks.objects.length;
    }
    segmenter.tick();
    await tracker.settle();
    return drawn;
  };
  assert.equal(await drawnAtEnd("sync"), 0, "the schedule has given up on the object");
  assert.equal(await drawnAtEnd("async"), 10, "found again, drawn on frames 50-59");
});

Deno.test("asynchronous refinement: objects new on a keyframe are moved on by their measured motion when the refinement lands many frames later", async () => {
  // Fast discs and a refinement 12 frames late: the first refinement's masks are 24-54 px behind.
  const fast: Disc[] = [
    { id: 1, x: 110, y: 110, radius: 26, vx: 3, vy: 1, rgb: hueRgb(0) },
    { id: 2, x: 360, y: 160, radius: 30, vx: -2, vy: -1, rgb: hueRgb(200) },
    // Small and fast: 54 px in 12 frames, several times its own size.
    { id: 3, x: 50, y: 225, radius: 10, vx: 4.5, vy: 0, rgb: hueRgb(110) },
  ];
  const frames = renderDiscFrames(WIDTH, HEIGHT, fast, 36);
  const segmenter = new DelayedSegmenter(new RegionGrowingSegmenter(), 12);
  const tracker = new KeyframeTracker(segmenter, fast.map((d) => discPrompt(d, 0)), {
    keyframes: { policy: fixedStride(100), refine: "async" },
  });
  const worst = new Map<number, number>();
  for (const frame of frames) {
    segmenter.tick();
    await segmenter.settled();
    const masks = await tracker.step(frame);
    for (const object of masks.objects) {
      const iou = maskIou(object.mask, discMask(WIDTH, HEIGHT, fast, object.id, frame.index));
      worst.set(object.id, Math.min(worst.get(object.id) ?? 1, iou));
    }
    if (frame.index === 13) {
      // The velocity is per frame: the 12 frames between keyframe and fold are not one step.
      for (const disc of fast) {
        const { velocity } = [...tracker.state.tracks()].find((t) => t.id === disc.id)!;
        assert.ok(
          Math.hypot(velocity.x - disc.vx!, velocity.y - disc.vy!) < 0.5,
          `disc ${disc.id}: velocity ${JSON.stringify(velocity)} after the fold`,
        );
      }
    }
  }
  await tracker.settle();
  assert.equal(tracker.counts().folded, 1);
  // Every frame from the fold on, carried by motion alone (no later keyframe).
  for (const disc of fast) {
    const iou = worst.get(disc.id) ?? 0;
    // A pixel off costs the small disc (20 px across) about 0.1.
    const least = disc.radius < 20 ? 0.7 : 0.85;
    assert.ok(iou >= least, `disc ${disc.id}: worst IoU ${iou.toFixed(3)} after the fold`);
  }
});

Deno.test("between keyframes, a plain object passing in front of another takes the pixels it covers from it", async () => {
  // The covered disc has the lower id, so a tie would leave it the pixels: only its own look on
  // its last keyframe (red, where the occluder is now blue) tells the two apart.
  const scene: Disc[] = [
    { id: 1, x: 230, y: 135, radius: 26, vx: 0.5, rgb: hueRgb(0) },
    { id: 2, x: 110, y: 140, radius: 44, vx: 5, rgb: hueRgb(220) },
  ];
  const frames = renderDiscFrames(WIDTH, HEIGHT, scene, 21);
  const tracker = new KeyframeTracker(
    new RegionGrowingSegmenter(),
    scene.map((d) => discPrompt(d, 0)),
    { keyframes: { policy: fixedStride(1000) } },
  );
  for (const frame of frames) {
    const masks = await tracker.step(frame);
    // From partly covered (frame 10) to four fifths covered (frame 20), carried by motion alone.
    if (frame.index < 10 || frame.index > 20) continue;
    for (const disc of scene) {
      const truth = discMask(WIDTH, HEIGHT, scene, disc.id, frame.index);
      const drawn = masks.objects.find((o) => o.id === disc.id);
      const iou = drawn ? maskIou(drawn.mask, truth) : 0;
      const least = disc.id === 1 ? 0.75 : 0.95;
      assert.ok(iou >= least, `frame ${frame.index}, disc ${disc.id}: IoU ${iou.toFixed(3)}`);
    }
  }
  assert.equal(tracker.counts().encoded, 1);
});
