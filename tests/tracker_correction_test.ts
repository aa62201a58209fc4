/**
 * A prompt for an object that already exists, on a later frame, is a correction: it replaces the
 * object's state (mask, motion, size, appearance), and tracking continues from it.
 */
import assert from "node:assert/strict";
import { ObjectTracker } from "../src/segment/tracker/object_tracker.ts";
import {
  type Disc,
  discCentre,
  discMask,
  discPrompt,
  hueRgb,
  maskIou,
  renderDiscFrames,
} from "./helpers/disc_scene.ts";
import { RegionGrowingSegmenter } from "./helpers/region_growing_segmenter.ts";

const WIDTH = 320, HEIGHT = 240;
const A: Disc = { id: 1, x: 70, y: 80, radius: 18, vx: 2, vy: 0.5, rgb: hueRgb(0) };
const B: Disc = { id: 2, x: 230, y: 160, radius: 24, vx: -1.5, vy: -1, rgb: hueRgb(200) };

Deno.test("a correction prompt on a later frame replaces the object's state and tracking follows the new object", async () => {
  const discs = [A, B];
  const frames = renderDiscFrames(WIDTH, HEIGHT, discs, 10);
  const segmenter = new RegionGrowingSegmenter({ recordPrompts: true });
  const correction = { ...discPrompt(B, 4, false, 1), label: "corrected" };
  const tracker = new ObjectTracker(segmenter, [discPrompt(A, 0), correction]);
  for (const frame of frames) {
    const masks = await tracker.step(frame);
    const t = frame.index;
    assert.deepEqual(masks.objects.map((o) => o.id), [1], `frame ${t}`);
    const followed = t < 4 ? A : B;
    const iou = maskIou(masks.objects[0].mask, discMask(WIDTH, HEIGHT, discs, followed.id, t));
    assert.ok(iou >= 0.9, `frame ${t}: IoU with disc ${followed.id} is ${iou.toFixed(3)}`);
    if (t >= 4) {
      assert.equal(maskIou(masks.objects[0].mask, discMask(WIDTH, HEIGHT, discs, A.id, t)), 0);
      assert.equal(masks.objects[0].label, "corrected");
    }
    if (t === 3) {
      const before = tracker.state.object(1)!;
      assert.ok(
        Math.abs(before.velocity.x - 2) < 0.75,
        `velocity before the correction ${before.velocity.x}`,
      );
    }
    if (t === 4) {
      const state = tracker.state.object(1)!;
      assert.equal(state.status, "tracked");
      assert.deepEqual(state.velocity, { x: 0, y: 0 }, "motion restarts at the correction");
      const c = discCentre(B, 4);
      assert.ok(Math.abs((state.box[0] + state.box[2]) / 2 - c.x) <= 1.5);
      assert.ok(Math.abs((state.box[1] + state.box[3]) / 2 - c.y) <= 1.5);
      assert.ok(
        Math.abs(state.referenceArea - Math.PI * B.radius ** 2) < 0.1 * Math.PI * B.radius ** 2,
      );
    }
  }
  assert.equal(segmenter.calls.decodes, 10);
  // Frame 4 decodes the correction itself (no mask input from the old object).
  const [onCorrection] = segmenter.decodedPrompts[4].prompts;
  assert.deepEqual(onCorrection.points, correction.points);
  assert.equal(onCorrection.maskInput, undefined);
  // Frame 5 propagates from the corrected state: mask input, a positive point inside disc B.
  const [next] = segmenter.decodedPrompts[5].prompts;
  assert.ok(next.maskInput);
  const positive = next.points.find((p) => p.positive)!;
  const bOn5 = discMask(WIDTH, HEIGHT, discs, B.id, 5);
  assert.equal(bOn5.data[Math.round(positive.y) * WIDTH + Math.round(positive.x)], 1);
});

Deno.test("a correction of a lost object brings it back under its id", async () => {
  // Disc A leaves through the right edge, then the user points at disc B as object 1.
  const leaving: Disc = { id: 1, x: 280, y: 60, radius: 14, vx: 12, vy: 0, rgb: hueRgb(0) };
  const discs = [leaving, B];
  const frames = renderDiscFrames(WIDTH, HEIGHT, discs, 12);
  const tracker = new ObjectTracker(new RegionGrowingSegmenter(), [
    discPrompt(leaving, 0),
    discPrompt(B, 9, true, 1),
  ]);
  const drawn: number[][] = [];
  for (const frame of frames) drawn.push((await tracker.step(frame)).objects.map((o) => o.id));
  assert.deepEqual(drawn.slice(0, 3), [[1], [1], [1]]);
  assert.deepEqual(drawn.slice(6, 9), [[], [], []], "not drawn after it left");
  assert.deepEqual(drawn.slice(9), [[1], [1], [1]]);
  assert.equal(tracker.state.object(1)!.status, "tracked");
});
