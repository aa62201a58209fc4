/**
 * What an everything pass returns: the kept masks (run-length encoded, with the scores SAM's
 * automatic mask generator reports) and counters of the work done.
 * @module
 */
import type { BoxXywh, Rle } from "../mask.ts";
import type { GridPoint } from "./point_grid.ts";

/** Which grid of a pass a mask's prompt point came from. */
export type GridName = "dense" | "sparse";

/** One mask found by an everything pass. */
export interface EverythingMask {
  /** The mask at frame resolution (COCO RLE, `size` = `[height, width]`). */
  readonly rle: Rle;
  /** Tight `[x, y, w, h]` box (`w = xmax - xmin + 1`). */
  readonly bbox: BoxXywh;
  /** Foreground pixels. */
  readonly area: number;
  /** The decoder's predicted IoU for the kept output. */
  readonly predictedIou: number;
  /** Stability score of the kept output's frame-resolution logits. */
  readonly stabilityScore: number;
  /** The single positive point that prompted the mask, in frame pixels. */
  readonly point: GridPoint;
  /** The decoder output the mask comes from (1..3: single points use the multimask outputs). */
  readonly output: number;
  /** That output's `[256, 256]` low-res logits (e.g. the `mask_input` to follow it in video). */
  readonly lowResLogits: Float32Array;
  /** The grid the prompt point belongs to. */
  readonly grid: GridName;
}

/** Counters of one everything pass. */
export interface EverythingStats {
  /** Point prompts sent to the decoder. */
  readonly promptsDecoded: number;
  /** `Segmenter.decode` calls made (the segmenter may split each into smaller runs). */
  readonly decodeCalls: number;
  /** Dense-grid points not decoded because they fell on high-confidence pixels (hierarchical). */
  readonly pointsSkipped: number;
  /** Masks the decoder returned (3 per point). */
  readonly candidates: number;
  /** Masks upscaled to frame resolution: those above the predicted-IoU threshold. */
  readonly upscaled: number;
  /** Masks that also passed the stability and crop-edge filters (before NMS). */
  readonly filtered: number;
  /** Masks returned. */
  readonly kept: number;
}

/** The masks of an everything pass, best first (by predicted IoU, after NMS), and its counters. */
export interface EverythingResult {
  readonly masks: readonly EverythingMask[];
  readonly stats: EverythingStats;
}
