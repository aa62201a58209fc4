/**
 * Motion estimation and mask propagation on synthetic frames with known motion: translations
 * (large, small, sub-pixel), scale and rotation, textured and plain objects, a background panning
 * the other way, and the similarity algebra the propagation composes motions with.
 */
import assert from "node:assert/strict";
import { buildPyramid } from "../src/segment/motion/image_pyramid.ts";
import {
  estimateObjectMotion,
  type ObjectMotionOptions,
} from "../src/segment/motion/object_motion.ts";
import {
  aboutCentre,
  applyMotion,
  composeMotion,
  gridMotion,
  invertMotion,
  motionAngle,
  motionScale,
  type Similarity,
  translation,
} from "../src/segment/motion/similarity.ts";
import { warpGrid, warpMask } from "../src/segment/motion/warp.ts";
import { maskExtent } from "../src/segment/geometry/pixel_window.ts";
import { maskIou } from "./helpers/disc_scene.ts";
import { renderTextured, type TexturedScene } from "./helpers/textured_scene.ts";

const WIDTH = 640, HEIGHT = 360;

function boundsOf(mask: { width: number; height: number; data: Uint8Array }) {
  return maskExtent(mask, { x0: 0, y0: 0, x1: mask.width, y1: mask.height }).bounds;
}

/**
 * Measures `truth` between frame 0 and frame 1 of `scene` (from `guess`, with `options`); returns
 * the estimate and the masks.
 */
function measure(
  scene: TexturedScene,
  truth: Similarity,
  guess?: Similarity,
  options?: ObjectMotionOptions,
) {
  const first = renderTextured(scene, { a: 1, b: 0, tx: 0, ty: 0 }, 0);
  const second = renderTextured(scene, truth, 1);
  const bounds = boundsOf(first.mask);
  const estimate = estimateObjectMotion(
    buildPyramid(first.frame),
    buildPyramid(second.frame),
    first.mask,
    bounds,
    guess,
    options,
  );
  const moved = warpMask(first.mask, bounds, estimate.motion);
  return { estimate, moved, truthMask: second.mask };
}

function centroid(mask: { width: number; data: Uint8Array }): { x: number; y: number } {
  let sx = 0, sy = 0, n = 0;
  mask.data.forEach((v, i) => {
    if (v === 0) return;
    sx += i % mask.width;
    sy += Math.floor(i / mask.width);
    n++;
  });
  return { x: sx / n, y: sy / n };
}

for (const textured of [true, false]) {
  const kind = textured ? "textured" : "plain";
  Deno.test(`a ${kind} object translated by a known amount is measured, and its mask moved, to within one pixel`, () => {
    const scene: TexturedScene = {
      width: WIDTH,
      height: HEIGHT,
      shape: "square",
      centre: [300, 170],
      radius: 45,
      textured,
    };
    for (const [dx, dy] of [[7, -4], [-22, 3], [15, 11], [2.5, 1.25]]) {
      const { estimate, moved, truthMask } = measure(scene, translation(dx, dy));
      const centre = applyMotion(estimate.motion, 300, 170);
      assert.ok(
        Math.hypot(centre.x - 300 - dx, centre.y - 170 - dy) < 1,
        `(${dx}, ${dy}) measured as (${(centre.x - 300).toFixed(2)}, ${
          (centre.y - 170).toFixed(2)
        })`,
      );
      const got = centroid(moved.mask), want = centroid(truthMask);
      assert.ok(
        Math.hypot(got.x - want.x, got.y - want.y) < 1,
        `moved mask centroid off by (${(got.x - want.x).toFixed(2)}, ${
          (got.y - want.y).toFixed(2)
        })`,
      );
      assert.ok(maskIou(moved.mask, truthMask) > 0.95, `IoU ${maskIou(moved.mask, truthMask)}`);
      assert.ok(estimate.inlierShare > 0.9, `inlier share ${estimate.inlierShare}`);
    }
  });
}

Deno.test("a sub-pixel translation is measured to within a quarter pixel", () => {
  const scene: TexturedScene = {
    width: WIDTH,
    height: HEIGHT,
    shape: "disc",
    centre: [320, 180],
    radius: 50,
    textured: true,
  };
  const { estimate } = measure(scene, translation(0.6, -0.35));
  const centre = applyMotion(estimate.motion, 320, 180);
  assert.ok(Math.abs(centre.x - 320 - 0.6) < 0.25, `x ${centre.x - 320}`);
  assert.ok(Math.abs(centre.y - 180 + 0.35) < 0.25, `y ${centre.y - 180}`);
});

Deno.test("the scale and rotation of a textured object are measured", () => {
  const scene: TexturedScene = {
    width: WIDTH,
    height: HEIGHT,
    shape: "square",
    centre: [320, 180],
    radius: 60,
    textured: true,
  };
  const truth = aboutCentre(320, 180, 1.06, 0.05, 3, -2);
  const { estimate, moved, truthMask } = measure(scene, truth);
  assert.ok(
    Math.abs(motionScale(estimate.motion) - 1.06) < 0.015,
    `scale ${motionScale(estimate.motion)}`,
  );
  assert.ok(
    Math.abs(motionAngle(estimate.motion) - 0.05) < 0.015,
    `angle ${motionAngle(estimate.motion)}`,
  );
  assert.ok(maskIou(moved.mask, truthMask) > 0.95, `IoU ${maskIou(moved.mask, truthMask)}`);
});

Deno.test("a plain disc keeps its size: scale and rotation it cannot show are not invented", () => {
  const scene: TexturedScene = {
    width: WIDTH,
    height: HEIGHT,
    shape: "disc",
    centre: [300, 180],
    radius: 40,
    textured: false,
    pan: [-2, 1],
  };
  const { estimate } = measure(scene, translation(5, 2));
  assert.ok(
    Math.abs(motionScale(estimate.motion) - 1) < 0.01,
    `scale ${motionScale(estimate.motion)}`,
  );
  assert.ok(Math.abs(motionAngle(estimate.motion)) < 0.01, `angle ${motionAngle(estimate.motion)}`);
});

Deno.test("a background panning the other way does not drag the object's motion", () => {
  const scene: TexturedScene = {
    width: WIDTH,
    height: HEIGHT,
    shape: "square",
    centre: [300, 180],
    radius: 40,
    textured: false,
    pan: [-6, 3],
  };
  const { estimate } = measure(scene, translation(6, 0));
  const centre = applyMotion(estimate.motion, 300, 180);
  assert.ok(Math.hypot(centre.x - 306, centre.y - 180) < 1, `(${centre.x}, ${centre.y})`);
});

Deno.test("pixels excluded from the estimate (another object's border) are not used", () => {
  const scene: TexturedScene = {
    width: WIDTH,
    height: HEIGHT,
    shape: "square",
    centre: [300, 180],
    radius: 40,
    textured: true,
  };
  const first = renderTextured(scene, translation(0, 0), 0);
  const second = renderTextured(scene, translation(4, 0), 1);
  // Corrupt the right half of the object in the second frame, as an occluder would, and exclude it.
  for (let y = 0; y < HEIGHT; y++) {
    for (let x = 300; x < WIDTH; x++) {
      second.frame.data.fill(255, (y * WIDTH + x) * 3, (y * WIDTH + x) * 3 + 3);
    }
  }
  const estimate = estimateObjectMotion(
    buildPyramid(first.frame),
    buildPyramid(second.frame),
    first.mask,
    boundsOf(first.mask),
    undefined,
    {},
    (x) => x >= 290,
  );
  const centre = applyMotion(estimate.motion, 300, 180);
  assert.ok(Math.hypot(centre.x - 304, centre.y - 180) < 1, `(${centre.x}, ${centre.y})`);
});

Deno.test("an object too small to measure keeps the guessed motion", () => {
  const mask = { width: 64, height: 64, data: new Uint8Array(64 * 64) };
  mask.data[10 * 64 + 10] = 1;
  const frame = renderTextured(
    { width: 64, height: 64, shape: "disc", centre: [10, 10], radius: 1, textured: false },
    translation(0, 0),
    0,
  ).frame;
  const pyramid = buildPyramid(frame);
  const estimate = estimateObjectMotion(pyramid, pyramid, mask, boundsOf(mask), translation(2, 1));
  assert.equal(estimate.points, 0);
  assert.deepEqual(estimate.motion, translation(2, 1));
});

Deno.test("an object leaving the frame is measured while enough of it shows, then keeps the guessed motion", () => {
  // A textured square 60 px across at the right edge; the background pans (it holds still below).
  const scene: TexturedScene = {
    width: WIDTH,
    height: HEIGHT,
    shape: "square",
    centre: [570, 180],
    radius: 30,
    textured: true,
    pan: [-1, 0],
  };
  const estimateFor = (dx: number) =>
    measure(scene, translation(dx, 0), translation(dx, 0)).estimate;
  // Up to the edge: measured.
  const partly = estimateFor(40);
  assert.ok(partly.points > 0);
  assert.ok(Math.hypot(partly.motion.tx - 40, partly.motion.ty) < 1, JSON.stringify(partly));
  // A sixth inside: too little to place it; it moves as expected rather than wherever it fits.
  const mostlyOut = estimateFor(90);
  assert.equal(mostlyOut.points, 0);
  assert.deepEqual(mostlyOut.motion, translation(90, 0));
});

Deno.test("a wide search reach finds an object far beyond the default search, within a bounded search", () => {
  const scene: TexturedScene = {
    width: WIDTH,
    height: HEIGHT,
    shape: "disc",
    centre: [200, 180],
    radius: 25,
    textured: true,
  };
  const estimate = (searchReachPx: number) =>
    measure(scene, translation(150, 40), translation(0, 0), { searchReachPx }).estimate.motion;
  const near = estimate(0);
  assert.ok(Math.hypot(near.tx - 150, near.ty - 40) > 20, "the default search cannot reach it");
  // Asked to search 10,000 px around, the search is cut to its budget and still finds it.
  for (const reach of [200, 10_000]) {
    const far = estimate(reach);
    assert.ok(Math.hypot(far.tx - 150, far.ty - 40) < 1, `reach ${reach}: ${JSON.stringify(far)}`);
  }
});

Deno.test("an object moving up to the frame's edge is not pulled past it: an estimate fitting worse than the guess is taken again from the guess", () => {
  // A textured square reaching the right edge exactly. The coarse-to-fine search overshot to +42
  // (pixels pushed outside stop counting, so leaving the misfits out looked like a better fit).
  const scene: TexturedScene = {
    width: WIDTH,
    height: HEIGHT,
    shape: "square",
    centre: [590, 180],
    radius: 30,
    textured: true,
  };
  const { estimate } = measure(scene, translation(20, 0), translation(20, 0));
  assert.ok(Math.hypot(estimate.motion.tx - 20, estimate.motion.ty) < 1, JSON.stringify(estimate));
});

Deno.test("a mask cut by the frame's edge goes on beyond it as its edge row, until about as long as it is wide", () => {
  const mask = { width: 40, height: 30, data: new Uint8Array(40 * 30) };
  // Cut by the top edge: 12 columns (10-21) at the edge, narrowing below; 6 rows, 12 wide.
  for (let y = 0; y < 6; y++) for (let x = 10 + y; x < 22 - y; x++) mask.data[y * 40 + x] = 1;
  const area = 12 + 10 + 8 + 6 + 4 + 2;
  const columns = (m: { data: Uint8Array }, y: number) =>
    [...m.data.slice(y * 40, y * 40 + 40)].flatMap((v, x) => v ? [x] : []);
  const edgeRow = columns(mask, 0);
  const down = warpMask(mask, boundsOf(mask), translation(0, 5));
  assert.deepEqual(down.bounds, { x0: 10, y0: 0, x1: 22, y1: 11 });
  for (let y = 0; y < 5; y++) assert.deepEqual(columns(down.mask, y), edgeRow, `row ${y}`);
  assert.equal(down.area, 5 * 12 + area);
  // Moved further, it goes on for 6 more rows at most (12 long in all), then ends.
  const far = warpMask(mask, boundsOf(mask), translation(0, 9));
  assert.deepEqual(columns(far.mask, 2), []);
  assert.deepEqual(columns(far.mask, 3), edgeRow);
  assert.equal(far.area, 6 * 12 + area);
  // Moved along the edge or outwards, nothing is added.
  assert.equal(warpMask(mask, boundsOf(mask), translation(3, 0)).area, area);
  assert.equal(warpMask(mask, boundsOf(mask), translation(0, -2)).area, 8 + 6 + 4 + 2);
  // A mask away from the edges is moved as it is.
  const inner = { width: 40, height: 30, data: new Uint8Array(40 * 30) };
  for (let y = 3; y < 6; y++) for (let x = 10; x < 14; x++) inner.data[y * 40 + x] = 1;
  assert.equal(warpMask(inner, boundsOf(inner), translation(0, 5)).area, 12);
});

Deno.test("similarities compose, invert and convert to grid cells consistently", () => {
  const m1 = aboutCentre(100, 50, 1.1, 0.2, 3, -4), m2 = aboutCentre(20, 80, 0.95, -0.1, -7, 2);
  const p = { x: 33, y: 71 };
  const step = applyMotion(m2, applyMotion(m1, p.x, p.y).x, applyMotion(m1, p.x, p.y).y);
  const composed = applyMotion(composeMotion(m1, m2), p.x, p.y);
  assert.ok(Math.hypot(step.x - composed.x, step.y - composed.y) < 1e-9);
  const back = applyMotion(
    invertMotion(m1),
    applyMotion(m1, p.x, p.y).x,
    applyMotion(m1, p.x, p.y).y,
  );
  assert.ok(Math.hypot(back.x - p.x, back.y - p.y) < 1e-9);
  // Cell (u, v) of a 5-pixel grid has its centre at frame (5u + 2, 5v + 2).
  const cell = gridMotion(m1, 5, 5);
  const u = 7, v = 3;
  const onGrid = applyMotion(cell, u, v);
  const onFrame = applyMotion(m1, 5 * u + 2, 5 * v + 2);
  assert.ok(Math.hypot(5 * onGrid.x + 2 - onFrame.x, 5 * onGrid.y + 2 - onFrame.y) < 1e-9);
});

Deno.test("warping by a whole-pixel translation moves a mask exactly, and a grid moves with it", () => {
  const mask = { width: 40, height: 30, data: new Uint8Array(40 * 30) };
  for (let y = 5; y < 12; y++) for (let x = 8; x < 20; x++) mask.data[y * 40 + x] = 1;
  const moved = warpMask(mask, boundsOf(mask), translation(3, 4));
  assert.equal(moved.area, 7 * 12);
  assert.deepEqual(moved.bounds, { x0: 11, y0: 9, x1: 23, y1: 16 });
  const cut = warpMask(mask, boundsOf(mask), translation(35, 0));
  assert.equal(cut.area, 0, "moved out of the frame entirely");
  const grid = new Float32Array(16 * 16).fill(-5);
  grid[4 * 16 + 4] = 7;
  const shifted = warpGrid(grid, 16, 16, translation(2, 1), { x0: 0, y0: 0, x1: 16, y1: 16 }, -9);
  assert.equal(shifted[5 * 16 + 6], 7);
  assert.equal(shifted[4 * 16 + 4], -5);
});
