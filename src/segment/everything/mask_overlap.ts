/**
 * Overlap of two full-frame binary masks, computed only where their boxes meet (so the cost
 * follows the objects' size, not the frame's), optionally with one mask shifted.
 * @module
 */
import type { BinaryMask, BoxXyxy } from "../mask.ts";

/** A full-frame mask with its area and its box `[x0, y0, x1, y1]` (`x1`, `y1` one past the last pixel). */
export interface MeasuredMask {
  readonly mask: BinaryMask;
  readonly area: number;
  readonly box: BoxXyxy;
}

/**
 * Pixels set in `a` and in `b` moved by the whole-pixel shift `(dx, dy)` (b's pixel `(x, y)` is
 * compared with a's pixel `(x + dx, y + dy)`). Pixels moved outside the frame count for nothing.
 *
 * @example
 * ```ts
 * shiftedIntersection(a, b, 3, 0); // overlap of a with b moved 3 px right
 * ```
 */
export function shiftedIntersection(
  a: MeasuredMask,
  b: MeasuredMask,
  dx = 0,
  dy = 0,
): number {
  const { width, height } = a.mask;
  const x0 = Math.max(0, Math.floor(a.box[0]), Math.floor(b.box[0]) + dx);
  const y0 = Math.max(0, Math.floor(a.box[1]), Math.floor(b.box[1]) + dy);
  const x1 = Math.min(width, Math.ceil(a.box[2]), Math.ceil(b.box[2]) + dx);
  const y1 = Math.min(height, Math.ceil(a.box[3]), Math.ceil(b.box[3]) + dy);
  let inter = 0;
  const da = a.mask.data, db = b.mask.data;
  for (let y = y0; y < y1; y++) {
    const ra = y * width, rb = (y - dy) * width - dx;
    for (let x = x0; x < x1; x++) if (da[ra + x] !== 0 && db[rb + x] !== 0) inter++;
  }
  return inter;
}

/**
 * IoU of `a` and `b` moved by `(dx, dy)` (whole pixels), using the masks' stated areas (pixels
 * of `b` moved out of the frame still count in its area).
 *
 * @example
 * ```ts
 * maskIou(found, tracked); // 0.93
 * ```
 */
export function maskIou(a: MeasuredMask, b: MeasuredMask, dx = 0, dy = 0): number {
  const inter = shiftedIntersection(a, b, dx, dy);
  const union = a.area + b.area - inter;
  return union > 0 ? inter / union : 0;
}
