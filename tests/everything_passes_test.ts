import assert from "node:assert/strict";
import { boxIou } from "../src/segment/geometry/boxes.ts";
import { denseEverything } from "../src/segment/everything/dense.ts";
import type { EverythingResult } from "../src/segment/everything/everything_mask.ts";
import { hierarchicalEverything } from "../src/segment/everything/hierarchical.ts";
import { samBoxOf } from "../src/segment/everything/mask_nms.ts";
import { everythingOptions } from "../src/segment/everything/options.ts";
import { pixelIndexOf, pointGrid } from "../src/segment/everything/point_grid.ts";
import { decodePointPrompts } from "../src/segment/everything/point_pass.ts";
import { decodeRle, rleArea, rleIou } from "../src/segment/rle.ts";
import { outputLogits } from "../src/segment/segmenter.ts";
import { stabilityScore } from "../src/segment/stability.ts";
import { CountingSegmenter } from "./helpers/counting_segmenter.ts";
import { RegionGrowingSegmenter } from "./helpers/region_growing_segmenter.ts";
import { sampleFrames, sampleGroundTruth } from "./helpers/sample_frames.ts";
import { WholeFramePoints } from "./helpers/whole_frame_points.ts";

function testSegmenter(): CountingSegmenter {
  return new CountingSegmenter(new WholeFramePoints(new RegionGrowingSegmenter()));
}

function maskIou(a: Uint8Array, b: Uint8Array): number {
  let inter = 0, union = 0;
  for (let i = 0; i < a.length; i++) {
    if (a[i] && b[i]) inter++;
    if (a[i] || b[i]) union++;
  }
  return union > 0 ? inter / union : 0;
}

/** Ground-truth objects of the frame that some kept mask covers with IoU >= 0.5. */
function foundObjects(result: EverythingResult, truth: Map<number, Uint8Array>): number[] {
  const decoded = result.masks.map((m) => decodeRle(m.rle).data);
  return [...truth].filter(([, gt]) => decoded.some((m) => maskIou(m, gt) >= 0.5)).map(([id]) =>
    id
  );
}

// Frames with every kind of object of the samples visible: small and large, partly occluded,
// entering and leaving.
const FRAMES = [
  { sample: "crossing", frame: 0 },
  { sample: "crossing", frame: 50 },
  { sample: "occlusion", frame: 60 },
  { sample: "exit_enter", frame: 45 },
] as const;

Deno.test("hierarchical everything finds >= 95% of visible objects, as dense does, with at most half the decoder prompts", async () => {
  let visible = 0, foundDense = 0, foundHierarchical = 0;
  let promptsDense = 0, promptsHierarchical = 0;
  const lines: string[] = [];
  for (const { sample, frame: index } of FRAMES) {
    const [frame] = await sampleFrames(sample, [index]);
    const truth = await sampleGroundTruth(sample, index);
    const segmenter = testSegmenter();
    const embedding = await segmenter.embed(frame);

    const dense = await denseEverything(segmenter, embedding);
    assert.equal(segmenter.promptsDecoded, dense.stats.promptsDecoded);
    assert.equal(segmenter.decodeCalls, dense.stats.decodeCalls);
    promptsDense += segmenter.promptsDecoded;
    segmenter.reset();

    const hierarchical = await hierarchicalEverything(segmenter, embedding);
    assert.equal(segmenter.promptsDecoded, hierarchical.stats.promptsDecoded);
    assert.equal(segmenter.decodeCalls, hierarchical.stats.decodeCalls);
    assert.equal(
      hierarchical.stats.promptsDecoded,
      64 + 1024 - hierarchical.stats.pointsSkipped,
    );
    promptsHierarchical += segmenter.promptsDecoded;

    const d = foundObjects(dense, truth), h = foundObjects(hierarchical, truth);
    visible += truth.size;
    foundDense += d.length;
    foundHierarchical += h.length;
    lines.push(
      `${sample}#${index}: ${truth.size} visible; dense found [${d}] with ${dense.stats.promptsDecoded} prompts, hierarchical [${h}] with ${hierarchical.stats.promptsDecoded} (${hierarchical.stats.pointsSkipped} skipped)`,
    );
  }
  console.log(lines.join("\n"));
  console.log(
    `found: dense ${foundDense}/${visible}, hierarchical ${foundHierarchical}/${visible}; prompts: dense ${promptsDense}, hierarchical ${promptsHierarchical} (${
      (promptsHierarchical / promptsDense).toFixed(3)
    })`,
  );
  assert.ok(foundDense >= 0.95 * visible, `dense found ${foundDense} of ${visible}`);
  assert.ok(
    foundHierarchical >= 0.95 * visible,
    `hierarchical found ${foundHierarchical} of ${visible}`,
  );
  assert.ok(
    promptsHierarchical * 2 <= promptsDense,
    `hierarchical decoded ${promptsHierarchical} prompts, dense ${promptsDense}`,
  );
});

Deno.test("only masks above the predicted-IoU threshold are upscaled; kept masks pass every filter and NMS", async () => {
  const [frame] = await sampleFrames("occlusion", [0]);
  const segmenter = testSegmenter();
  const embedding = await segmenter.embed(frame);
  const options = { pointsPerSide: 12, pointsPerBatch: 50 };
  const result = await denseEverything(segmenter, embedding, options);

  // 144 prompts in batches of at most 50: 3 decode calls.
  assert.equal(result.stats.promptsDecoded, 144);
  assert.equal(segmenter.decodeCalls, 3);
  assert.equal(segmenter.largestBatch, 50);
  assert.equal(result.stats.candidates, 3 * 144);

  // Count by hand the multimask outputs above 0.88 by decoding the same grid directly.
  const points = pointGrid(12, [0, 0, frame.width, frame.height]);
  const decoded = await segmenter.decode(
    embedding,
    points.map((p) => ({ points: [{ ...p, positive: true }] })),
  );
  let aboveIou = 0, passing = 0;
  for (const d of decoded) {
    for (let output = 1; output <= 3; output++) {
      if (!(d.iouPredictions[output] > 0.88)) continue;
      aboveIou++;
      const logits = segmenter.upscaleLogits(embedding, outputLogits(d, output));
      if (stabilityScore(logits) >= 0.95) passing++;
    }
  }
  assert.ok(aboveIou > 0 && aboveIou < 3 * 144, `${aboveIou} outputs above 0.88`);
  assert.equal(result.stats.upscaled, aboveIou);
  assert.equal(result.stats.filtered, passing);
  assert.ok(result.stats.kept <= passing && result.stats.kept > 0);

  for (const mask of result.masks) {
    assert.ok(mask.predictedIou > 0.88);
    assert.ok(mask.stabilityScore >= 0.95);
    assert.ok(mask.output >= 1 && mask.output <= 3);
    assert.equal(mask.area, rleArea(mask.rle));
    assert.equal(mask.lowResLogits.length, 256 * 256);
    // The prompt point lies in its own mask.
    const data = decodeRle(mask.rle).data;
    assert.equal(data[pixelIndexOf(mask.point, frame.width, frame.height)], 1);
  }
  // Best first, and no two kept masks overlap above the NMS threshold (SAM boxes).
  for (let i = 1; i < result.masks.length; i++) {
    assert.ok(result.masks[i - 1].predictedIou >= result.masks[i].predictedIou);
  }
  for (let i = 0; i < result.masks.length; i++) {
    for (let j = i + 1; j < result.masks.length; j++) {
      const iou = boxIou(samBoxOf(result.masks[i].bbox), samBoxOf(result.masks[j].bbox));
      assert.ok(iou <= 0.7, `masks ${i} and ${j} overlap with box IoU ${iou}`);
    }
  }
});

Deno.test("hierarchical everything skips exactly the dense points on high-confidence pixels of the sparse masks", async () => {
  const [frame] = await sampleFrames("exit_enter", [0]);
  const segmenter = testSegmenter();
  const embedding = await segmenter.embed(frame);
  const options = everythingOptions({ pointsPerSide: 16 });
  const region = [0, 0, frame.width, frame.height] as const;
  const dense = pointGrid(16, region);

  // The sparse pass alone, probing the dense points at the high-confidence logit.
  const sparse = await decodePointPrompts(segmenter, embedding, pointGrid(4, region), "sparse", {
    ...options,
  }, { points: dense, logit: 8.5 });
  const hits = sparse.probeHits!;
  const skipped = hits.reduce((s, v) => s + v, 0);
  assert.ok(skipped > 0 && skipped < dense.length, `${skipped} of ${dense.length} points hit`);
  // Each hit point lies inside some filtered sparse mask (logit > 8.5 implies logit > 0) and
  // every point inside none of them is a miss.
  const sparseMasks = sparse.masks.map((m) => decodeRle(m.rle).data);
  dense.forEach((p, i) => {
    const inside = sparseMasks.some((m) => m[pixelIndexOf(p, frame.width, frame.height)] === 1);
    if (hits[i]) assert.ok(inside, `hit point ${i} is in no sparse mask`);
  });

  segmenter.reset();
  const result = await hierarchicalEverything(segmenter, embedding, options);
  assert.equal(result.stats.pointsSkipped, skipped);
  assert.equal(segmenter.promptsDecoded, 16 + 256 - skipped);
  // Sparse and dense masks are merged before NMS.
  assert.ok(result.masks.some((m) => m.grid === "sparse"));

  // A threshold no logit reaches skips nothing; one every logit exceeds skips every point
  // covered by a filtered sparse mask's decode window (here: the whole frame).
  segmenter.reset();
  const none = await hierarchicalEverything(segmenter, embedding, {
    ...options,
    highConfidenceLogit: 1e9,
  });
  assert.equal(none.stats.pointsSkipped, 0);
  assert.equal(segmenter.promptsDecoded, 16 + 256);
  const all = await hierarchicalEverything(segmenter, embedding, {
    ...options,
    highConfidenceLogit: -1e9,
  });
  assert.equal(all.stats.pointsSkipped, 256);
  assert.equal(all.stats.promptsDecoded, 16);
});

Deno.test("a crop box limits the grid to the crop and drops masks cut by its inner edges", async () => {
  const [frame] = await sampleFrames("occlusion", [0]);
  const segmenter = testSegmenter();
  const embedding = await segmenter.embed(frame);
  // The left 150 px: the blue square (x 8..112) lies inside, the red disc (x 129..171) across
  // the crop edge at x = 150.
  const cropBox = [0, 0, 150, frame.height] as const;
  const result = await denseEverything(segmenter, embedding, { pointsPerSide: 16, cropBox });
  const truth = await sampleGroundTruth("occlusion", 0);
  const found = foundObjects(result, truth);
  assert.deepEqual(found, [2]);
  for (const mask of result.masks) {
    assert.ok(mask.point.x < 150, "prompt outside the crop");
    const [x, , w] = mask.bbox;
    assert.ok(x + w - 1 < 150 - 20, `mask box [${mask.bbox}] runs along the crop edge`);
  }
  // The same masks on the whole frame include the red disc.
  const whole = await denseEverything(segmenter, embedding, { pointsPerSide: 16 });
  assert.ok(foundObjects(whole, truth).includes(1));
  // Masks are compared without decoding: the blue square is the same mask in both runs.
  const square = result.masks.find((m) => maskIou(decodeRle(m.rle).data, truth.get(2)!) >= 0.5)!;
  assert.ok(whole.masks.some((m) => rleIou(m.rle, square.rle) > 0.9));
});
