/**
 * The tracker's state as a discovery step (an everything pass) uses it: reading objects, adding
 * new ones, re-acquiring lost ones under their old id, refreshing tracked ones.
 */
import assert from "node:assert/strict";
import type { BinaryMask } from "../src/segment/mask.ts";
import { maskFromLogits, outputLogits } from "../src/segment/segmenter.ts";
import type { Observation } from "../src/segment/tracker/object_state.ts";
import { type DiscoveryStep, ObjectTracker } from "../src/segment/tracker/object_tracker.ts";
import { TrackerState } from "../src/segment/tracker/tracker_state.ts";
import {
  type Disc,
  discCentre,
  discMask,
  discPrompt,
  hueRgb,
  maskIou,
  renderDiscFrames,
} from "./helpers/disc_scene.ts";
import { observeAt } from "./helpers/observe.ts";
import { RegionGrowingSegmenter } from "./helpers/region_growing_segmenter.ts";

const WIDTH = 320, HEIGHT = 240;

function disjoint(masks: readonly BinaryMask[]): boolean {
  for (let i = 0; i < WIDTH * HEIGHT; i++) {
    let owners = 0;
    for (const m of masks) owners += m.data[i];
    if (owners > 1) return false;
  }
  return true;
}

Deno.test("a discovery step adds an object under the next free id, above ids reserved by later prompts, and it is tracked from then on", async () => {
  const a: Disc = { id: 1, x: 60, y: 60, radius: 16, vx: 1.5, vy: 0.5, rgb: hueRgb(0) };
  const b: Disc = { id: 2, x: 200, y: 70, radius: 20, vx: -1, vy: 1, rgb: hueRgb(120) };
  const c: Disc = { id: 3, x: 160, y: 190, radius: 18, vx: 0.5, vy: -0.5, rgb: hueRgb(240) };
  const discs = [a, b, c];
  const segmenter = new RegionGrowingSegmenter();
  let added: number | undefined;
  const discovery: DiscoveryStep = {
    runsOn: (frameIndex) => frameIndex === 2,
    discover: async ({ frame, embedding, segmenter, state }) => {
      assert.deepEqual(state.objects().map((o) => [o.id, o.status]), [[1, "tracked"]]);
      const centre = discCentre(b, frame.index);
      added = state.add(await observeAt(segmenter, embedding, centre.x, centre.y), "found");
    },
  };
  const tracker = new ObjectTracker(segmenter, [discPrompt(a, 0), discPrompt(c, 6, false, 4)], {
    discovery,
  });
  const frames = renderDiscFrames(WIDTH, HEIGHT, discs, 10);
  for (const frame of frames) {
    const { objects } = await tracker.step(frame);
    const t = frame.index;
    const expected = t < 2 ? [1] : t < 6 ? [1, 5] : [1, 4, 5];
    assert.deepEqual(objects.map((o) => o.id), expected, `frame ${t}`);
    const truth: Record<number, Disc> = { 1: a, 4: c, 5: b };
    for (const o of objects) {
      const iou = maskIou(o.mask, discMask(WIDTH, HEIGHT, discs, truth[o.id].id, t));
      assert.ok(iou >= 0.9, `object ${o.id} frame ${t}: IoU ${iou.toFixed(3)}`);
    }
    if (t === 2) assert.equal(objects.find((o) => o.id === 5)?.label, "found");
  }
  assert.equal(added, 5);
  assert.equal(segmenter.calls.decodes, 10 + 1, "one tracker call per frame plus the discovery's");
});

Deno.test("a discovery step re-acquires a lost object under its old id", async () => {
  // Disc A passes behind a large untracked disc D, drawn on top, and comes out again.
  const a: Disc = { id: 1, x: 60, y: 120, radius: 14, vx: 6, vy: 0, rgb: hueRgb(0) };
  const d: Disc = { id: 9, x: 150, y: 120, radius: 40, rgb: hueRgb(200) };
  const discs = [a, d];
  const seen: string[] = [];
  let reacquiredOn: number | undefined;
  const discovery: DiscoveryStep = {
    runsOn: () => true,
    discover: async ({ frame, embedding, segmenter, state }) => {
      const view = state.object(1)!;
      seen.push(view.status);
      if (view.status !== "lost") return;
      assert.ok(view.lossReason !== undefined);
      assert.ok(view.lostSince! <= frame.index);
      assert.ok(view.expectedBox[0] > view.box[0], "expected box moved along the motion");
      const truth = discMask(WIDTH, HEIGHT, discs, 1, frame.index);
      const visible = truth.data.reduce((s, v) => s + v, 0);
      if (visible < 0.9 * Math.PI * a.radius ** 2) return;
      const centre = discCentre(a, frame.index);
      const found = await observeAt(segmenter, embedding, centre.x, centre.y);
      assert.ok(state.similarity(1, found.mask) > 0.5, "same colours as before");
      state.reacquire(1, found);
      reacquiredOn = frame.index;
    },
  };
  const tracker = new ObjectTracker(new RegionGrowingSegmenter(), [discPrompt(a, 0)], {
    discovery,
    reacquisition: { forFrames: 0 }, // only the discovery step may find it again
  });
  const drawn: number[][] = [];
  for (const frame of renderDiscFrames(WIDTH, HEIGHT, discs, 30)) {
    const { objects } = await tracker.step(frame);
    drawn.push(objects.map((o) => o.id));
    for (const o of objects) {
      assert.ok(
        maskIou(o.mask, discMask(WIDTH, HEIGHT, discs, 1, frame.index)) >= 0.5,
        `frame ${frame.index}: object 1 drawn where it is not`,
      );
    }
  }
  assert.ok(seen.includes("lost"));
  assert.ok(reacquiredOn !== undefined, "re-acquired");
  assert.deepEqual(drawn[reacquiredOn!], [1]);
  assert.deepEqual(drawn.at(-1), [1], "tracked after the re-acquisition");
  assert.equal(tracker.state.object(1)!.status, "tracked");
});

Deno.test("refreshing a tracked object replaces its mask on that frame; overlaps are then resolved", async () => {
  const a: Disc = { id: 1, x: 100, y: 120, radius: 22, rgb: hueRgb(0) };
  const b: Disc = { id: 2, x: 150, y: 120, radius: 22, rgb: hueRgb(130) };
  const discs = [a, b];
  let observation: BinaryMask | undefined;
  const discovery: DiscoveryStep = {
    runsOn: (frameIndex) => frameIndex === 3,
    discover: async ({ embedding, segmenter, state }) => {
      // A coarse box prompt over both discs: a mask reaching into object 2.
      const [decoded] = await segmenter.decode(embedding, [{
        points: [{ x: 100, y: 120, positive: true }],
        box: [70, 90, 180, 150],
      }]);
      const lowResLogits = outputLogits(decoded, 3);
      const logits = segmenter.upscaleLogits(embedding, lowResLogits);
      const mask = maskFromLogits(logits, WIDTH, HEIGHT);
      for (let y = 110; y < 130; y++) for (let x = 100; x < 160; x++) mask.data[y * WIDTH + x] = 1;
      observation = mask;
      state.refresh(1, { mask, lowResLogits, score: 0.99 });
    },
  };
  const tracker = new ObjectTracker(
    new RegionGrowingSegmenter(),
    [discPrompt(a, 0), discPrompt(b, 0)],
    { discovery },
  );
  for (const frame of renderDiscFrames(WIDTH, HEIGHT, discs, 5)) {
    const { objects } = await tracker.step(frame);
    assert.deepEqual(objects.map((o) => o.id), [1, 2]);
    assert.ok(
      disjoint(objects.map((o) => o.mask)),
      `frame ${frame.index}: a pixel has two objects`,
    );
    if (frame.index === 3) {
      const one = objects[0].mask;
      for (let i = 0; i < one.data.length; i++) {
        if (one.data[i]) assert.equal(observation!.data[i], 1);
      }
      const changed = maskIou(one, discMask(WIDTH, HEIGHT, discs, 1, 3));
      assert.ok(changed < 0.99, "the refreshed mask is the observation, not the propagated one");
      assert.equal(objects[0].score, 0.99);
    }
  }
});

Deno.test("TrackerState: changes only during a discovery step, known ids only, at most maxObjects", () => {
  const state = new TrackerState([3, 7], 2);
  const observation: Observation = {
    mask: { width: 4, height: 4, data: new Uint8Array(16).fill(1) },
    lowResLogits: new Float32Array(256 * 256),
    score: 0.9,
  };
  assert.throws(() => state.add(observation), /only allowed during a discovery step/);
  assert.throws(() => state.refresh(1, observation), /only allowed during a discovery step/);
  const frame = { index: 0, ptsSeconds: 0, width: 4, height: 4, data: new Uint8Array(48) };
  state.beginFrame(0);
  state.beginUpdates(frame, new Map());
  assert.throws(() => state.refresh(1, observation), /no object with id 1/);
  assert.throws(
    () => state.add({ ...observation, mask: { width: 2, height: 2, data: new Uint8Array(4) } }),
    /observation mask is 2x2, the frame is 4x4/,
  );
  assert.equal(
    state.add({ ...observation, mask: { width: 4, height: 4, data: new Uint8Array(16) } }),
    undefined,
    "empty mask",
  );
  assert.equal(state.add(observation), 8, "above the reserved ids");
  assert.equal(state.add(observation), 9);
  assert.equal(state.add(observation), undefined, "maxObjects reached");
  assert.equal(state.endUpdates().size, 2);
  assert.deepEqual(state.objects().map((o) => [o.id, o.status, o.area]), [[8, "tracked", 16], [
    9,
    "tracked",
    16,
  ]]);
});

Deno.test("TrackerState: when full, adding forgets the object lost the longest, never a tracked one", () => {
  const state = new TrackerState([], 3);
  const observation: Observation = {
    mask: { width: 4, height: 4, data: new Uint8Array(16).fill(1) },
    lowResLogits: new Float32Array(256 * 256),
    score: 0.9,
  };
  const frame = { index: 0, ptsSeconds: 0, width: 4, height: 4, data: new Uint8Array(48) };
  state.beginFrame(0);
  state.beginUpdates(frame, new Map());
  assert.deepEqual([state.add(observation), state.add(observation), state.add(observation)], [
    1,
    2,
    3,
  ]);
  state.endUpdates();
  const lose = (id: number, since: number) =>
    Object.assign(state.track(id)!, { status: "lost", lostSince: since });
  lose(1, 40);
  lose(3, 10);
  state.beginFrame(50);
  state.beginUpdates({ ...frame, index: 50 }, new Map());
  assert.equal(state.add(observation), 4, "object 3, lost since frame 10, made room");
  assert.equal(state.add(observation), 5, "then object 1");
  assert.equal(state.add(observation), undefined, "only tracked objects left: full");
  state.endUpdates();
  assert.deepEqual(state.objects().map((o) => o.id), [2, 4, 5]);
});
