/**
 * The graphs built from the random-weight fixture checkpoint compute what the official TinySAM
 * implementation computed from it (../shared/fixtures/tinysam-reference).
 */
import assert from "node:assert/strict";
import { decodePng } from "../src/export/png.ts";
import { readCheckpoint } from "../src/model/checkpoint/read_checkpoint.ts";
import { OnnxSegmenter, type TinySamEmbedding } from "../src/model/onnx_segmenter.ts";
import { upscaleMaskLogits } from "../src/model/postprocess.ts";
import { encoderInput, resizedSize, resizeRgbBilinear } from "../src/model/preprocess.ts";
import { buildDecoderModel, buildEncoderModel } from "../src/model/tinysam/graphs.ts";
import { LOW_RES_SIDE, type PromptSet } from "../src/segment/segmenter.ts";
import { FIXTURE_DIR, sharedAvailable } from "./helpers/shared.ts";

interface ReferenceCase {
  name: string;
  points_xy_original: [number, number][] | null;
  point_labels: number[] | null;
  box_xyxy_original: [number, number, number, number] | null;
  has_mask_input: boolean;
  iou_predictions: number[][];
}

const PLANE = LOW_RES_SIDE * LOW_RES_SIDE;

function readF32(name: string): Float32Array {
  return new Float32Array(Deno.readFileSync(`${FIXTURE_DIR}/${name}`).buffer);
}

function readRgb(name: string) {
  const image = decodePng(Deno.readFileSync(`${FIXTURE_DIR}/${name}`));
  assert.equal(image.kind, "rgb8");
  return image;
}

function absErrors(actual: Float32Array, expected: Float32Array): Float32Array {
  assert.equal(actual.length, expected.length);
  return expected.map((e, i) => Math.abs(e - actual[i]));
}

function quantile(values: Float32Array, q: number): number {
  const sorted = values.slice().sort();
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/**
 * The decoder of this random-weight fixture is ill-conditioned: its attention logits are in the
 * thousands, so sub-ulp input differences flip near-tied softmaxes at a few pixels (see the
 * conditioning test below). Computing the same graph in float64 (numpy, from the same weights)
 * lands as far from the fixture as float32 does: worst pixel 0.025 for the point case and 0.051
 * for grid point 6, 99.9th percentile 0.019 and mean 9.6e-4 there. So no float32 implementation can promise a
 * 1e-2 worst case; what a faithful one does promise is checked: the bulk of the logits within
 * 1e-2, a small mean error, a worst case at that noise level, and the same thresholded masks.
 */
function assertLogitsMatch(actual: Float32Array, expected: Float32Array, label: string): void {
  const errors = absErrors(actual, expected);
  const mean = errors.reduce((a, b) => a + b, 0) / errors.length;
  const p99 = quantile(errors, 0.99);
  const max = errors.reduce((a, b) => Math.max(a, b), 0);
  let sameSign = 0;
  for (let i = 0; i < actual.length; i++) if ((actual[i] > 0) === (expected[i] > 0)) sameSign++;
  assert.ok(p99 < 1e-2, `${label}: 99% of logits within 1e-2 (99th percentile ${p99})`);
  assert.ok(mean < 2e-3, `${label}: mean abs error ${mean}`);
  assert.ok(max < 1e-1, `${label}: max abs error ${max}`);
  assert.ok(
    sameSign / actual.length >= 0.999,
    `${label}: ${sameSign / actual.length} of mask pixels agree`,
  );
}

function assertIousMatch(actual: Float32Array, expected: readonly number[], label: string): void {
  expected.forEach((e, i) =>
    assert.ok(Math.abs(actual[i] - e) < 1e-3, `${label} iou[${i}]: ${actual[i]} vs ${e}`)
  );
}

const reference = sharedAvailable
  ? JSON.parse(Deno.readTextFileSync(`${FIXTURE_DIR}/reference.json`))
  : undefined;

async function fixtureSegmenter(): Promise<OnnxSegmenter> {
  const dict = await readCheckpoint(`${FIXTURE_DIR}/tinysam_random.pth`);
  return await OnnxSegmenter.create({
    encoder: buildEncoderModel(dict),
    decoder: buildDecoderModel(dict),
    threads: 2,
  });
}

function originalEmbedding(): TinySamEmbedding {
  const [height, width] = reference.orig_size_hw;
  return { frameWidth: width, frameHeight: height, imageEmbeddings: readF32("embedding.f32") };
}

function promptFromCase(c: ReferenceCase): PromptSet {
  return {
    points: (c.points_xy_original ?? []).map(([x, y], i) => ({
      x,
      y,
      positive: c.point_labels![i] === 1,
    })),
    box: c.box_xyxy_original ?? undefined,
    maskInput: c.has_mask_input ? readF32("point.low_res_logits.f32").slice(0, PLANE) : undefined,
  };
}

Deno.test({
  name: "preprocessing reproduces the official resize of image.png and of a downscaled 720p frame",
  ignore: !sharedAvailable,
  fn() {
    for (
      const [source, resized] of [["image.png", "input_resized.png"], [
        "frame720.png",
        "frame720_resized.png",
      ]]
    ) {
      const image = readRgb(source);
      const expected = readRgb(resized);
      const size = resizedSize(image.width, image.height);
      assert.deepEqual([size.width, size.height], [expected.width, expected.height]);
      const actual = resizeRgbBilinear(
        image.data,
        image.width,
        image.height,
        size.width,
        size.height,
      );
      let withinOne = 0;
      for (let i = 0; i < actual.length; i++) {
        if (Math.abs(actual[i] - expected.data[i]) <= 1) withinOne++;
      }
      assert.ok(
        withinOne / actual.length >= 0.99,
        `${source}: ${withinOne / actual.length} within 1 level`,
      );
    }
  },
});

Deno.test({
  name: "encoder graph reproduces the official image embedding within 1e-4",
  ignore: !sharedAvailable,
  async fn() {
    const segmenter = await fixtureSegmenter();
    try {
      const image = readRgb("image.png");
      const frame = {
        index: 0,
        ptsSeconds: 0,
        width: image.width,
        height: image.height,
        data: image.data,
      };
      const pixels = encoderInput(frame);
      // Zero padding after normalization: the padded column and nothing else is exactly 0.
      assert.equal(pixels[1023], 0);
      const embedding = await segmenter.embed(frame);
      const errors = absErrors(embedding.imageEmbeddings, readF32("embedding.f32"));
      const max = errors.reduce((a, b) => Math.max(a, b), 0);
      assert.ok(max <= 1e-4, `embedding max abs error ${max}`);
    } finally {
      await segmenter.dispose();
    }
  },
});

Deno.test({
  name: "decoder graph reproduces every prompt case, the batched grid and the upscaled masks",
  ignore: !sharedAvailable,
  async fn() {
    const segmenter = await fixtureSegmenter();
    try {
      const embedding = originalEmbedding();
      const cases: ReferenceCase[] = reference.cases;
      const decoded = await segmenter.decode(embedding, cases.map(promptFromCase));
      cases.forEach((c, i) => {
        assertLogitsMatch(decoded[i].lowResLogits, readF32(`${c.name}.low_res_logits.f32`), c.name);
        assertIousMatch(decoded[i].iouPredictions, c.iou_predictions[0], c.name);
      });

      // Upscaled masks of the point case: identical in at least 99.9% of pixels.
      const upscaledReference = readF32("point.upscaled_logits.f32");
      const pixels = embedding.frameWidth * embedding.frameHeight;
      for (let o = 0; o < 4; o++) {
        const logits = segmenter.upscaleLogits(
          embedding,
          decoded[0].lowResLogits.subarray(o * PLANE, (o + 1) * PLANE),
        );
        let same = 0;
        for (let p = 0; p < pixels; p++) {
          if ((logits[p] > 0) === (upscaledReference[o * pixels + p] > 0)) same++;
        }
        assert.ok(same / pixels >= 0.999, `point output ${o}: ${same / pixels} of pixels agree`);
      }

      // The grid: 8 single points in one batch; the reference kept outputs 1..3.
      const grid = reference.grid_batch;
      const gridDecoded = await segmenter.decode(
        embedding,
        grid.points_xy_original.map(([x, y]: [number, number]) => ({
          points: [{ x, y, positive: true }],
        })),
      );
      const gridLogits = readF32("grid_batch.low_res_logits.f32");
      gridDecoded.forEach((d, b) => {
        const multimask = d.lowResLogits.subarray(PLANE);
        assertLogitsMatch(
          multimask,
          gridLogits.subarray(b * 3 * PLANE, (b + 1) * 3 * PLANE),
          `grid ${b}`,
        );
        assertIousMatch(d.iouPredictions.subarray(1), grid.iou_predictions[b], `grid ${b}`);
      });
    } finally {
      await segmenter.dispose();
    }
  },
});

Deno.test({
  name:
    "fixture decoder is ill-conditioned: a 1e-7 relative change of the embedding moves logits by over 1e-2",
  ignore: !sharedAvailable,
  async fn() {
    const segmenter = await fixtureSegmenter();
    try {
      const embedding = originalEmbedding();
      const perturbed: TinySamEmbedding = {
        ...embedding,
        imageEmbeddings: embedding.imageEmbeddings.map((v, i) =>
          v * (1 + 1e-7 * Math.sin(i * 12.9898))
        ),
      };
      const prompt = promptFromCase(reference.cases[0]);
      const [a] = await segmenter.decode(embedding, [prompt]);
      const [b] = await segmenter.decode(perturbed, [prompt]);
      const max = absErrors(a.lowResLogits, b.lowResLogits).reduce((x, y) => Math.max(x, y), 0);
      assert.ok(max > 1e-2, `perturbation moved logits by ${max}`);
    } finally {
      await segmenter.dispose();
    }
  },
});

Deno.test({
  name: "upscaling alone reproduces the official postprocess_masks of the point case",
  ignore: !sharedAvailable,
  fn() {
    const [height, width] = reference.orig_size_hw;
    const lowRes = readF32("point.low_res_logits.f32");
    const expected = readF32("point.upscaled_logits.f32");
    const pixels = width * height;
    for (let o = 0; o < 4; o++) {
      const actual = upscaleMaskLogits(lowRes.subarray(o * PLANE, (o + 1) * PLANE), width, height);
      const errors = absErrors(actual, expected.subarray(o * pixels, (o + 1) * pixels));
      assert.ok(errors.reduce((a, b) => Math.max(a, b), 0) < 1e-3);
    }
  },
});
