import assert from "node:assert/strict";
import {
  boxIou,
  maskArea,
  maskToBbox,
  nmsBoxes,
  xywhToXyxy,
  xyxyToXywh,
} from "../src/segment/geometry/boxes.ts";
import { stabilityScore } from "../src/segment/stability.ts";
import { connectedComponents, removeSmallRegions } from "../src/segment/regions.ts";
import { deepestPoint, distanceTransform } from "../src/segment/distance.ts";
import type { BinaryMask } from "../src/segment/mask.ts";
import { createPrng } from "../src/samples/prng.ts";

function maskFromRows(rows: string[]): BinaryMask {
  const height = rows.length, width = rows[0].length;
  const data = new Uint8Array(width * height);
  rows.forEach((row, y) => [...row].forEach((c, x) => data[y * width + x] = c === "#" ? 1 : 0));
  return { width, height, data };
}

function rowsFromMask(mask: BinaryMask): string[] {
  const rows: string[] = [];
  for (let y = 0; y < mask.height; y++) {
    let row = "";
    for (let x = 0; x < mask.width; x++) row += mask.data[y * mask.width + x] ? "#" : ".";
    rows.push(row);
  }
  return rows;
}

Deno.test("mask boxes are tight COCO [x, y, w, h] and convert to continuous corners", () => {
  const mask = maskFromRows([
    ".....",
    "..#..",
    ".###.",
    ".....",
  ]);
  assert.deepEqual(maskToBbox(mask), [1, 1, 3, 2]);
  assert.equal(maskArea(mask), 4);
  assert.deepEqual(xywhToXyxy([1, 1, 3, 2]), [1, 1, 4, 3]);
  assert.deepEqual(xyxyToXywh([1, 1, 4, 3]), [1, 1, 3, 2]);
  assert.deepEqual(maskToBbox(maskFromRows(["..", ".."])), [0, 0, 0, 0]);
});

Deno.test("box NMS keeps boxes greedily by score and drops those above the IoU threshold", () => {
  const boxes = [
    [0, 0, 10, 10], // A, score 0.8
    [1, 1, 11, 11], // B, score 0.9: IoU(A, B) = 81 / 119 = 0.681
    [0, 0, 10, 9], // C, score 0.7: IoU(A, C) = 90 / 100 = 0.9, IoU(B, C) = 72 / 118 = 0.610
    [20, 20, 30, 30], // D, score 0.6: disjoint from all
  ] as const;
  const scores = [0.8, 0.9, 0.7, 0.6];
  assert.ok(Math.abs(boxIou(boxes[0], boxes[1]) - 81 / 119) < 1e-12);
  // At 0.7: B kept, A kept (0.681 <= 0.7), C dropped by A (0.9), D kept.
  assert.deepEqual(nmsBoxes(boxes, scores, 0.7), [1, 0, 3]);
  // At 0.6: A dropped by B (0.681), C dropped by B (0.610), D kept.
  assert.deepEqual(nmsBoxes(boxes, scores, 0.6), [1, 3]);
  assert.deepEqual(nmsBoxes([], [], 0.5), []);
  assert.throws(() => nmsBoxes(boxes, [1], 0.5), /4 boxes but 1 scores/);
});

Deno.test("stability score is the area ratio of the masks at threshold +offset and -offset", () => {
  const logits = new Float32Array([2, 1.5, 1.0, 0.5, 0, -0.5, -1.0, -2]);
  // > 1: {2, 1.5} = 2 pixels; > -1: {2, 1.5, 1, 0.5, 0, -0.5} = 6 pixels -> 2 / 6.
  assert.equal(stabilityScore(logits), 2 / 6);
  // threshold 0.5, offset 0.5: > 1 -> 2 pixels; > 0 -> 4 pixels.
  assert.equal(stabilityScore(logits, 0.5, 0.5), 0.5);
  assert.equal(stabilityScore(new Float32Array([-5, -3])), 0);
  assert.equal(stabilityScore(new Float32Array([5, 3])), 1);
});

const holesAndIslands = [
  "#####..",
  "#.###..",
  "###.#.#",
  "###.#..",
  "#####..",
  ".....#.",
  "..##...",
];

Deno.test("small holes are filled as SAM does (connected components of the inverted mask)", () => {
  const { mask, changed } = removeSmallRegions(maskFromRows(holesAndIslands), 3, "holes");
  assert.ok(changed);
  assert.deepEqual(rowsFromMask(mask), [
    "#####..",
    "#####..",
    "#####.#",
    "#####..",
    "#####..",
    ".....#.",
    "..##...",
  ]);
  // Nothing below the threshold: the input comes back unchanged.
  const untouched = removeSmallRegions(maskFromRows(holesAndIslands), 1, "holes");
  assert.equal(untouched.changed, false);
});

Deno.test("small islands are removed with 8- or 4-connectivity, keeping the largest if all are small", () => {
  const eight = removeSmallRegions(maskFromRows(holesAndIslands), 3, "islands");
  // (5,5) touches the big region diagonally, so with 8-connectivity it stays.
  assert.deepEqual(rowsFromMask(eight.mask), [
    "#####..",
    "#.###..",
    "###.#..",
    "###.#..",
    "#####..",
    ".....#.",
    ".......",
  ]);
  const four = removeSmallRegions(maskFromRows(holesAndIslands), 3, "islands", 4);
  assert.equal(rowsFromMask(four.mask)[5], ".......");
  const allSmall = removeSmallRegions(maskFromRows(["#..##", "....."]), 5, "islands");
  assert.deepEqual(rowsFromMask(allSmall.mask), ["...##", "....."]);
  const components = connectedComponents(maskFromRows(holesAndIslands), 8);
  assert.equal(components.count, 3);
  assert.deepEqual(components.areas.slice(1), [23, 1, 2]);
});

Deno.test("distance transform is exact Euclidean and its argmax sits at a disc's centre", () => {
  const width = 32, height = 28, cx = 15, cy = 12;
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      data[y * width + x] = (x - cx) ** 2 + (y - cy) ** 2 <= 100 ? 1 : 0;
    }
  }
  const deepest = deepestPoint({ width, height, data });
  // The nearest background pixel to the centre is at offset (10, 1): distance sqrt(101).
  assert.deepEqual(deepest, { x: cx, y: cy, distance: Math.fround(Math.sqrt(101)) });
  // A 9x7 rectangle: the ridge y = 4, x = 4..6 is 4 deep; the centroid picks x = 5.
  const rect = maskFromRows([
    "...........",
    ".#########.",
    ".#########.",
    ".#########.",
    ".#########.",
    ".#########.",
    ".#########.",
    ".#########.",
    "...........",
  ]);
  assert.deepEqual(deepestPoint(rect), { x: 5, y: 4, distance: 4 });
  assert.equal(deepestPoint(maskFromRows(["..", ".."])), undefined);
});

Deno.test("distance transform agrees with brute force on random masks", () => {
  const rng = createPrng(3);
  for (let trial = 0; trial < 20; trial++) {
    const width = rng.int(1, 20), height = rng.int(1, 20);
    const data = new Uint8Array(width * height).map(() => rng.next() < 0.7 ? 1 : 0);
    const mask = { width, height, data };
    const fast = distanceTransform(mask);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        if (!data[y * width + x]) {
          assert.equal(fast[y * width + x], 0);
          continue;
        }
        // Border counts as background: the nearest outside pixel is at distance min edge gap.
        let best = Math.min(x + 1, y + 1, width - x, height - y) ** 2;
        for (let v = 0; v < height; v++) {
          for (let u = 0; u < width; u++) {
            if (!data[v * width + u]) best = Math.min(best, (u - x) ** 2 + (v - y) ** 2);
          }
        }
        assert.equal(
          fast[y * width + x],
          Math.fround(Math.sqrt(best)),
          `trial ${trial} (${x},${y})`,
        );
      }
    }
  }
});
