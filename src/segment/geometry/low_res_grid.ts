/**
 * Where the decoder's low-res logit grid (`LOW_RES_SIDE`^2 over the padded 1024 frame) lies on the
 * frame: the frame is scaled so its longest side is 1024 and padded at the bottom and right, so one
 * cell covers `frame side / (resized side / 4)` frame pixels on each axis.
 * @module
 */
import { LOW_RES_SIDE } from "../segmenter.ts";
import type { PixelWindow } from "./pixel_window.ts";

/** Side of the model's square input (the low-res grid covers it). */
const MODEL_SIDE = 1024;

/** Cell size of the low-res grid in frame pixels, per axis. */
export interface LowResGrid {
  readonly frameWidth: number;
  readonly frameHeight: number;
  /** Frame pixels per cell horizontally. */
  readonly cellWidth: number;
  /** Frame pixels per cell vertically. */
  readonly cellHeight: number;
}

/**
 * The low-res grid of a `width x height` frame (resizing as the model's preprocessing does:
 * longest side to 1024, the other rounded).
 *
 * @example
 * ```ts
 * lowResGrid(1280, 720).cellWidth; // 5
 * ```
 */
export function lowResGrid(width: number, height: number): LowResGrid {
  const scale = MODEL_SIDE / Math.max(width, height);
  const resizedWidth = Math.floor(width * scale + 0.5);
  const resizedHeight = Math.floor(height * scale + 0.5);
  const cellsPerSide = LOW_RES_SIDE / MODEL_SIDE;
  return {
    frameWidth: width,
    frameHeight: height,
    cellWidth: width / (resizedWidth * cellsPerSide),
    cellHeight: height / (resizedHeight * cellsPerSide),
  };
}

/** Cells (half-open, clipped to the grid) covering a frame-pixel window, grown by `margin` cells. */
export function cellsOfWindow(grid: LowResGrid, w: PixelWindow, margin = 0): PixelWindow {
  return {
    x0: Math.max(0, Math.floor(w.x0 / grid.cellWidth) - margin),
    y0: Math.max(0, Math.floor(w.y0 / grid.cellHeight) - margin),
    x1: Math.min(LOW_RES_SIDE, Math.ceil(w.x1 / grid.cellWidth) + margin),
    y1: Math.min(LOW_RES_SIDE, Math.ceil(w.y1 / grid.cellHeight) + margin),
  };
}

/** Frame pixels (clipped to the frame) covered by a window of cells, grown by `margin` cells. */
export function pixelsOfCells(grid: LowResGrid, cells: PixelWindow, margin = 0): PixelWindow {
  return {
    x0: Math.max(0, Math.floor((cells.x0 - margin) * grid.cellWidth)),
    y0: Math.max(0, Math.floor((cells.y0 - margin) * grid.cellHeight)),
    x1: Math.min(grid.frameWidth, Math.ceil((cells.x1 + margin) * grid.cellWidth)),
    y1: Math.min(grid.frameHeight, Math.ceil((cells.y1 + margin) * grid.cellHeight)),
  };
}

/**
 * Tight window of the cells with a logit above `above` (default 0: positive; `[0, 0, 0, 0]`-like
 * empty window if none), scanning only `within` (default: the whole grid).
 */
export function positiveCells(
  lowResLogits: Float32Array,
  within: PixelWindow = { x0: 0, y0: 0, x1: LOW_RES_SIDE, y1: LOW_RES_SIDE },
  above = 0,
): PixelWindow {
  let x0 = Infinity, y0 = Infinity, x1 = -1, y1 = -1;
  for (let y = within.y0; y < within.y1; y++) {
    const row = y * LOW_RES_SIDE;
    for (let x = within.x0; x < within.x1; x++) {
      if (lowResLogits[row + x] > above) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        y1 = y;
      }
    }
  }
  return x1 < 0 ? { x0: 0, y0: 0, x1: 0, y1: 0 } : { x0, y0, x1: x1 + 1, y1: y1 + 1 };
}

/** Number of cells with a positive logit inside `within`. */
export function positiveCellCount(lowResLogits: Float32Array, within: PixelWindow): number {
  let count = 0;
  for (let y = within.y0; y < within.y1; y++) {
    const row = y * LOW_RES_SIDE;
    for (let x = within.x0; x < within.x1; x++) if (lowResLogits[row + x] > 0) count++;
  }
  return count;
}
