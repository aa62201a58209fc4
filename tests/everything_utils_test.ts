import assert from "node:assert/strict";
import { isBoxNearCropEdge } from "../src/segment/everything/crop_edge.ts";
import type { EverythingMask } from "../src/segment/everything/everything_mask.ts";
import { nmsMasks, samBoxOf } from "../src/segment/everything/mask_nms.ts";
import {
  DEFAULT_EVERYTHING_OPTIONS,
  everythingOptions,
} from "../src/segment/everything/options.ts";
import { pixelIndexOf, pointGrid } from "../src/segment/everything/point_grid.ts";
import { cleanSmallRegions } from "../src/segment/everything/small_regions.ts";
import type { BinaryMask, BoxXywh } from "../src/segment/mask.ts";
import { decodeRle, encodeRle, rleArea, rleToBbox } from "../src/segment/rle.ts";

function maskFromRows(rows: string[]): BinaryMask {
  const height = rows.length, width = rows[0].length;
  const data = new Uint8Array(width * height);
  rows.forEach((row, y) => [...row].forEach((c, x) => data[y * width + x] = c === "#" ? 1 : 0));
  return { width, height, data };
}

function everythingMask(mask: BinaryMask, predictedIou: number): EverythingMask {
  const rle = encodeRle(mask);
  return {
    rle,
    bbox: rleToBbox(rle),
    area: rleArea(rle),
    predictedIou,
    stabilityScore: 1,
    point: { x: 0, y: 0 },
    output: 1,
    lowResLogits: new Float32Array(0),
    grid: "dense",
  };
}

function boxOnly(bbox: BoxXywh, predictedIou: number) {
  return { bbox, predictedIou };
}

Deno.test("point grid puts n x n points at cell centres, row by row, as SAM's build_point_grid", () => {
  assert.deepEqual(pointGrid(2, [0, 0, 100, 50]), [
    { x: 25, y: 12.5 },
    { x: 75, y: 12.5 },
    { x: 25, y: 37.5 },
    { x: 75, y: 37.5 },
  ]);
  // 32 per side over 480 x 270: first point at (7.5, 4.21875), step 15 x 8.4375.
  const grid = pointGrid(32, [0, 0, 480, 270]);
  assert.equal(grid.length, 1024);
  assert.deepEqual(grid[0], { x: 7.5, y: 4.21875 });
  assert.deepEqual(grid[33], { x: 22.5, y: 12.65625 });
  assert.deepEqual(grid[1023], { x: 472.5, y: 265.78125 });
  // A crop offsets and scales the grid.
  assert.deepEqual(pointGrid(1, [100, 40, 200, 60]), [{ x: 150, y: 50 }]);
});

Deno.test("a point's pixel is its floored coordinates, clamped to the frame", () => {
  assert.equal(pixelIndexOf({ x: 7.5, y: 2.5 }, 10, 5), 27);
  assert.equal(pixelIndexOf({ x: 10, y: 5 }, 10, 5), 49);
  assert.equal(pixelIndexOf({ x: -1, y: 0.99 }, 10, 5), 0);
});

Deno.test("crop-edge filter drops boxes along a crop edge that is not a frame edge", () => {
  const frame = [0, 0, 640, 480] as const;
  const leftHalf = [0, 0, 320, 480] as const;
  // Touches x = 320 (the crop's right edge, inside the frame): dropped.
  assert.equal(isBoxNearCropEdge([250, 100, 305, 200], leftHalf, frame), true);
  // 21 px away from the crop edge: kept.
  assert.equal(isBoxNearCropEdge([250, 100, 299, 200], leftHalf, frame), false);
  // Along the crop's left edge, which is also the frame's: kept.
  assert.equal(isBoxNearCropEdge([0, 100, 100, 200], leftHalf, frame), false);
  // On the whole frame nothing is ever dropped.
  assert.equal(isBoxNearCropEdge([0, 0, 639, 479], frame, frame), false);
  assert.equal(isBoxNearCropEdge([300, 10, 330, 40], frame, frame, 0), false);
});

Deno.test("mask NMS uses SAM's inclusive boxes and keeps the higher predicted IoU", () => {
  assert.deepEqual(samBoxOf([2, 3, 4, 5]), [2, 3, 5, 7]);
  assert.deepEqual(samBoxOf([0, 0, 0, 0]), [0, 0, 0, 0]);
  // A: x 0..10, y 0..10 -> SAM box [0, 0, 10, 10] (area 100).
  // B: x 1..11, y 1..11 -> [1, 1, 11, 11]: IoU(A, B) = 81 / 119 = 0.681.
  // C: x 0..10, y 0..9  -> [0, 0, 10, 9]: IoU(A, C) = 90 / 100 = 0.9, IoU(B, C) = 72 / 118.
  // With the exclusive convention ([0, 0, 11, 11] etc.) IoU(A, B) would be 100 / 142 = 0.704
  // and B would suppress A at 0.7: the convention matters.
  const a = boxOnly([0, 0, 11, 11], 0.92);
  const b = boxOnly([1, 1, 11, 11], 0.95);
  const c = boxOnly([0, 0, 11, 10], 0.90);
  const d = boxOnly([30, 30, 5, 5], 0.89);
  assert.deepEqual(nmsMasks([a, b, c, d], 0.7), [b, a, d]);
  assert.deepEqual(nmsMasks([a, b, c, d], 0.6), [b, d]);
  // A custom score (SAM's small-region pass prefers unchanged masks) overrides the IoU.
  assert.deepEqual(nmsMasks([a, b], 0.6, (m) => (m === a ? 1 : 0)), [a]);
});

Deno.test("options take the published defaults; the sparse grid follows points per side", () => {
  const defaults = everythingOptions();
  assert.deepEqual(defaults, DEFAULT_EVERYTHING_OPTIONS);
  assert.equal(defaults.pointsPerSide, 32);
  assert.equal(defaults.sparsePointsPerSide, 8);
  assert.equal(defaults.pointsPerBatch, 64);
  assert.equal(defaults.predIouThreshold, 0.88);
  assert.equal(defaults.stabilityScoreThreshold, 0.95);
  assert.equal(defaults.stabilityScoreOffset, 1.0);
  assert.equal(defaults.boxNmsThreshold, 0.7);
  assert.equal(defaults.minMaskRegionArea, 0);
  assert.equal(defaults.highConfidenceLogit, 8.5);
  assert.equal(everythingOptions({ pointsPerSide: 16 }).sparsePointsPerSide, 4);
  assert.equal(everythingOptions({ pointsPerSide: 3 }).sparsePointsPerSide, 1);
  assert.equal(
    everythingOptions({ pointsPerSide: 16, sparsePointsPerSide: 6 }).sparsePointsPerSide,
    6,
  );
  assert.throws(
    () => everythingOptions({ pointsPerSide: 0 }),
    /pointsPerSide must be a positive integer/,
  );
  assert.throws(() => everythingOptions({ pointsPerBatch: 2.5 }), /pointsPerBatch/);
  assert.throws(() => everythingOptions({ boxNmsThreshold: 1.5 }), /boxNmsThreshold/);
  assert.throws(() => everythingOptions({ cropBox: [10, 0, 5, 5] }), /cropBox/);
});

Deno.test("small-region clean-up fills holes, drops islands and prefers untouched masks", () => {
  const holed = maskFromRows([
    "..........",
    ".#####....",
    ".#.###....",
    ".#####...#",
    ".#####....",
    "..........",
  ]);
  const clean = maskFromRows([
    "..........",
    "..........",
    "......###.",
    "......###.",
    "......###.",
    "..........",
  ]);
  const [first, second] = cleanSmallRegions(
    [everythingMask(holed, 0.99), everythingMask(clean, 0.9)],
    2,
    0.7,
  );
  // The untouched mask ranks first even though its predicted IoU is lower.
  assert.equal(second.predictedIou, 0.99);
  assert.equal(first.predictedIou, 0.9);
  assert.deepEqual(
    decodeRle(second.rle).data,
    maskFromRows([
      "..........",
      ".#####....",
      ".#####....",
      ".#####....",
      ".#####....",
      "..........",
    ]).data,
  );
  assert.equal(second.area, 20);
  assert.deepEqual(second.bbox, [1, 1, 5, 4]);
  // Off by default: the input comes back as is.
  const masks = [everythingMask(holed, 0.99)];
  assert.deepEqual(cleanSmallRegions(masks, 0, 0.7), masks);
});
