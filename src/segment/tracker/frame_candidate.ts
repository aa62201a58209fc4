/**
 * An object's mask on the current frame before it is accepted: the chosen decoder output
 * upscaled (only that one) and thresholded, looking only at the pixels its low-res cells can reach.
 * @module
 */
import type { Frame } from "../../frame.ts";
import type { BinaryMask } from "../mask.ts";
import { colourHistogram } from "./appearance.ts";
import {
  type DecodedPrompt,
  type FrameEmbedding,
  outputLogits,
  type Segmenter,
} from "../segmenter.ts";
import {
  cellsOfWindow,
  type LowResGrid,
  pixelsOfCells,
  positiveCells,
} from "../geometry/low_res_grid.ts";
import { isEmptyWindow, maskExtent, type PixelWindow } from "../geometry/pixel_window.ts";

/** Where a candidate came from. */
export type CandidateSource = "prompt" | "propagation" | "reacquisition" | "observation";

/** One object's mask on the current frame, before overlaps are resolved and losses detected. */
export interface FrameCandidate {
  readonly id: number;
  readonly source: CandidateSource;
  /** Full-frame mask; overlap resolution clears pixels in it. */
  readonly mask: BinaryMask;
  area: number;
  /** Tight window of `mask`. */
  bounds: PixelWindow;
  readonly score: number;
  /** The chosen output's low-res logits (a view into the decoder's result; never written to). */
  readonly lowResLogits: Float32Array;
  /** Full-frame logits of the chosen output, when computed. */
  logits?: Float32Array;
  /** Colour histogram of the frame under `mask`, once computed (cleared when the mask changes). */
  appearance?: Float32Array;
  /** The segmenter's descriptor of the region, where it gives one (see `Segmenter.describe`). */
  descriptor?: Float32Array;
  /** Wins every overlap against candidates of lower priority (user prompts on their frame). */
  readonly priority: number;
}

/**
 * Thresholds frame-sized logits at 0 inside `window` only (the logits are assumed non-positive
 * outside it) into a new full-frame mask.
 */
export function thresholdInWindow(
  logits: Float32Array,
  width: number,
  height: number,
  window: PixelWindow,
): BinaryMask {
  const data = new Uint8Array(width * height);
  for (let y = window.y0; y < window.y1; y++) {
    for (let x = window.x0, i = y * width + window.x0; x < window.x1; x++, i++) {
      if (logits[i] > 0) data[i] = 1;
    }
  }
  return { width, height, data };
}

/**
 * The candidate of output `output` of `decoded`: upscales that output only, thresholds it where
 * its positive low-res cells (grown by one cell, the reach of bilinear upscaling) lie. With
 * `searchCells`, only positive cells inside them count (a propagated object is looked for near its
 * prompt box; anything beyond is ignored).
 *
 * @example
 * ```ts
 * const candidate = candidateFromOutput(segmenter, embedding, grid, decoded, 0, 0.93, 7, "propagation");
 * ```
 */
export function candidateFromOutput(
  segmenter: Segmenter,
  embedding: FrameEmbedding,
  grid: LowResGrid,
  decoded: DecodedPrompt,
  output: number,
  score: number,
  id: number,
  source: CandidateSource,
  priority = 0,
  searchCells?: PixelWindow,
): FrameCandidate {
  const { frameWidth: width, frameHeight: height } = embedding;
  // Kept as a view into the decoder's result (the tracker never writes to it).
  const lowResLogits = outputLogits(decoded, output);
  const cells = positiveCells(lowResLogits, searchCells);
  if (isEmptyWindow(cells)) {
    return {
      id,
      source,
      mask: { width, height, data: new Uint8Array(width * height) },
      area: 0,
      bounds: cells,
      score,
      lowResLogits,
      priority,
    };
  }
  const window = pixelsOfCells(grid, cells, 1);
  const logits = segmenter.upscaleLogits(embedding, lowResLogits, window);
  const mask = thresholdInWindow(logits, width, height, window);
  const { area, bounds } = maskExtent(mask, window);
  return { id, source, mask, area, bounds, score, lowResLogits, logits, priority };
}

/** The candidate's colour histogram on `frame`, computed once. */
export function candidateAppearance(candidate: FrameCandidate, frame: Frame): Float32Array {
  candidate.appearance ??= colourHistogram(frame, candidate.mask, candidate.bounds);
  return candidate.appearance;
}

/**
 * The candidate's region descriptor (see `Segmenter.describe`), computed once; empty when the
 * segmenter gives none or the candidate is empty.
 */
export function candidateDescriptor(
  candidate: FrameCandidate,
  segmenter: Segmenter,
  embedding: FrameEmbedding,
  grid: LowResGrid,
): Float32Array {
  candidate.descriptor ??= segmenter.describe && candidate.area > 0
    ? segmenter.describe(
      embedding,
      candidate.lowResLogits,
      cellsOfWindow(grid, candidate.bounds, 2),
    )
    : new Float32Array(0);
  return candidate.descriptor;
}
