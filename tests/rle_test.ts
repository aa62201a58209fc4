import assert from "node:assert/strict";
import {
  decodeRle,
  encodeRle,
  rleArea,
  rleCountsFromString,
  rleCountsToString,
  rleFromJson,
  rleIntersectionArea,
  rleIou,
  rleToBbox,
} from "../src/segment/rle.ts";
import { maskArea, maskToBbox } from "../src/segment/geometry/boxes.ts";
import type { BinaryMask } from "../src/segment/mask.ts";
import { createPrng, type Prng } from "../src/samples/prng.ts";

/** Random mask with blobs of runs (not just salt noise), so runs of many lengths occur. */
function randomMask(rng: Prng, width: number, height: number, density: number): BinaryMask {
  const data = new Uint8Array(width * height);
  let value = rng.next() < density ? 1 : 0;
  for (let i = 0; i < data.length; i++) {
    if (rng.next() < 0.15) value = rng.next() < density ? 1 : 0;
    data[i] = value;
  }
  return { width, height, data };
}

function directIou(a: BinaryMask, b: BinaryMask): number {
  let inter = 0, union = 0;
  for (let i = 0; i < a.data.length; i++) {
    if (a.data[i] && b.data[i]) inter++;
    if (a.data[i] || b.data[i]) union++;
  }
  return union > 0 ? inter / union : 0;
}

Deno.test("RLE counts follow pycocotools' column-major order starting with zeros", () => {
  // h = 3, w = 4:
  //   row0: 0 1 1 0
  //   row1: 0 1 0 0
  //   row2: 1 1 0 0
  // columns top to bottom: [0 0 1] [1 1 1] [1 0 0] [0 0 0] -> runs 2 zeros, 5 ones, 5 zeros.
  const mask = {
    width: 4,
    height: 3,
    data: new Uint8Array([0, 1, 1, 0, 0, 1, 0, 0, 1, 1, 0, 0]),
  };
  const rle = encodeRle(mask);
  assert.deepEqual(rle, { size: [3, 4], counts: [2, 5, 5] });
  assert.deepEqual(rleToBbox(rle), [0, 0, 3, 3]);
  assert.equal(rleArea(rle), 5);
  // A mask whose first pixel is set starts with an empty run of zeros.
  const first = encodeRle({ width: 2, height: 2, data: new Uint8Array([1, 0, 0, 0]) });
  assert.deepEqual(first.counts, [0, 1, 3]);
  // An all-zero mask is a single run.
  assert.deepEqual(encodeRle({ width: 2, height: 2, data: new Uint8Array(4) }).counts, [4]);
});

Deno.test("RLE round-trips random masks and agrees with a direct pixel count", () => {
  const rng = createPrng(7);
  for (let trial = 0; trial < 60; trial++) {
    const width = rng.int(1, 40), height = rng.int(1, 40);
    const mask = randomMask(rng, width, height, rng.next());
    const rle = encodeRle(mask);
    assert.deepEqual(decodeRle(rle), mask);
    assert.equal(rleArea(rle), maskArea(mask));
    assert.deepEqual(rleToBbox(rle), maskToBbox(mask));
    assert.equal(rle.counts.reduce((s, c) => s + c, 0), width * height);
  }
});

Deno.test("RLE IoU merges runs without decoding and equals IoU of the decoded masks", () => {
  const rng = createPrng(11);
  for (let trial = 0; trial < 60; trial++) {
    const width = rng.int(1, 30), height = rng.int(1, 30);
    const a = randomMask(rng, width, height, rng.next());
    const b = randomMask(rng, width, height, rng.next());
    const iou = rleIou(encodeRle(a), encodeRle(b));
    assert.ok(
      Math.abs(iou - directIou(a, b)) < 1e-12,
      `trial ${trial}: ${iou} vs ${directIou(a, b)}`,
    );
  }
  // Hand case: 1x4 masks 1100 and 0111 share one pixel of four covered.
  const a = { size: [1, 4] as const, counts: [0, 2, 2] };
  const b = { size: [1, 4] as const, counts: [1, 3] };
  assert.equal(rleIntersectionArea(a, b), 1);
  assert.equal(rleIou(a, b), 0.25);
  assert.throws(() => rleIou(a, { size: [2, 2], counts: [4] }), /sizes differ/);
});

Deno.test("RLE compressed strings match pycocotools' rleToString encoding and read back", () => {
  // Hand-encoded: 100 -> 'T' (low 5 bits 4 | continuation) then '3'; 3 -> '3';
  // 20 -> 'd' (20 has the sign bit 0x10, so a continuation) then '0';
  // the 4th count is stored as a delta to the 2nd: 1 - 3 = -2 -> 'N' (30 + 48).
  assert.equal(rleCountsToString([100, 3, 20, 1]), "T33d0N");
  assert.deepEqual(rleCountsFromString("T33d0N"), [100, 3, 20, 1]);
  const rng = createPrng(5);
  for (let trial = 0; trial < 30; trial++) {
    const rle = encodeRle(randomMask(rng, rng.int(1, 300), rng.int(1, 300), rng.next()));
    const text = rleCountsToString(rle.counts);
    assert.deepEqual(rleFromJson({ size: rle.size, counts: text }), rle);
  }
  assert.throws(() => rleCountsFromString("T"), /ends inside a run/);
  assert.throws(() => rleFromJson({ size: [2, 2], counts: [1, 2] }), /cover 3 pixels/);
});
