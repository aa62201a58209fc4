/**
 * The tracker's pure pieces, one at a time: prompt from mask, output choice, overlap resolution,
 * loss detection, motion, re-acquisition search and acceptance, appearance.
 */
import assert from "node:assert/strict";
import type { BinaryMask } from "../src/segment/mask.ts";
import { type DecodedPrompt, LOW_RES_SIDE } from "../src/segment/segmenter.ts";
import { colourHistogram, histogramSimilarity } from "../src/segment/tracker/appearance.ts";
import type { FrameCandidate } from "../src/segment/tracker/frame_candidate.ts";
import { detectLoss, type LossEvidence } from "../src/segment/tracker/loss_detection.ts";
import { lowResGrid } from "../src/segment/geometry/low_res_grid.ts";
import { blockedEdges, updateVelocity } from "../src/segment/tracker/motion.ts";
import { chooseFreshOutput, chooseTrackedOutput } from "../src/segment/tracker/output_selection.ts";
import { overlapArea, resolveOverlaps } from "../src/segment/tracker/overlap.ts";
import { maskExtent, type PixelWindow } from "../src/segment/geometry/pixel_window.ts";
import { innerPoint, promptFromMask } from "../src/segment/tracker/prompt_from_mask.ts";
import { searchBox, searchesOn, searchPoints } from "../src/segment/tracker/search_area.ts";
import { hueRgb, renderDiscFrame } from "./helpers/disc_scene.ts";

const W = 160, H = 120;
const FREE = { left: false, right: false, top: false, bottom: false };

function disc(cx: number, cy: number, r: number, width = W, height = H): BinaryMask {
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if ((x + 0.5 - cx) ** 2 + (y + 0.5 - cy) ** 2 <= r * r) data[y * width + x] = 1;
    }
  }
  return { width, height, data };
}

function full(mask: BinaryMask): PixelWindow {
  return { x0: 0, y0: 0, x1: mask.width, y1: mask.height };
}

/** Low-res logits that are +10 on a disc of the 256 grid and -10 elsewhere. */
function lowResDisc(cx: number, cy: number, r: number): Float32Array {
  const logits = new Float32Array(LOW_RES_SIDE * LOW_RES_SIDE).fill(-10);
  for (let y = 0; y < LOW_RES_SIDE; y++) {
    for (let x = 0; x < LOW_RES_SIDE; x++) {
      if ((x - cx) ** 2 + (y - cy) ** 2 <= r * r) logits[y * LOW_RES_SIDE + x] = 10;
    }
  }
  return logits;
}

function decodedOf(outputs: Float32Array[], scores: number[]): DecodedPrompt {
  const plane = LOW_RES_SIDE * LOW_RES_SIDE;
  const lowResLogits = new Float32Array(4 * plane);
  outputs.forEach((o, k) => lowResLogits.set(o, k * plane));
  return { lowResLogits, iouPredictions: Float32Array.from(scores) };
}

function source(mask: BinaryMask, vx = 0, vy = 0) {
  return {
    mask,
    bounds: maskExtent(mask, full(mask)).bounds,
    velocity: { x: vx, y: vy },
    lowResLogits: new Float32Array(LOW_RES_SIDE * LOW_RES_SIDE),
  };
}

Deno.test("innerPoint finds the deepest point of a region, even when downsampled", () => {
  const big = disc(300, 200, 120, 640, 400);
  const p = innerPoint((x, y) => big.data[y * 640 + x] !== 0, maskExtent(big, full(big)).bounds)!;
  assert.ok(Math.hypot(p.x - 300, p.y - 200) <= 8, `(${p.x}, ${p.y})`);
  assert.ok(p.depth > 100);
  assert.equal(innerPoint(() => false, { x0: 0, y0: 0, x1: 10, y1: 10 }), undefined);
});

Deno.test("promptFromMask: box around the moved mask with a margin, positive point at its deepest point, the previous logits as mask input", () => {
  const own = source(disc(50, 60, 10), 4, -2);
  const built = promptFromMask(own, [], W, H);
  const { prompt } = built;
  assert.equal(prompt.maskInput, own.lowResLogits);
  assert.deepEqual(built.predictedBox, [44, 48, 64, 68]);
  const [x0, y0, x1, y1] = prompt.box!;
  assert.ok(x0 < 44 && y0 < 48 && x1 > 64 && y1 > 68, `box ${prompt.box}`);
  assert.ok(x0 > 30 && x1 < 80, "margin stays moderate");
  assert.equal(prompt.points.length, 1);
  const [p] = prompt.points;
  assert.ok(p.positive);
  assert.ok(Math.hypot(p.x - 54, p.y - 58) <= 1.5, `positive point (${p.x}, ${p.y})`);
});

Deno.test("promptFromMask puts negative points inside touching neighbours only, at most maxNegatives", () => {
  const own = source(disc(60, 60, 14));
  const touching = source(disc(85, 60, 12));
  const below = source(disc(60, 86, 12));
  const far = source(disc(140, 20, 10));
  const { prompt } = promptFromMask(own, [touching, far, below], W, H, { maxNegatives: 2 });
  const negatives = prompt.points.filter((p) => !p.positive);
  assert.equal(negatives.length, 2);
  for (const n of negatives) {
    const inTouching = touching.mask.data[n.y * W + n.x] === 1;
    const inBelow = below.mask.data[n.y * W + n.x] === 1;
    assert.ok(inTouching || inBelow, `negative point (${n.x}, ${n.y}) inside a neighbour`);
    assert.equal(own.mask.data[n.y * W + n.x], 0);
    const [x0, y0, x1, y1] = prompt.box!;
    assert.ok(n.x >= x0 && n.x < x1 && n.y >= y0 && n.y < y1, "inside the prompt box");
  }
  const one = promptFromMask(own, [touching, below], W, H, { maxNegatives: 1 }).prompt;
  assert.equal(one.points.filter((p) => !p.positive).length, 1);
  const none = promptFromMask(own, [far], W, H).prompt;
  assert.equal(none.points.length, 1, "no negative point for a neighbour outside the box");
});

Deno.test("promptFromMask keeps the positive point on the part of a leaving object still inside the frame", () => {
  const leaving = source(disc(150, 60, 12), 8, 0);
  const { prompt } = promptFromMask(leaving, [], W, H);
  const [p] = prompt.points;
  assert.ok(p.x < W && p.x >= 150, `point x ${p.x}`);
  assert.ok(prompt.box![2] <= W);
});

Deno.test("chooseFreshOutput: a lone point takes the best multimask output, a box takes output 0", () => {
  const d = decodedOf([
    lowResDisc(50, 50, 5),
    lowResDisc(50, 50, 6),
    lowResDisc(50, 50, 7),
    lowResDisc(50, 50, 8),
  ], [
    0.99,
    0.7,
    0.9,
    0.8,
  ]);
  assert.equal(chooseFreshOutput({ points: [{ x: 1, y: 1, positive: true }] }, d).output, 2);
  assert.equal(chooseFreshOutput({ points: [], box: [0, 0, 5, 5] }, d).output, 0);
  assert.equal(
    chooseFreshOutput(
      { points: [{ x: 1, y: 1, positive: true }, { x: 3, y: 3, positive: false }] },
      d,
    )
      .output,
    0,
  );
});

Deno.test("chooseTrackedOutput prefers the output consistent with the moved previous mask over a higher score elsewhere", () => {
  const grid = lowResGrid(1024, 1024); // one cell = 4 pixels
  const previous = lowResDisc(100, 100, 10);
  const cells = { x0: 60, y0: 60, x1: 160, y1: 160 };
  const moved = lowResDisc(105, 100, 10); // velocity 20 px = 5 cells to the right
  const elsewhere = lowResDisc(140, 140, 10);
  const d = decodedOf([elsewhere, moved, elsewhere, lowResDisc(105, 100, 18)], [
    0.97,
    0.85,
    0.97,
    0.8,
  ]);
  const choice = chooseTrackedOutput(d, previous, { x: 20, y: 0 }, grid, cells);
  assert.equal(choice.output, 1);
  assert.equal(choice.consistency, 1);
  // Without motion compensation the same output is less consistent.
  const still = chooseTrackedOutput(d, previous, { x: 0, y: 0 }, grid, cells);
  assert.ok(still.consistency < 1);
  // Equally consistent outputs: the higher predicted IoU wins.
  const tie = decodedOf([moved, moved, moved, moved], [0.6, 0.7, 0.95, 0.8]);
  assert.equal(chooseTrackedOutput(tie, previous, { x: 20, y: 0 }, grid, cells).output, 2);
});

function candidate(
  id: number,
  mask: BinaryMask,
  logits: (x: number, y: number) => number,
  priority = 0,
): FrameCandidate {
  const values = new Float32Array(mask.width * mask.height);
  for (let y = 0; y < mask.height; y++) {
    for (let x = 0; x < mask.width; x++) values[y * mask.width + x] = logits(x, y);
  }
  const { area, bounds } = maskExtent(mask, full(mask));
  return {
    id,
    source: "propagation",
    mask,
    area,
    bounds,
    score: 0.9,
    lowResLogits: new Float32Array(0),
    logits: values,
    priority,
  };
}

Deno.test("resolveOverlaps gives each contested pixel to the larger logit and updates areas and bounds", () => {
  const maskA = disc(60, 60, 20), maskB = disc(80, 60, 20);
  const before = { a: maskA.data.slice(), b: maskB.data.slice() };
  const a = candidate(1, maskA, (x) => 140 - x); // stronger left of x = 70
  const b = candidate(2, maskB, (x) => x); // stronger right of it
  const c = candidate(3, disc(140, 100, 8), () => 1);
  const cArea = c.area;
  assert.ok(overlapArea(a, b) > 0);
  const shrunk = resolveOverlaps([a, b, c]);
  assert.deepEqual([...shrunk].sort(), [1, 2]);
  for (let i = 0; i < W * H; i++) {
    if (!(before.a[i] && before.b[i])) {
      assert.equal(a.mask.data[i], before.a[i]);
      assert.equal(b.mask.data[i], before.b[i]);
      continue;
    }
    const aStronger = a.logits![i] >= b.logits![i];
    assert.equal(a.mask.data[i], aStronger ? 1 : 0);
    assert.equal(b.mask.data[i], aStronger ? 0 : 1);
  }
  assert.equal(c.area, cArea, "a candidate overlapping nothing is untouched");
  assert.deepEqual({ area: a.area, bounds: a.bounds }, maskExtent(a.mask, full(a.mask)));
  assert.deepEqual({ area: b.area, bounds: b.bounds }, maskExtent(b.mask, full(b.mask)));
  assert.ok(
    a.bounds.x1 <= 71 && b.bounds.x0 >= 70,
    `bounds ${JSON.stringify([a.bounds, b.bounds])}`,
  );
});

Deno.test("resolveOverlaps: a higher priority (a user prompt) wins whatever the logits", () => {
  const user = candidate(1, disc(60, 60, 20), () => -5, 1);
  const tracked = candidate(2, disc(70, 60, 20), () => 50);
  const userArea = user.area;
  resolveOverlaps([tracked, user]);
  assert.equal(user.area, userArea);
  assert.equal(overlapArea(user, tracked), 0);
});

function evidence(overrides: Partial<LossEvidence> = {}): LossEvidence {
  return {
    area: 1000,
    bounds: { x0: 100, y0: 100, x1: 136, y1: 136 },
    score: 0.9,
    appearance: 0.9,
    predictedBox: [100, 100, 136, 136],
    previousArea: 1000,
    referenceArea: 1000,
    frameWidth: 640,
    frameHeight: 360,
    ...overrides,
  };
}

Deno.test("detectLoss accepts a plausible mask and names each kind of loss", () => {
  assert.equal(detectLoss(evidence()), undefined);
  assert.equal(detectLoss(evidence({ area: 0 })), "empty");
  assert.equal(detectLoss(evidence({ area: 20, previousArea: 40 })), "too-small");
  assert.equal(detectLoss(evidence({ score: 0.3 })), "low-score");
  assert.equal(detectLoss(evidence({ area: 2600 })), "area-jump");
  assert.equal(detectLoss(evidence({ area: 200 })), "area-jump");
  assert.equal(
    detectLoss(evidence({ bounds: { x0: 160, y0: 100, x1: 196, y1: 136 } })),
    "position-jump",
  );
  assert.equal(detectLoss(evidence({ appearance: 0.1 })), "appearance");
  assert.equal(detectLoss(evidence({ predictedBox: [638, 100, 674, 136] })), "left-frame");
  // Any loss while the object is mostly outside the frame counts as leaving it.
  assert.equal(detectLoss(evidence({ area: 0, predictedBox: [630, 100, 666, 136] })), "left-frame");
  // Gradual shrinking (occlusion, leaving) and growing back are plausible.
  assert.equal(detectLoss(evidence({ area: 400, previousArea: 600 })), undefined);
  assert.equal(detectLoss(evidence({ area: 700, previousArea: 400 })), undefined);
});

Deno.test("motion: edges against the frame border or a neighbour do not count", () => {
  const before = { x0: 100, y0: 50, x1: 140, y1: 90 };
  const after = { x0: 104, y0: 51, x1: 144, y1: 91 };
  assert.deepEqual(updateVelocity({ x: 0, y: 0 }, false, before, after, FREE, FREE).velocity, {
    x: 4,
    y: 1,
  });
  // Occluded from the right: the right edge moves with the occluder (-6), the left with the object.
  const occluded = { x0: 104, y0: 51, x1: 134, y1: 91 };
  const neighbour = { x0: 134, y0: 40, x1: 200, y1: 100 };
  const blocked = blockedEdges(occluded, [neighbour], 640, 360);
  assert.ok(blocked.right && !blocked.left);
  const v = updateVelocity({ x: 0, y: 0 }, false, before, occluded, FREE, blocked).velocity;
  assert.equal(v.x, 4);
  // Entering through the left border: only the right edge is trusted.
  const entering = blockedEdges({ x0: 0, y0: 10, x1: 20, y1: 30 }, [], 640, 360);
  assert.ok(entering.left && !entering.right);
  const e = updateVelocity(
    { x: 0, y: 0 },
    false,
    { x0: 0, y0: 10, x1: 17, y1: 30 },
    { x0: 0, y0: 10, x1: 20, y1: 30 },
    entering,
    entering,
  );
  assert.equal(e.velocity.x, 3);
  // Shrinking against something untracked: the edge that keeps moving as before is trusted.
  const held = updateVelocity(
    { x: 4, y: 0 },
    true,
    before,
    { x0: 104, y0: 50, x1: 136, y1: 90 },
    FREE,
    FREE,
  );
  assert.equal(held.velocity.x, 4);
  // Smoothing and frame gaps.
  const smoothed = updateVelocity({ x: 2, y: 0 }, true, before, after, FREE, FREE, 2).velocity;
  assert.deepEqual(smoothed, { x: 2, y: 0.25 });
});

Deno.test("searchBox follows the motion estimate, widens the longer the object is lost, and stays in the frame", () => {
  const track = {
    referenceBounds: { x0: 100, y0: 100, x1: 140, y1: 130 },
    referenceFrame: 10,
    velocity: { x: 2, y: 0 },
    lostSince: 12,
  };
  const early = searchBox(track, 13, 640, 360);
  const late = searchBox(track, 30, 640, 360);
  assert.ok((early[0] + early[2]) / 2 > 120 + 2 * 2, "moved along the velocity");
  assert.ok(late[2] - late[0] > early[2] - early[0], "wider when lost longer");
  const gone = searchBox({ ...track, velocity: { x: 20, y: 0 } }, 40, 640, 360);
  assert.ok(gone[0] >= 0 && gone[2] <= 640 && gone[2] - gone[0] >= 20, `stays inside: ${gone}`);
});

Deno.test("searchPoints stays within its budget, covers the whole box over a few frames and skips excluded points", () => {
  const box = [100, 100, 200, 180] as const;
  const a = searchPoints(box, 5, () => false);
  const b = searchPoints(box, 6, () => false);
  assert.equal(a.length, 6);
  assert.notDeepEqual(a, b);
  for (const p of [...a, ...b]) assert.ok(p.x >= 100 && p.x < 200 && p.y >= 100 && p.y < 180);
  // Over four frames the search reaches every quarter of the box.
  const quarters = new Set<string>();
  for (let f = 0; f < 4; f++) {
    for (const p of searchPoints(box, f, () => false)) quarters.add(`${p.x < 150}-${p.y < 140}`);
  }
  assert.equal(quarters.size, 4);
  const right = searchPoints(box, 5, (x) => x < 150, { maxPrompts: 16 });
  assert.ok(right.length > 0 && right.every((p) => p.x >= 150));
  // The expected position (the box's centre) is probed first on every frame, unless excluded.
  for (let f = 0; f < 4; f++) {
    assert.deepEqual(searchPoints(box, f, () => false)[0], { x: 150, y: 140 });
  }
  assert.notDeepEqual(searchPoints(box, 0, (x, y) => x === 150 && y === 140)[0], {
    x: 150,
    y: 140,
  });
  // No point twice: in a 4 x 4 box every grid point is a pixel, the centre among them.
  const tiny = searchPoints([0, 0, 4, 4], 3, () => false, { maxPrompts: 17 });
  assert.equal(tiny.length, 16);
  assert.equal(new Set(tiny.map((p) => `${p.x},${p.y}`)).size, 16);
  assert.deepEqual(tiny[0], { x: 2, y: 2 });
});

Deno.test("searchesOn: every frame at first, then every third frame, then never", () => {
  assert.ok(searchesOn(10, 11) && searchesOn(10, 39));
  assert.deepEqual([40, 41, 42, 43].map((f) => searchesOn(10, f)), [true, false, false, true]);
  assert.ok(!searchesOn(10, 160) && !searchesOn(10, 400));
  assert.ok(!searchesOn(10, 11, { forFrames: 0 }));
});

Deno.test("appearance: same colours are alike, different colours are not", () => {
  const red = renderDiscFrame(W, H, [{ id: 1, x: 50, y: 50, radius: 20, rgb: hueRgb(0) }], 0);
  const blue = renderDiscFrame(W, H, [{ id: 1, x: 50, y: 50, radius: 20, rgb: hueRgb(230) }], 0);
  const mask = disc(50, 50, 18);
  const bounds = maskExtent(mask, full(mask)).bounds;
  const a = colourHistogram(red, mask, bounds);
  assert.ok(histogramSimilarity(a, colourHistogram(red, mask, bounds)) > 0.999);
  assert.ok(histogramSimilarity(a, colourHistogram(blue, mask, bounds)) < 0.05);
  assert.equal(histogramSimilarity(a, new Float32Array(0)), 1, "unknown appearance matches");
});
