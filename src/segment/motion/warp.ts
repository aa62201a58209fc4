/**
 * Moving a mask (or a grid of logits) by a {@link Similarity}: each output pixel looks up where it
 * came from (inverse mapping), so the result has no holes; only the window the moved object can
 * reach is visited.
 * @module
 */
import type { BinaryMask, BoxXyxy } from "../mask.ts";
import { maskExtent, type PixelWindow } from "../tracker/pixel_window.ts";
import { applyMotion, invertMotion, type Similarity } from "./similarity.ts";

/** A moved mask with its area and tight bounds. */
export interface WarpedMask {
  readonly mask: BinaryMask;
  readonly area: number;
  /** Tight window of the moved mask (empty when it left the frame). */
  readonly bounds: PixelWindow;
}

/**
 * The box (not clipped) around the pixel centres of `bounds` moved by `motion`, as `[x0, y0, x1,
 * y1]` with `x1`, `y1` one past the last pixel.
 *
 * @example
 * ```ts
 * movedBox({ x0: 10, y0: 10, x1: 20, y1: 20 }, translation(5, 0)); // [15, 10, 25, 20]
 * ```
 */
export function movedBox(bounds: PixelWindow, motion: Similarity): BoxXyxy {
  const corners = [
    applyMotion(motion, bounds.x0, bounds.y0),
    applyMotion(motion, bounds.x1 - 1, bounds.y0),
    applyMotion(motion, bounds.x0, bounds.y1 - 1),
    applyMotion(motion, bounds.x1 - 1, bounds.y1 - 1),
  ];
  const xs = corners.map((c) => c.x), ys = corners.map((c) => c.y);
  return [Math.min(...xs), Math.min(...ys), Math.max(...xs) + 1, Math.max(...ys) + 1];
}

/**
 * The window (clipped to `width x height`) covering `bounds` moved by `motion`, grown by `margin`.
 *
 * @example
 * ```ts
 * movedWindow({ x0: 10, y0: 10, x1: 20, y1: 20 }, translation(5, 0), 640, 360); // x0 14 .. x1 26
 * ```
 */
export function movedWindow(
  bounds: PixelWindow,
  motion: Similarity,
  width: number,
  height: number,
  margin = 1,
): PixelWindow {
  const box = movedBox(bounds, motion);
  return {
    x0: Math.max(0, Math.min(width, Math.floor(box[0]) - margin)),
    y0: Math.max(0, Math.min(height, Math.floor(box[1]) - margin)),
    x1: Math.max(0, Math.min(width, Math.ceil(box[2]) + margin)),
    y1: Math.max(0, Math.min(height, Math.ceil(box[3]) + margin)),
  };
}

/**
 * `mask` (empty outside `bounds`) moved by `motion`, nearest-neighbour; parts moved outside the
 * frame are cut off.
 *
 * @example
 * ```ts
 * const { mask: moved, area } = warpMask(mask, bounds, translation(3.2, -1));
 * ```
 */
export function warpMask(mask: BinaryMask, bounds: PixelWindow, motion: Similarity): WarpedMask {
  const { width, height, data } = mask;
  const out = new Uint8Array(width * height);
  const window = movedWindow(bounds, motion, width, height);
  const inverse = invertMotion(motion);
  const { a, b } = inverse;
  for (let y = window.y0; y < window.y1; y++) {
    // Source of (x, y): (a x - b y + tx, b x + a y + ty), stepped along the row.
    let sx = a * window.x0 - b * y + inverse.tx, sy = b * window.x0 + a * y + inverse.ty;
    const outRow = y * width;
    for (let x = window.x0; x < window.x1; x++, sx += a, sy += b) {
      const ix = Math.round(sx), iy = Math.round(sy);
      if (
        ix >= bounds.x0 && ix < bounds.x1 && iy >= bounds.y0 && iy < bounds.y1 &&
        data[iy * width + ix] !== 0
      ) out[outRow + x] = 1;
    }
  }
  const moved: BinaryMask = { width, height, data: out };
  return { mask: moved, ...maskExtent(moved, window) };
}

/**
 * A `width x height` grid of values moved by `motion` (given in grid cells), bilinear with clamped
 * borders, computed only inside `window` (cells); every other cell gets `fill`.
 *
 * @example
 * ```ts
 * const moved = warpGrid(lowResLogits, 256, 256, gridMotion(motion, 5, 5), reach, -20);
 * ```
 */
export function warpGrid(
  values: Float32Array,
  width: number,
  height: number,
  motion: Similarity,
  window: PixelWindow,
  fill: number,
): Float32Array {
  const out = new Float32Array(width * height).fill(fill);
  const inverse = invertMotion(motion);
  for (let v = window.y0; v < window.y1; v++) {
    for (let u = window.x0; u < window.x1; u++) {
      const source = applyMotion(inverse, u, v);
      const sx = source.x < 0 ? 0 : source.x > width - 1 ? width - 1 : source.x;
      const sy = source.y < 0 ? 0 : source.y > height - 1 ? height - 1 : source.y;
      const x0 = Math.min(width - 2, Math.floor(sx)), y0 = Math.min(height - 2, Math.floor(sy));
      const fx = sx - x0, fy = sy - y0;
      const i = y0 * width + x0;
      const top = values[i] + fx * (values[i + 1] - values[i]);
      const bottom = values[i + width] + fx * (values[i + width + 1] - values[i + width]);
      out[v * width + u] = top + fy * (bottom - top);
    }
  }
  return out;
}
