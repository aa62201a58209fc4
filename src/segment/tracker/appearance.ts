/**
 * An object's appearance, and how alike two appearances are. Every segmenter gives colours: a
 * coarse histogram of the frame under the mask (compared by the Bhattacharyya coefficient). A
 * segmenter that can describe a region (`Segmenter.describe`, e.g. TinySAM's image embedding
 * pooled under the mask) also gives a unit-length descriptor (compared by the dot product). Used
 * to reject a mask that slid onto something else and to recognise a lost object when it shows
 * again.
 * @module
 */
import type { Frame } from "../../frame.ts";
import type { BinaryMask } from "../mask.ts";
import type { PixelWindow } from "../geometry/pixel_window.ts";
import type { LowResGrid } from "../geometry/low_res_grid.ts";
import { LOW_RES_SIDE } from "../segmenter.ts";

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
 * The share of a colour histogram's mass in the bin of the colour `(r, g, b)`: how often the
 * object shows that colour (0 for an empty histogram).
 *
 * @example
 * ```ts
 * colourShare(track.appearance, 200, 30, 40); // 0.2: a fifth of the object is this red
 * ```
 */
export function colourShare(histogram: Float32Array, r: number, g: number, b: number): number {
  if (histogram.length === 0) return 0;
  const shift = 8 - Math.log2(BINS);
  return histogram[((r >> shift) * BINS + (g >> shift)) * BINS + (b >> shift)];
}

/**
 * The colour histogram of a region given by low-res logits (positive = inside, within the cells
 * `cells`), sampling the frame at the centre of each cell: cheap enough to screen many regions
 * before any is upscaled. Same bins and normalisation as {@link colourHistogram}.
 *
 * @example
 * ```ts
 * const colours = regionColourHistogram(frame, logits, lowResGrid(frame.width, frame.height), cells);
 * ```
 */
export function regionColourHistogram(
  frame: Frame,
  lowResLogits: Float32Array,
  grid: LowResGrid,
  cells: PixelWindow,
): Float32Array {
  const histogram = new Float32Array(BINS * BINS * BINS);
  const count = (cells.x1 - cells.x0) * (cells.y1 - cells.y0);
  const stride = Math.max(1, Math.floor(Math.sqrt(count / MAX_SAMPLES)));
  const shift = 8 - Math.log2(BINS);
  let total = 0;
  for (let cy = cells.y0; cy < cells.y1; cy += stride) {
    const y = Math.floor((cy + 0.5) * grid.cellHeight);
    if (y >= frame.height) break;
    for (let cx = cells.x0; cx < cells.x1; cx += stride) {
      if (lowResLogits[cy * LOW_RES_SIDE + cx] <= 0) continue;
      const x = Math.floor((cx + 0.5) * grid.cellWidth);
      if (x >= frame.width) break;
      const i = (y * frame.width + x) * 3;
      const r = frame.data[i] >> shift, g = frame.data[i + 1] >> shift;
      const b = frame.data[i + 2] >> shift;
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

/**
 * How alike two region descriptors are: their dot product (both are unit length), in [-1, 1].
 * Undefined when either is unknown (empty).
 *
 * @example
 * ```ts
 * descriptorSimilarity(a, a); // 1
 * ```
 */
export function descriptorSimilarity(a: Float32Array, b: Float32Array): number | undefined {
  if (a.length === 0 || b.length === 0 || a.length !== b.length) return undefined;
  let dot = 0;
  for (let k = 0; k < a.length; k++) dot += a[k] * b[k];
  return Math.max(-1, Math.min(1, dot));
}

/**
 * A running descriptor: `(1 - rate) * model + rate * observed`, scaled back to unit length. An
 * empty model is replaced by the observation; an empty observation leaves the model.
 *
 * @example
 * ```ts
 * track.descriptor = blendDescriptors(track.descriptor, observed, 0.1);
 * ```
 */
export function blendDescriptors(
  model: Float32Array,
  observed: Float32Array,
  rate: number,
): Float32Array {
  if (observed.length === 0) return model;
  if (model.length !== observed.length) return observed;
  const out = new Float32Array(model.length);
  let norm = 0;
  for (let k = 0; k < out.length; k++) {
    out[k] = (1 - rate) * model[k] + rate * observed[k];
    norm += out[k] * out[k];
  }
  norm = Math.sqrt(norm);
  if (norm === 0) return observed;
  for (let k = 0; k < out.length; k++) out[k] /= norm;
  return out;
}

/** An appearance memory or observation: colours always, a descriptor where the model gives one. */
export interface Appearance {
  /** Normalised colour histogram (empty when unknown). */
  readonly colour: Float32Array;
  /** Unit-length descriptor (empty when unknown). */
  readonly descriptor: Float32Array;
}

/** How alike an observation is to a memory, by each cue that both have. */
export interface AppearanceMatch {
  /** Bhattacharyya coefficient of the colours (1 when either is unknown). */
  readonly colour: number;
  /** Dot product of the descriptors (undefined when either is unknown). */
  readonly descriptor?: number;
}

/**
 * Compares an observation with a memory.
 *
 * @example
 * ```ts
 * const match = compareAppearance(memory, observed); // { colour: 0.93, descriptor: 0.88 }
 * ```
 */
export function compareAppearance(memory: Appearance, observed: Appearance): AppearanceMatch {
  const descriptor = descriptorSimilarity(memory.descriptor, observed.descriptor);
  return {
    colour: histogramSimilarity(memory.colour, observed.colour),
    ...(descriptor !== undefined ? { descriptor } : {}),
  };
}

/**
 * The one number two matches are ranked by: the descriptor where both have one (the model's view
 * is the better cue), else the colours.
 *
 * @example
 * ```ts
 * matchStrength({ colour: 0.9, descriptor: 0.7 }); // 0.7
 * ```
 */
export function matchStrength(match: AppearanceMatch): number {
  return match.descriptor ?? match.colour;
}
