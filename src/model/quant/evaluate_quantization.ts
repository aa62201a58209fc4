/**
 * What quantization costs, measured: int8 against fp32 on real frames: embedding cosine
 * similarity, IoU of the masks a fixed grid of point prompts gives, predicted-IoU differences,
 * and the encoder speed ratio (timed alternately in one run).
 * @module
 */
import { regionSimilarity } from "../../eval/region.ts";
import type { Frame } from "../../frame.ts";
import { maskFromLogits, outputLogits } from "../../segment/segmenter.ts";
import { outputForPrompt } from "../../segment/object_mask.ts";
import type { PromptSet } from "../../segment/segmenter.ts";
import type { GraphFiles } from "../build.ts";
import { OnnxSegmenter, type TinySamEmbedding } from "../onnx_segmenter.ts";

/** One frame's comparison. */
export interface FrameComparison {
  readonly embeddingCosine: number;
  /** Per grid point: IoU of the int8 mask with the fp32 mask. */
  readonly maskIous: readonly number[];
  /** Per grid point: |int8 - fp32| predicted IoU of the chosen output. */
  readonly iouPredictionDiffs: readonly number[];
  readonly fp32EncoderMs: number;
  readonly int8EncoderMs: number;
}

/** Summary over frames. */
export interface QuantizationReport {
  readonly frames: readonly FrameComparison[];
  readonly embeddingCosine: { readonly median: number; readonly min: number };
  readonly maskIou: { readonly median: number; readonly mean: number; readonly p10: number };
  readonly iouPredictionDiff: { readonly median: number; readonly max: number };
  readonly encoderMs: { readonly fp32: number; readonly int8: number; readonly speedup: number };
}

/** Options of {@link evaluateQuantization}. */
export interface QuantizationEvalOptions {
  readonly fp32: GraphFiles;
  readonly int8: GraphFiles;
  readonly frames: readonly Frame[];
  readonly threads?: number;
  /** Points per side of the prompt grid (default 4: 16 prompts per frame). */
  readonly gridSide?: number;
  readonly onFrame?: (index: number, comparison: FrameComparison) => void;
}

/** Cosine similarity of two embeddings. */
export function embeddingCosine(a: Float32Array, b: Float32Array): number {
  let dot = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return dot / Math.sqrt(na * nb);
}

function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** A `side x side` grid of single positive points at cell centres. */
export function pointGrid(width: number, height: number, side: number): PromptSet[] {
  const prompts: PromptSet[] = [];
  for (let j = 0; j < side; j++) {
    for (let i = 0; i < side; i++) {
      prompts.push({
        points: [{ x: ((i + 0.5) * width) / side, y: ((j + 0.5) * height) / side, positive: true }],
      });
    }
  }
  return prompts;
}

/**
 * Runs both models on every frame and compares them.
 *
 * @example
 * ```ts
 * const report = await evaluateQuantization({ fp32, int8, frames, threads: 2 });
 * console.log(report.embeddingCosine.median, report.encoderMs.speedup);
 * ```
 */
export async function evaluateQuantization(
  options: QuantizationEvalOptions,
): Promise<QuantizationReport> {
  const open = (files: GraphFiles) =>
    OnnxSegmenter.create({
      encoder: files.encoder,
      decoder: files.decoder,
      threads: options.threads,
    });
  const fp32 = await open(options.fp32);
  const int8 = await open(options.int8);
  const comparisons: FrameComparison[] = [];
  try {
    // One untimed run each, so that session warm-up is not counted.
    await fp32.embed(options.frames[0]);
    await int8.embed(options.frames[0]);
    for (const [index, frame] of options.frames.entries()) {
      // Alternate which model runs first so neither always enjoys a warm cache.
      const timed = async (segmenter: OnnxSegmenter) => {
        const started = performance.now();
        const embedding = await segmenter.embed(frame);
        return { embedding, ms: performance.now() - started };
      };
      const [a, b] = index % 2 === 0
        ? [await timed(fp32), await timed(int8)]
        : [await timed(int8), await timed(fp32)].reverse();
      const reference: TinySamEmbedding = a.embedding;
      const quantized: TinySamEmbedding = b.embedding;
      const prompts = pointGrid(frame.width, frame.height, options.gridSide ?? 4);
      // The decoder is the same float graph; only the embedding differs.
      const decodedRef = await fp32.decode(reference, prompts);
      const decodedQ = await fp32.decode(quantized, prompts);
      const maskIous: number[] = [];
      const iouPredictionDiffs: number[] = [];
      prompts.forEach((prompt, p) => {
        const output = outputForPrompt(prompt, decodedRef[p]);
        const mask = (embedding: TinySamEmbedding, decoded: typeof decodedRef[number]) =>
          maskFromLogits(
            fp32.upscaleLogits(embedding, outputLogits(decoded, output)),
            frame.width,
            frame.height,
          ).data;
        maskIous.push(
          regionSimilarity(mask(reference, decodedRef[p]), mask(quantized, decodedQ[p])),
        );
        iouPredictionDiffs.push(
          Math.abs(decodedRef[p].iouPredictions[output] - decodedQ[p].iouPredictions[output]),
        );
      });
      const comparison = {
        embeddingCosine: embeddingCosine(reference.imageEmbeddings, quantized.imageEmbeddings),
        maskIous,
        iouPredictionDiffs,
        fp32EncoderMs: a.ms,
        int8EncoderMs: b.ms,
      };
      comparisons.push(comparison);
      options.onFrame?.(index, comparison);
    }
  } finally {
    await fp32.dispose();
    await int8.dispose();
  }
  const cosines = comparisons.map((c) => c.embeddingCosine);
  const ious = comparisons.flatMap((c) => c.maskIous);
  const diffs = comparisons.flatMap((c) => c.iouPredictionDiffs);
  const fp32Ms = quantile(comparisons.map((c) => c.fp32EncoderMs), 0.5);
  const int8Ms = quantile(comparisons.map((c) => c.int8EncoderMs), 0.5);
  return {
    frames: comparisons,
    embeddingCosine: { median: quantile(cosines, 0.5), min: Math.min(...cosines) },
    maskIou: {
      median: quantile(ious, 0.5),
      mean: ious.reduce((s, v) => s + v, 0) / ious.length,
      p10: quantile(ious, 0.1),
    },
    iouPredictionDiff: { median: quantile(diffs, 0.5), max: Math.max(...diffs) },
    encoderMs: { fp32: fp32Ms, int8: int8Ms, speedup: fp32Ms / int8Ms },
  };
}
