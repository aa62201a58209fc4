/**
 * An object's appearance as a coarse colour histogram of the frame under its mask, and how alike
 * two histograms are (Bhattacharyya coefficient). Used to reject a mask that slid onto something
 * else and to confirm that a re-acquired mask is the same object.
 * @module
 */
import type { Frame } from "../../frame.ts";
import type { BinaryMask } from "../mask.ts";
import type { PixelWindow } from "../geometry/pixel_window.ts";

/** Bins per colour channel. */
const BINS = 8;
/** Pixels sampled per histogram at most (the window is strided to stay under it). */
const MAX_SAMPLES = 1024;

/**
 * The normalised `8 x 8 x 8` rgb histogram of the frame's pixels under `mask` inside `window`
 * (sampled on a regular stride for large masks). An empty mask gives an all-zero histogram.
 *
 * @example
 * ```ts
 * const appearance = colourHistogram(frame, mask, bounds);
 * ```
 */
export function colourHistogram(frame: Frame, mask: BinaryMask, window: PixelWindow): Float32Array {
  const histogram = new Float32Array(BINS * BINS * BINS);
  const pixels = (window.x1 - window.x0) * (window.y1 - window.y0);
  const stride = Math.max(1, Math.floor(Math.sqrt(pixels / MAX_SAMPLES)));
  const shift = 8 - Math.log2(BINS);
  let total = 0;
  for (let y = window.y0; y < window.y1; y += stride) {
    for (let x = window.x0; x < window.x1; x += stride) {
      const i = y * frame.width + x;
      if (mask.data[i] === 0) continue;
      const r = frame.data[i * 3] >> shift, g = frame.data[i * 3 + 1] >> shift;
      const b = frame.data[i * 3 + 2] >> shift;
      histogram[(r * BINS + g) * BINS + b]++;
      total++;
    }
  }
  if (total > 0) { for (let k = 0; k < histogram.length; k++) histogram[k] /= total; }
  return histogram;
}

/**
 * Bhattacharyya coefficient of two normalised histograms: 1 for identical distributions, 0 for
 * disjoint ones. An empty (unknown) histogram matches anything (returns 1).
 *
 * @example
 * ```ts
 * histogramSimilarity(a, a); // 1
 * ```
 */
export function histogramSimilarity(a: Float32Array, b: Float32Array): number {
  if (a.length === 0 || b.length === 0) return 1;
  let sum = 0, massA = 0, massB = 0;
  for (let k = 0; k < a.length; k++) {
    sum += Math.sqrt(a[k] * b[k]);
    massA += a[k];
    massB += b[k];
  }
  if (massA === 0 || massB === 0) return 1;
  return Math.min(1, sum);
}

/**
 * A running appearance: `(1 - rate) * model + rate * observed`, renormalised. An empty model is
 * replaced by the observation.
 */
export function blendHistograms(
  model: Float32Array,
  observed: Float32Array,
  rate: number,
): Float32Array {
  if (model.length === 0) return observed;
  let observedMass = 0;
  for (let k = 0; k < observed.length; k++) observedMass += observed[k];
  if (observedMass === 0) return model;
  const out = new Float32Array(model.length);
  for (let k = 0; k < out.length; k++) out[k] = (1 - rate) * model[k] + rate * observed[k];
  return out;
}
