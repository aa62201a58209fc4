/**
 * Exact Euclidean distance transform of a mask (Felzenszwalb & Huttenlocher's lower envelope
 * of parabolas, one pass per axis) and the mask's deepest point, used to place a prompt point
 * well inside an object.
 * @module
 */
import type { BinaryMask } from "./mask.ts";

/** Options of `distanceTransform`. */
export interface DistanceTransformOptions {
  /** Treat everything outside the frame as background (default true), so points avoid the border. */
  readonly borderIsBackground?: boolean;
}

/**
 * For each foreground pixel, the Euclidean distance (in pixels) to the nearest background
 * pixel; 0 on background. With no background at all (and `borderIsBackground` false) every
 * distance is `Infinity`.
 *
 * @example
 * ```ts
 * const d = distanceTransform({ width: 3, height: 3, data: new Uint8Array(9).fill(1) });
 * // d -> [1, 1, 1, 1, 2, 1, 1, 1, 1]  (the frame border counts as background)
 * ```
 */
export function distanceTransform(
  mask: BinaryMask,
  options: DistanceTransformOptions = {},
): Float32Array {
  const border = options.borderIsBackground ?? true;
  const pad = border ? 1 : 0;
  const w = mask.width + 2 * pad, h = mask.height + 2 * pad;
  const squared = new Float64Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const mx = x - pad, my = y - pad;
      const inside = mx >= 0 && my >= 0 && mx < mask.width && my < mask.height &&
        mask.data[my * mask.width + mx] !== 0;
      squared[y * w + x] = inside ? Infinity : 0;
    }
  }
  const line = new Float64Array(Math.max(w, h));
  const out = new Float64Array(Math.max(w, h));
  const v = new Int32Array(Math.max(w, h));
  const z = new Float64Array(Math.max(w, h) + 1);
  for (let x = 0; x < w; x++) {
    for (let y = 0; y < h; y++) line[y] = squared[y * w + x];
    transform1d(line, h, out, v, z);
    for (let y = 0; y < h; y++) squared[y * w + x] = out[y];
  }
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) line[x] = squared[y * w + x];
    transform1d(line, w, out, v, z);
    for (let x = 0; x < w; x++) squared[y * w + x] = out[x];
  }
  const result = new Float32Array(mask.width * mask.height);
  for (let y = 0; y < mask.height; y++) {
    for (let x = 0; x < mask.width; x++) {
      result[y * mask.width + x] = Math.sqrt(squared[(y + pad) * w + x + pad]);
    }
  }
  return result;
}

/** The point of a mask farthest from its background. */
export interface DeepestPoint {
  readonly x: number;
  readonly y: number;
  /** Distance in pixels to the nearest background pixel (or frame border). */
  readonly distance: number;
}

/**
 * The foreground pixel with the largest distance to the background (frame border counts as
 * background); among equally deep pixels, the one nearest the mask's centroid. `undefined`
 * for an empty mask.
 *
 * @example
 * ```ts
 * const mask = { width: 5, height: 5, data: new Uint8Array(25).fill(1) };
 * deepestPoint(mask); // { x: 2, y: 2, distance: 3 }
 * ```
 */
export function deepestPoint(mask: BinaryMask): DeepestPoint | undefined {
  const distances = distanceTransform(mask);
  let best = 0;
  let sumX = 0, sumY = 0, area = 0;
  for (let i = 0; i < distances.length; i++) {
    if (distances[i] > best) best = distances[i];
    if (mask.data[i] !== 0) {
      sumX += i % mask.width;
      sumY += Math.floor(i / mask.width);
      area++;
    }
  }
  if (area === 0) return undefined;
  const cx = sumX / area, cy = sumY / area;
  let bestIndex = -1, bestDist2 = Infinity;
  for (let i = 0; i < distances.length; i++) {
    if (distances[i] !== best) continue;
    const x = i % mask.width, y = Math.floor(i / mask.width);
    const d2 = (x - cx) ** 2 + (y - cy) ** 2;
    if (d2 < bestDist2) {
      bestDist2 = d2;
      bestIndex = i;
    }
  }
  return { x: bestIndex % mask.width, y: Math.floor(bestIndex / mask.width), distance: best };
}

/** 1-D squared distance transform of `f[0..n)` into `d` (lower envelope of parabolas). */
function transform1d(
  f: Float64Array,
  n: number,
  d: Float64Array,
  v: Int32Array,
  z: Float64Array,
): void {
  let k = -1;
  for (let q = 0; q < n; q++) {
    if (f[q] === Infinity) continue;
    if (k < 0) {
      k = 0;
      v[0] = q;
      z[0] = -Infinity;
      z[1] = Infinity;
      continue;
    }
    let s = ((f[q] + q * q) - (f[v[k]] + v[k] * v[k])) / (2 * q - 2 * v[k]);
    // z[0] is -Infinity, so k stays >= 0.
    while (s <= z[k]) {
      k--;
      s = ((f[q] + q * q) - (f[v[k]] + v[k] * v[k])) / (2 * q - 2 * v[k]);
    }
    k++;
    v[k] = q;
    z[k] = s;
    z[k + 1] = Infinity;
  }
  if (k < 0) {
    for (let q = 0; q < n; q++) d[q] = Infinity;
    return;
  }
  k = 0;
  for (let q = 0; q < n; q++) {
    while (z[k + 1] < q) k++;
    const dq = q - v[k];
    d[q] = dq * dq + f[v[k]];
  }
}
