/**
 * Re-identification's pure parts, each on cases worked out by hand: the appearance functions
 * (colours, descriptors, the pooled embedding), the motion prior, the acceptance rule and the
 * whole-frame scan's grid.
 */
import assert from "node:assert/strict";
import { pooledEmbedding } from "../src/model/pooled_embedding.ts";
import { EMBEDDING_DIM, EMBEDDING_SIDE } from "../src/model/tinysam/architecture.ts";
import { lowResGrid } from "../src/segment/geometry/low_res_grid.ts";
import { LOW_RES_SIDE } from "../src/segment/segmenter.ts";
import {
  blendDescriptors,
  blendHistograms,
  colourHistogram,
  colourShare,
  compareAppearance,
  descriptorSimilarity,
  histogramSimilarity,
  matchStrength,
  regionColourHistogram,
} from "../src/segment/tracker/appearance.ts";
import {
  acceptFind,
  type FindEvidence,
  requiredSimilarity,
  runsIntoBox,
} from "../src/segment/tracker/reacquisition.ts";
import { expectedBox, motionPrior } from "../src/segment/tracker/search_area.ts";
import { nextScanPoints, scanGrid, scanSpacing } from "../src/segment/tracker/whole_frame_scan.ts";
import { hueRgb, renderDiscFrame } from "./helpers/disc_scene.ts";

const close = (a: number, b: number, label = "") =>
  assert.ok(Math.abs(a - b) < 1e-6, `${label} ${a} vs ${b}`);

Deno.test("colourHistogram counts the masked pixels into 8 x 8 x 8 bins, normalised", () => {
  // A 2 x 2 frame: red, red, blue, and an unmasked green pixel.
  const data = Uint8Array.of(250, 10, 10, 250, 10, 10, 10, 10, 250, 10, 250, 10);
  const frame = { index: 0, ptsSeconds: 0, width: 2, height: 2, data };
  const mask = { width: 2, height: 2, data: Uint8Array.of(1, 1, 1, 0) };
  const h = colourHistogram(frame, mask, { x0: 0, y0: 0, x1: 2, y1: 2 });
  close(h[(7 * 8 + 0) * 8 + 0], 2 / 3, "red bin");
  close(h[(0 * 8 + 0) * 8 + 7], 1 / 3, "blue bin");
  close(h.reduce((a, b) => a + b, 0), 1);
});

Deno.test("histogramSimilarity is the Bhattacharyya coefficient; unknown matches anything", () => {
  // sqrt(0.5 * 0.5) in the one shared bin.
  close(histogramSimilarity(Float32Array.of(0.5, 0.5, 0), Float32Array.of(0.5, 0, 0.5)), 0.5);
  close(histogramSimilarity(Float32Array.of(1, 0), Float32Array.of(0, 1)), 0);
  assert.equal(histogramSimilarity(new Float32Array(0), Float32Array.of(1, 0)), 1);
  assert.equal(histogramSimilarity(Float32Array.of(0, 0), Float32Array.of(1, 0)), 1);
});

Deno.test("blendHistograms mixes a running appearance with an observation", () => {
  const mixed = blendHistograms(Float32Array.of(1, 0), Float32Array.of(0, 1), 0.25);
  close(mixed[0], 0.75);
  close(mixed[1], 0.25);
  const observed = Float32Array.of(0, 1);
  assert.equal(blendHistograms(new Float32Array(0), observed, 0.1), observed, "empty memory");
  const memory = Float32Array.of(1, 0);
  assert.equal(blendHistograms(memory, Float32Array.of(0, 0), 0.1), memory, "nothing observed");
});

Deno.test("descriptorSimilarity is the dot product of unit vectors; unknown is undefined", () => {
  const a = Float32Array.of(0.6, 0.8), b = Float32Array.of(1, 0);
  close(descriptorSimilarity(a, b)!, 0.6);
  close(descriptorSimilarity(a, a)!, 1);
  assert.equal(descriptorSimilarity(a, new Float32Array(0)), undefined);
  assert.equal(descriptorSimilarity(a, Float32Array.of(1, 0, 0)), undefined);
});

Deno.test("blendDescriptors mixes and scales back to unit length", () => {
  // 0.5 * (1, 0) + 0.5 * (0, 1) = (0.5, 0.5) -> (0.7071, 0.7071).
  const mixed = blendDescriptors(Float32Array.of(1, 0), Float32Array.of(0, 1), 0.5);
  close(mixed[0], Math.SQRT1_2);
  close(mixed[1], Math.SQRT1_2);
  const first = Float32Array.of(0, 1);
  assert.equal(blendDescriptors(new Float32Array(0), first, 0.1), first, "empty memory");
  const memory = Float32Array.of(1, 0);
  assert.equal(blendDescriptors(memory, new Float32Array(0), 0.1), memory, "empty observation");
});

Deno.test("compareAppearance and matchStrength: the descriptor ranks where both have one", () => {
  const red = new Float32Array(512), blue = new Float32Array(512);
  red[7 * 64] = 1; // r bin 7
  blue[7] = 1; // b bin 7
  const memory = { colour: red, descriptor: Float32Array.of(1, 0) };
  const match = compareAppearance(memory, { colour: red, descriptor: Float32Array.of(0.6, 0.8) });
  assert.equal(match.colour, 1);
  close(match.descriptor!, 0.6);
  close(matchStrength(match), 0.6);
  const colourOnly = compareAppearance(memory, { colour: blue, descriptor: new Float32Array(0) });
  assert.deepEqual(colourOnly, { colour: 0 });
  assert.equal(matchStrength(colourOnly), 0);
});

Deno.test("colourShare is the histogram's mass in a colour's bin", () => {
  const h = new Float32Array(512);
  h[(7 * 8 + 0) * 8 + 1] = 0.25; // r 224..255, g 0..31, b 32..63
  assert.equal(colourShare(h, 230, 10, 40), 0.25);
  assert.equal(colourShare(h, 230, 10, 10), 0);
  assert.equal(colourShare(new Float32Array(0), 230, 10, 40), 0);
});

Deno.test("regionColourHistogram, from low-res cells, sees the colours colourHistogram sees", () => {
  const W = 256, H = 256;
  const frame = renderDiscFrame(W, H, [{ id: 1, x: 128, y: 128, radius: 60, rgb: hueRgb(0) }], 0);
  const grid = lowResGrid(W, H); // one cell per frame pixel at 256 x 256
  const logits = new Float32Array(LOW_RES_SIDE * LOW_RES_SIDE).fill(-1);
  const mask = { width: W, height: H, data: new Uint8Array(W * H) };
  for (let y = 98; y < 158; y++) {
    for (let x = 98; x < 158; x++) logits[y * LOW_RES_SIDE + x] = 1, mask.data[y * W + x] = 1;
  }
  const cells = { x0: 98, y0: 98, x1: 158, y1: 158 };
  const fromCells = regionColourHistogram(frame, logits, grid, cells);
  const fromPixels = colourHistogram(frame, mask, cells);
  let sum = 0, diff = 0;
  fromCells.forEach((v, k) => (sum += v, diff += Math.abs(v - fromPixels[k])));
  close(sum, 1, "normalised");
  assert.ok(diff < 0.05, `histograms differ by ${diff}`);
});

Deno.test("pooledEmbedding averages the embedding over the region's cells, weighted, unit length", () => {
  const plane = EMBEDDING_SIDE * EMBEDDING_SIDE;
  const embedding = new Float32Array(EMBEDDING_DIM * plane);
  // Cell (0, 0) holds (1, 0, 0, ...), cell (1, 0) holds (0, 1, 0, ...).
  embedding[0 * plane + 0] = 1;
  embedding[1 * plane + 1] = 1;
  const logits = new Float32Array(LOW_RES_SIDE * LOW_RES_SIDE).fill(-1);
  // All 16 logits of cell (0, 0)'s 4 x 4 block, and 4 of cell (1, 0)'s.
  for (let y = 0; y < 4; y++) for (let x = 0; x < 4; x++) logits[y * LOW_RES_SIDE + x] = 1;
  for (let y = 0; y < 4; y++) logits[y * LOW_RES_SIDE + 4] = 1;
  // Weights 16 and 4: (16, 4) / |(16, 4)| = (0.9701, 0.2425).
  const d = pooledEmbedding(embedding, logits);
  assert.equal(d.length, EMBEDDING_DIM);
  close(d[0], 16 / Math.hypot(16, 4));
  close(d[1], 4 / Math.hypot(16, 4));
  assert.deepEqual(pooledEmbedding(embedding, logits, { x0: 0, y0: 0, x1: 5, y1: 4 }), d, "within");
  assert.equal(pooledEmbedding(embedding, new Float32Array(LOW_RES_SIDE ** 2)).length, 0);
});

Deno.test("motionPrior is 1 where the object is expected and falls off with its size and time lost", () => {
  const track = {
    referenceBounds: { x0: 100, y0: 100, x1: 140, y1: 120 },
    referenceFrame: 10,
    velocity: { x: 2, y: 0 },
    lostSince: 10,
  };
  // Five frames on: expected box moved by (10, 0), centre (130, 110); sigma = 40 + 2 * 5 = 50.
  assert.deepEqual(expectedBox(track, 15, 640, 360), [110, 100, 150, 120]);
  close(motionPrior(track, 15, 130, 110, 640, 360), 1);
  close(motionPrior(track, 15, 180, 110, 640, 360), Math.exp(-0.5));
  close(motionPrior(track, 15, 130, 210, 640, 360), Math.exp(-2));
});

Deno.test("requiredSimilarity moves the bar from min (expected there) to strong (far away)", () => {
  close(requiredSimilarity(0.5, 0.8, 1), 0.5);
  close(requiredSimilarity(0.5, 0.8, 0), 0.8);
  close(requiredSimilarity(0.5, 0.8, 0.5), 0.65);
  close(requiredSimilarity(0.5, 0.8, 2), 0.5, "clamped");
});

function evidence(overrides: Partial<FindEvidence> = {}): FindEvidence {
  return {
    score: 0.9,
    area: 900,
    estimated: false,
    referenceArea: 1000,
    overlapShare: 0,
    cutBySearchBox: false,
    match: { colour: 0.9 },
    prior: 1,
    ...overrides,
  };
}

Deno.test("acceptFind takes a confident, plausible, alike find and rejects the rest", () => {
  assert.ok(acceptFind(evidence()));
  assert.ok(!acceptFind(evidence({ score: 0.7 })), "below minScore 0.75");
  assert.ok(!acceptFind(evidence({ area: 0 })), "empty");
  assert.ok(!acceptFind(evidence({ area: 90 })), "0.09 of the reference: a speck");
  assert.ok(acceptFind(evidence({ area: 90, estimated: true })), "an estimate gets half the floor");
  assert.ok(!acceptFind(evidence({ area: 2100 })), "2.1 times the reference");
  assert.ok(acceptFind(evidence({ area: 2100, estimated: true })), "an estimate: up to 3 times");
  assert.ok(acceptFind(evidence({ referenceArea: 0, area: 50000 })), "no reference: any size");
  assert.ok(!acceptFind(evidence({ overlapShare: 0.25 })), "another object's pixels");
  assert.ok(!acceptFind(evidence({ cutBySearchBox: true })), "goes on beyond its box");
});

Deno.test("acceptFind: the motion prior sets the bar, a rival more alike wins, descriptors count", () => {
  // Colour 0.7: enough where expected (bar 0.5), not far away (bar 0.8), not half way (0.65 ok).
  assert.ok(acceptFind(evidence({ match: { colour: 0.7 }, prior: 1 })));
  assert.ok(!acceptFind(evidence({ match: { colour: 0.7 }, prior: 0 })));
  assert.ok(acceptFind(evidence({ match: { colour: 0.7 }, prior: 0.5 })));
  // Another object it looks more like.
  assert.ok(!acceptFind(evidence({ match: { colour: 0.9 }, rival: 0.95 })));
  assert.ok(acceptFind(evidence({ match: { colour: 0.9 }, rival: 0.9 })), "a tie keeps it");
  // With a descriptor, it must clear its own bar, and rivals are compared by it.
  assert.ok(acceptFind(evidence({ match: { colour: 0.9, descriptor: 0.85 }, prior: 0 })));
  assert.ok(!acceptFind(evidence({ match: { colour: 0.9, descriptor: 0.7 }, prior: 0 })));
  assert.ok(!acceptFind(evidence({ match: { colour: 0.99, descriptor: 0.6 }, rival: 0.7 })));
  assert.ok(acceptFind(evidence({ match: { colour: 0.6, descriptor: 0.9 }, rival: 0.8 })));
});

Deno.test("runsIntoBox: a side of the search box, but never the frame's edge", () => {
  const box = [80, 80, 200, 200] as const;
  assert.ok(!runsIntoBox({ x0: 120, y0: 120, x1: 150, y1: 150 }, box, 640, 360));
  assert.ok(runsIntoBox({ x0: 80, y0: 120, x1: 150, y1: 150 }, box, 640, 360));
  assert.ok(runsIntoBox({ x0: 120, y0: 120, x1: 199, y1: 150 }, box, 640, 360));
  assert.ok(!runsIntoBox({ x0: 0, y0: 120, x1: 30, y1: 150 }, [0, 80, 200, 200], 640, 360));
});

Deno.test("scanSpacing is half the smallest lost object, within 1/64 and 1/8 of the frame", () => {
  assert.equal(scanSpacing([36, 80], 640, 360), 18);
  assert.equal(scanSpacing([4], 640, 360), 10); // 640 / 64
  assert.equal(scanSpacing([400], 640, 360), 80); // 640 / 8
  assert.equal(scanSpacing([], 640, 360), 80);
});

Deno.test("scanGrid covers the frame, and each prefix of it is spread over the whole frame", () => {
  const points = scanGrid(640, 360, 40); // 16 x 9
  assert.equal(points.length, 16 * 9);
  assert.equal(new Set(points.map((p) => `${p.x},${p.y}`)).size, points.length);
  const quadrant = (p: { x: number; y: number }) => (p.x < 320 ? 0 : 1) + (p.y < 180 ? 0 : 2);
  assert.deepEqual(new Set(points.slice(0, 4).map(quadrant)).size, 4);
  for (const prefix of [16, 32, 64]) {
    const q = [0, 0, 0, 0];
    for (const p of points.slice(0, prefix)) q[quadrant(p)]++;
    assert.ok(Math.min(...q) >= prefix / 8, `prefix ${prefix}: ${q}`);
  }
});

Deno.test("nextScanPoints spends its budget on points not excluded and goes on where it stopped", () => {
  const all = scanGrid(640, 360, 80); // 8 x 5 = 40 points (rounded 4.5 -> 5 rows)
  const a = nextScanPoints(640, 360, 80, undefined, 10, () => false);
  assert.deepEqual(a.points, all.slice(0, 10));
  const b = nextScanPoints(640, 360, 80, a.cursor, 10, () => false);
  assert.deepEqual(b.points, all.slice(10, 20));
  // Excluded points are passed over without counting.
  const left = nextScanPoints(640, 360, 80, undefined, 10, (x) => x >= 320);
  assert.equal(left.points.length, 10);
  assert.ok(left.points.every((p) => p.x < 320));
  // Nothing to decode: one lap of the grid, then stop.
  assert.deepEqual(nextScanPoints(640, 360, 80, undefined, 10, () => true).points, []);
  // Another spacing starts afresh.
  assert.deepEqual(
    nextScanPoints(640, 360, 40, b.cursor, 3, () => false).points,
    scanGrid(640, 360, 40).slice(0, 3),
  );
});
