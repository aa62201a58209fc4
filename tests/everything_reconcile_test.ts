import assert from "node:assert/strict";
import { from, lastValueFrom, toArray } from "rxjs";
import type { Frame } from "../src/frame.ts";
import {
  type DiscoveryReport,
  everythingDiscovery,
} from "../src/segment/everything/discovery_step.ts";
import { maskIou, shiftedIntersection } from "../src/segment/everything/mask_overlap.ts";
import {
  type FoundMask,
  type KnownObject,
  reconcileDiscoveries,
} from "../src/segment/everything/reconcile.ts";
import type { BoxXyxy } from "../src/segment/mask.ts";
import { trackObjects } from "../src/segment/tracker/track_objects.ts";
import { RegionGrowingSegmenter } from "./helpers/region_growing_segmenter.ts";
import { WholeFramePoints } from "./helpers/whole_frame_points.ts";

const W = 100, H = 60;

/** A filled rectangle `[x0, x1) x [y0, y1)` as a measured full-frame mask. */
function rect(x0: number, y0: number, x1: number, y1: number) {
  const data = new Uint8Array(W * H);
  for (let y = y0; y < y1; y++) data.fill(1, y * W + x0, y * W + x1);
  const box: BoxXyxy = [x0, y0, x1, y1];
  return { mask: { width: W, height: H, data }, area: (x1 - x0) * (y1 - y0), box };
}

function found(x0: number, y0: number, x1: number, y1: number, predictedIou = 0.95): FoundMask {
  return { ...rect(x0, y0, x1, y1), predictedIou };
}

function tracked(id: number, x0: number, y0: number, x1: number, y1: number): KnownObject {
  const r = rect(x0, y0, x1, y1);
  return { ...r, id, status: "tracked", expectedBox: r.box, referenceArea: r.area };
}

Deno.test("mask overlap is counted inside the boxes, with whole-pixel shifts", () => {
  const a = rect(10, 10, 20, 20), b = rect(15, 10, 25, 20);
  assert.equal(shiftedIntersection(a, b), 50);
  assert.equal(maskIou(a, b), 50 / 150);
  // b moved 5 px left lands exactly on a.
  assert.equal(shiftedIntersection(a, b, -5, 0), 100);
  assert.equal(maskIou(a, b, -5, 0), 1);
  // Moved out of the frame: nothing overlaps.
  assert.equal(shiftedIntersection(a, b, 200, 0), 0);
});

Deno.test("found masks refresh tracked objects, re-acquire lost ones and add the rest", () => {
  const known: KnownObject[] = [
    tracked(1, 10, 10, 30, 30),
    // Lost while being covered: its last mask is a sliver; fully visible it is 20 x 20 and its
    // motion puts it at [60, 10, 80, 30] now.
    {
      ...rect(40, 10, 43, 30),
      id: 2,
      status: "lost",
      expectedBox: [60, 10, 80, 30],
      referenceArea: 400,
    },
  ];
  const masks = [
    found(11, 10, 31, 30), // object 1, one pixel to the right: IoU 380 / 420
    found(61, 11, 81, 31), // object 2 where its motion said: box IoU 361 / 439
    found(10, 40, 30, 58), // new
    found(12, 12, 20, 20), // a part of object 1: not new
    found(0, 0, 100, 60), // the whole frame: background, not new
    found(90, 50, 93, 53), // 9 px: too small
    found(35, 40, 55, 58), // new: clear of the objects and of the first new mask
  ];
  const decision = reconcileDiscoveries(masks, known, W, H);
  assert.deepEqual(decision.refresh, [{ id: 1, found: 0, iou: 380 / 420 }]);
  assert.deepEqual(decision.reacquire.map((r) => [r.id, r.found]), [[2, 1]]);
  assert.ok(Math.abs(decision.reacquire[0].iou - 361 / 439) < 1e-12);
  assert.deepEqual(decision.add, [2, 6]);
});

Deno.test("a new mask may not overlap an object or an earlier new mask by more than 20%", () => {
  const known = [tracked(1, 10, 10, 30, 30)];
  const masks = [
    found(25, 10, 45, 30), // 5 of its 20 columns on object 1: 25% shared, not new
    found(28, 10, 48, 30), // 2 of 20 columns: 10% shared, new
    found(44, 10, 64, 30), // 4 of 20 columns on the mask just accepted: 20%, new
    found(50, 10, 70, 30), // 14 of 20 columns on the last one: not new
  ];
  assert.deepEqual(reconcileDiscoveries(masks, known, W, H).add, [1, 2]);
});

Deno.test("a lost object is not matched by a mask of implausible area, and each match is one to one", () => {
  const lost: KnownObject = {
    ...rect(10, 10, 30, 30),
    id: 7,
    status: "lost",
    expectedBox: [10, 10, 30, 30],
    referenceArea: 400,
  };
  // Inside its expected box, but a quarter of its usual area.
  const small = found(15, 15, 25, 25);
  assert.deepEqual(reconcileDiscoveries([small], [lost], W, H).reacquire, []);
  // Two masks on one tracked object: the better match refreshes, the other is not new either.
  const decision = reconcileDiscoveries(
    [found(10, 10, 29, 30), found(10, 10, 30, 30)],
    [tracked(3, 10, 10, 30, 30)],
    W,
    H,
  );
  assert.deepEqual(decision.refresh.map((r) => [r.id, r.found]), [[3, 1]]);
  assert.deepEqual(decision.add, []);
});

Deno.test("discovery runs on the first frame and every K frames after, afresh on each subscription", async () => {
  // A dark square on a light frame, 5 frames.
  const frames: Frame[] = Array.from({ length: 5 }, (_, index) => {
    const data = new Uint8Array(64 * 48 * 3).fill(220);
    for (let y = 12; y < 36; y++) data.fill(30, (y * 64 + 20) * 3, (y * 64 + 44) * 3);
    return { index, ptsSeconds: index / 30, width: 64, height: 48, data };
  });
  const passes: DiscoveryReport[] = [];
  const stage = trackObjects(new WholeFramePoints(new RegionGrowingSegmenter()), [], {
    discovery: everythingDiscovery({
      every: 2,
      everything: { pointsPerSide: 8 },
      onPass: (report) => passes.push(report),
    }),
  });
  for (let subscription = 0; subscription < 2; subscription++) {
    const output = await lastValueFrom(from(frames).pipe(stage, toArray()));
    // The square is found on frame 0 and followed on every frame.
    assert.deepEqual(output.map((f) => f.masks.objects.length), [1, 1, 1, 1, 1]);
  }
  assert.deepEqual(passes.map((p) => p.frameIndex), [0, 2, 4, 0, 2, 4]);
  assert.deepEqual(passes[0].added, [1]);
  assert.deepEqual(passes[1].confirmed, [1]);
  assert.throws(() => everythingDiscovery({ every: 0 }), /positive integer/);
});
