/**
 * Choosing one of the decoder's outputs for an object. A fresh prompt follows SAM's advice (a lone
 * point is ambiguous, so take the multimask output the model rates best; anything more specific,
 * the single-mask output). A propagated prompt takes the output most consistent with the object's
 * previous mask moved by its velocity, weighed against the predicted IoU.
 * @module
 */
import {
  type DecodedPrompt,
  DECODER_OUTPUTS,
  LOW_RES_SIDE,
  outputLogits,
  type PromptSet,
} from "../segmenter.ts";
import type { LowResGrid } from "../geometry/low_res_grid.ts";
import type { Velocity } from "./object_state.ts";
import { isEmptyWindow, type PixelWindow } from "../geometry/pixel_window.ts";

/** The chosen output and why. */
export interface OutputChoice {
  readonly output: number;
  /** Predicted IoU of the output, clamped to [0, 1]. */
  readonly score: number;
  /** IoU with the moved previous mask on the low-res grid (1 when there was none). */
  readonly consistency: number;
}

/** Predicted IoU of output `o`, clamped to [0, 1]. */
export function outputScore(decoded: DecodedPrompt, o: number): number {
  const v = decoded.iouPredictions[o];
  return Number.isFinite(v) ? Math.max(0, Math.min(1, v)) : 0;
}

/**
 * The output for a fresh (user) prompt: the best-rated multimask output for a single point
 * without a box, output 0 otherwise.
 *
 * @example
 * ```ts
 * chooseFreshOutput({ points: [{ x: 5, y: 5, positive: true }] }, decoded).output; // 1, 2 or 3
 * ```
 */
export function chooseFreshOutput(prompt: PromptSet, decoded: DecodedPrompt): OutputChoice {
  let output = 0;
  if (!prompt.box && prompt.points.length === 1) {
    output = 1;
    for (let o = 2; o < DECODER_OUTPUTS; o++) {
      if (outputScore(decoded, o) > outputScore(decoded, output)) output = o;
    }
  }
  return { output, score: outputScore(decoded, output), consistency: 1 };
}

/**
 * IoU, over the cells of `window`, between `logits > 0` and `previous > 0` moved by
 * `(shiftX, shiftY)` cells. Two empty masks have IoU 0.
 */
export function shiftedLowResIou(
  logits: Float32Array,
  previous: Float32Array,
  shiftX: number,
  shiftY: number,
  window: PixelWindow,
): number {
  const sx = Math.round(shiftX), sy = Math.round(shiftY);
  let intersection = 0, union = 0;
  for (let y = window.y0; y < window.y1; y++) {
    const py = y - sy;
    const prevRow = py >= 0 && py < LOW_RES_SIDE ? py * LOW_RES_SIDE : -1;
    for (let x = window.x0; x < window.x1; x++) {
      const a = logits[y * LOW_RES_SIDE + x] > 0;
      const px = x - sx;
      const b = prevRow >= 0 && px >= 0 && px < LOW_RES_SIDE && previous[prevRow + px] > 0;
      if (a && b) intersection++;
      if (a || b) union++;
    }
  }
  return union > 0 ? intersection / union : 0;
}

/** How consistency and predicted IoU are weighed. */
export interface TrackedOutputOptions {
  /** Weight of the consistency with the moved previous mask; the predicted IoU gets the rest (default 0.5). */
  readonly consistencyWeight?: number;
}

/**
 * The output for a propagated prompt: maximises `w * consistency + (1 - w) * predicted IoU`,
 * where consistency is the low-res IoU with the previous mask moved by the velocity, measured over
 * `cells` (the prompt box's cells, grown; the outputs are assumed empty outside it).
 *
 * @example
 * ```ts
 * const choice = chooseTrackedOutput(decoded, track.lowResLogits, track.velocity, grid, cells);
 * ```
 */
export function chooseTrackedOutput(
  decoded: DecodedPrompt,
  previousLowResLogits: Float32Array,
  velocity: Velocity,
  grid: LowResGrid,
  cells: PixelWindow,
  options: TrackedOutputOptions = {},
): OutputChoice {
  const w = options.consistencyWeight ?? 0.5;
  let best: OutputChoice | undefined, bestValue = -Infinity;
  for (let o = 0; o < DECODER_OUTPUTS; o++) {
    const consistency = isEmptyWindow(cells) ? 0 : shiftedLowResIou(
      outputLogits(decoded, o),
      previousLowResLogits,
      velocity.x / grid.cellWidth,
      velocity.y / grid.cellHeight,
      cells,
    );
    const score = outputScore(decoded, o);
    const value = w * consistency + (1 - w) * score;
    if (value > bestValue) {
      bestValue = value;
      best = { output: o, score, consistency };
    }
  }
  return best!;
}
