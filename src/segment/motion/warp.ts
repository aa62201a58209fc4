/**
 * Moving a mask (or a grid of logits) by a {@link Similarity}: each output pixel looks up where it
 * came from (inverse mapping), so the result has no holes; only the window the moved object can
 * reach is visited.
 * @module
 */
import type { BinaryMask, BoxXyxy } from "../mask.ts";
import { maskExtent, type PixelWindow } from "../geometry/pixel_window.ts";
import { applyMotion, invertMotion, type Similarity } from "./similarity.ts";

/**
 * Largest displacement (pixels) a rotation may cause across a window for `warpMask` to move rows
 * and columns as wholes (nearest-neighbour sampling errs by half a pixel anyway).
 */
const MAX_ROTATION_SHIFT_PX = 0.5;

/**
 * On one axis of `size` pixels, the source index for `i`: the edge itself for up to `reach` pixels
 * beyond an edge the mask is cut by (`low` at 0, `high` at `size`), `i` otherwise.
 */
function edgeSource(
  size: number,
  low: boolean,
  high: boolean,
  reach: number,
): (i: number) => number {
  return (i) =>
    i < 0 && low && i >= -reach ? 0 : i >= size && high && i < size + reach ? size - 1 : i;
}

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
 * frame are cut off. A mask that touches an edge of the frame is taken to go on beyond it as its
 * last row or column there (an object the frame cuts), until it is about as long as it is wide:
 * moved inwards, it shows that much more, so an object entering the frame grows between keyframes
 * instead of staying as cut as it was.
 *
 * @example
 * ```ts
 * const { mask: moved, area } = warpMask(mask, bounds, translation(3.2, -1));
 * ```
 */
export function warpMask(mask: BinaryMask, bounds: PixelWindow, motion: Similarity): WarpedMask {
  const { width, height, data } = mask;
  const out = new Uint8Array(width * height);
  const cut = {
    left: bounds.x0 === 0,
    top: bounds.y0 === 0,
    right: bounds.x1 === width,
    bottom: bounds.y1 === height,
  };
  const reach = movedWindow(bounds, motion, width, height);
  const window = {
    x0: cut.left ? 0 : reach.x0,
    y0: cut.top ? 0 : reach.y0,
    x1: cut.right ? width : reach.x1,
    y1: cut.bottom ? height : reach.y1,
  };
  // Source coordinates beyond a cut edge read the edge, as far as the object is likely to go on:
  // until it is about as long as it is wide. (Looked up only for sources outside the frame.)
  const side = Math.max(bounds.x1 - bounds.x0, bounds.y1 - bounds.y0);
  const sourceX = edgeSource(width, cut.left, cut.right, side - (bounds.x1 - bounds.x0));
  const sourceY = edgeSource(height, cut.top, cut.bottom, side - (bounds.y1 - bounds.y0));
  const inverse = invertMotion(motion);
  const { a, b } = inverse;
  const columns = window.x1 - window.x0, rows = window.y1 - window.y0;
  const cx = (window.x0 + window.x1) / 2, cy = (window.y0 + window.y1) / 2;
  if (Math.abs(b) * Math.max(columns, rows) / 2 < MAX_ROTATION_SHIFT_PX) {
    // With a rotation too small to move any pixel by a whole one, each row maps to one source
    // row and each column to one source column (taken through the window's centre): look both
    // up once.
    const sourceColumn = new Int32Array(columns);
    for (let x = window.x0; x < window.x1; x++) {
      let ix = Math.round(a * x - b * cy + inverse.tx);
      if (ix < 0 || ix >= width) ix = sourceX(ix);
      sourceColumn[x - window.x0] = ix >= bounds.x0 && ix < bounds.x1 ? ix : -1;
    }
    let area = 0, x0 = columns, x1 = -1, y0 = -1, y1 = -1;
    for (let y = window.y0; y < window.y1; y++) {
      let iy = Math.round(b * cx + a * y + inverse.ty);
      if (iy < 0 || iy >= height) iy = sourceY(iy);
      if (iy < bounds.y0 || iy >= bounds.y1) continue;
      const row = iy * width, outRow = y * width + window.x0;
      let first = -1, last = -1;
      for (let c = 0; c < columns; c++) {
        const ix = sourceColumn[c];
        if (ix >= 0 && data[row + ix] !== 0) {
          out[outRow + c] = 1;
          area++;
          if (first < 0) first = c;
          last = c;
        }
      }
      if (first < 0) continue;
      if (y0 < 0) y0 = y;
      y1 = y;
      if (first < x0) x0 = first;
      if (last > x1) x1 = last;
    }
    const moved: BinaryMask = { width, height, data: out };
    return {
      mask: moved,
      area,
      bounds: area === 0 ? { x0: 0, y0: 0, x1: 0, y1: 0 } : {
        x0: window.x0 + x0,
        y0,
        x1: window.x0 + x1 + 1,
        y1: y1 + 1,
      },
    };
  }
  for (let y = window.y0; y < window.y1; y++) {
    // Source of (x, y): (a x - b y + tx, b x + a y + ty), stepped along the row.
    let sx = a * window.x0 - b * y + inverse.tx, sy = b * window.x0 + a * y + inverse.ty;
    const outRow = y * width;
    for (let x = window.x0; x < window.x1; x++, sx += a, sy += b) {
      let ix = Math.round(sx), iy = Math.round(sy);
      if (ix < 0 || ix >= width) ix = sourceX(ix);
      if (iy < 0 || iy >= height) iy = sourceY(iy);
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
  const { a, b, tx, ty } = invertMotion(motion);
  for (let v = window.y0; v < window.y1; v++) {
    for (let u = window.x0; u < window.x1; u++) {
      const px = a * u - b * v + tx, py = b * u + a * v + ty;
      const sx = px < 0 ? 0 : px > width - 1 ? width - 1 : px;
      const sy = py < 0 ? 0 : py > height - 1 ? height - 1 : py;
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
