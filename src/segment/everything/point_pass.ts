/**
 * The core of every everything pass: decode single-point prompts in batches and keep the
 * multimask outputs that pass SAM's per-mask filters. Only masks above the predicted-IoU
 * threshold are upscaled to frame resolution; the stability score, the mask, its box and its RLE
 * come from those frame-resolution logits.
 * @module
 */
import type { BoxXyxy } from "../mask.ts";
import { encodeRle, rleArea, rleToBbox } from "../rle.ts";
import {
  DECODER_OUTPUTS,
  type FrameEmbedding,
  maskFromLogits,
  outputLogits,
  type PromptSet,
  type Segmenter,
} from "../segmenter.ts";
import { stabilityScore } from "../stability.ts";
import { lowResGrid, pixelsOfCells, positiveCells } from "../geometry/low_res_grid.ts";
import { isBoxNearCropEdge } from "./crop_edge.ts";
import type { EverythingMask, GridName } from "./everything_mask.ts";
import { samBoxOf } from "./mask_nms.ts";
import type { EverythingOptions } from "./options.ts";
import { type GridPoint, pixelIndexOf } from "./point_grid.ts";

/**
 * Points to look up in the frame-resolution logits of every mask that passes the predicted-IoU
 * and stability filters (TinySAM marks high-confidence pixels before the crop-edge filter).
 */
export interface ConfidenceProbe {
  readonly points: readonly GridPoint[];
  /** A point is hit when some filtered mask's logit at its pixel is strictly above this. */
  readonly logit: number;
}

/** Filtered masks of one set of point prompts (not yet deduplicated) and the work done. */
export interface PointPassResult {
  readonly masks: EverythingMask[];
  /** Per probe point, 1 when it was hit (only with a probe). */
  readonly probeHits?: Uint8Array;
  readonly promptsDecoded: number;
  readonly decodeCalls: number;
  readonly candidates: number;
  readonly upscaled: number;
}

/**
 * Decodes one positive point per prompt, `options.pointsPerBatch` prompts per
 * `Segmenter.decode` call, and keeps each multimask output (1..3) whose predicted IoU is above
 * `predIouThreshold`, whose stability score is at least `stabilityScoreThreshold` (each filter
 * off when its threshold is <= 0, as in SAM), that is not empty and that is not cut by the crop
 * edge (`options.cropBox`). With a crop box, logits outside it are cleared before anything is
 * measured, as if the model had seen only the crop (SAM decodes each crop on its own), so an
 * object crossing the crop's edge is cut there and dropped.
 *
 * @example
 * ```ts
 * const pass = await decodePointPrompts(segmenter, embedding, pointGrid(8, [0, 0, w, h]), "sparse", options);
 * pass.masks.length; // masks before NMS
 * ```
 */
export async function decodePointPrompts(
  segmenter: Segmenter,
  embedding: FrameEmbedding,
  points: readonly GridPoint[],
  grid: GridName,
  options: EverythingOptions,
  probe?: ConfidenceProbe,
): Promise<PointPassResult> {
  const { frameWidth: width, frameHeight: height } = embedding;
  const frameBox: BoxXyxy = [0, 0, width, height];
  const cropBox = options.cropBox ?? frameBox;
  const cropped = cropBox.some((v, k) => v !== frameBox[k]);
  const probeHits = probe ? new Uint8Array(probe.points.length) : undefined;
  const probePixels = probe?.points.map((p) => pixelIndexOf(p, width, height));
  const masks: EverythingMask[] = [];
  let decodeCalls = 0, candidates = 0, upscaled = 0;
  const cellGrid = lowResGrid(width, height);
  const lowest = Math.min(
    options.maskThreshold,
    options.maskThreshold - Math.abs(options.stabilityScoreOffset),
    probe?.logit ?? Infinity,
  );

  for (let start = 0; start < points.length; start += options.pointsPerBatch) {
    const batch = points.slice(start, start + options.pointsPerBatch);
    const prompts: PromptSet[] = batch.map((p) => ({
      points: [{ x: p.x, y: p.y, positive: true }],
    }));
    const decoded = await segmenter.decode(embedding, prompts);
    decodeCalls++;
    for (let k = 0; k < batch.length; k++) {
      for (let output = 1; output < DECODER_OUTPUTS; output++) {
        candidates++;
        const predictedIou = decoded[k].iouPredictions[output];
        if (options.predIouThreshold > 0 && !(predictedIou > options.predIouThreshold)) continue;
        const lowResLogits = outputLogits(decoded[k], output);
        // Every test below compares logits with a threshold of at least `lowest`: only the pixels
        // near cells above it need upscaling (bilinear values never exceed their neighbours').
        const cells = positiveCells(lowResLogits, undefined, lowest);
        const logits = segmenter.upscaleLogits(
          embedding,
          lowResLogits,
          pixelsOfCells(cellGrid, cells, 1),
        );
        upscaled++;
        if (cropped) clipToBox(logits, width, height, cropBox);
        const stability = stabilityScore(
          logits,
          options.maskThreshold,
          options.stabilityScoreOffset,
        );
        if (
          options.stabilityScoreThreshold > 0 && !(stability >= options.stabilityScoreThreshold)
        ) {
          continue;
        }
        if (probe && probeHits && probePixels) {
          for (let i = 0; i < probePixels.length; i++) {
            if (probeHits[i] === 0 && logits[probePixels[i]] > probe.logit) probeHits[i] = 1;
          }
        }
        const rle = encodeRle(maskFromLogits(logits, width, height, options.maskThreshold));
        const area = rleArea(rle);
        if (area === 0) continue;
        const bbox = rleToBbox(rle);
        if (isBoxNearCropEdge(samBoxOf(bbox), cropBox, frameBox, options.cropEdgeTolerance)) {
          continue;
        }
        masks.push({
          rle,
          bbox,
          area,
          predictedIou,
          stabilityScore: stability,
          point: batch[k],
          output,
          lowResLogits: lowResLogits.slice(),
          grid,
        });
      }
    }
  }
  return {
    masks,
    ...(probeHits ? { probeHits } : {}),
    promptsDecoded: points.length,
    decodeCalls,
    candidates,
    upscaled,
  };
}

/** Sets the logits outside `box` (frame pixels, rounded outwards) to -Infinity. */
function clipToBox(logits: Float32Array, width: number, height: number, box: BoxXyxy): void {
  const x0 = Math.max(0, Math.floor(box[0])), x1 = Math.min(width, Math.ceil(box[2]));
  const y0 = Math.max(0, Math.floor(box[1])), y1 = Math.min(height, Math.ceil(box[3]));
  for (let y = 0; y < height; y++) {
    const row = y * width;
    if (y < y0 || y >= y1) {
      logits.fill(-Infinity, row, row + width);
      continue;
    }
    logits.fill(-Infinity, row, row + x0);
    logits.fill(-Infinity, row + x1, row + width);
  }
}
