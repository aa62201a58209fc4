/**
 * Integer pixel windows (`[x0, x1) x [y0, y1)`), the unit the tracker restricts its work to, so
 * that the cost per object follows the object's size rather than the frame's.
 * @module
 */
import type { BinaryMask, BoxXywh, BoxXyxy } from "../mask.ts";

/** A half-open rectangle of whole pixels: columns `x0..x1-1`, rows `y0..y1-1`. */
export interface PixelWindow {
  readonly x0: number;
  readonly y0: number;
  readonly x1: number;
  readonly y1: number;
}

const EMPTY_WINDOW: PixelWindow = { x0: 0, y0: 0, x1: 0, y1: 0 };

/** Whether a window holds no pixel. */
export function isEmptyWindow(w: PixelWindow): boolean {
  return w.x1 <= w.x0 || w.y1 <= w.y0;
}

/**
 * The whole pixels a continuous box covers, clipped to a `width x height` frame.
 *
 * @example
 * ```ts
 * windowFromBox([10.2, 5, 20.5, 9], 640, 360); // { x0: 10, y0: 5, x1: 21, y1: 9 }
 * ```
 */
export function windowFromBox(box: BoxXyxy, width: number, height: number): PixelWindow {
  return {
    x0: Math.max(0, Math.min(width, Math.floor(box[0]))),
    y0: Math.max(0, Math.min(height, Math.floor(box[1]))),
    x1: Math.max(0, Math.min(width, Math.ceil(box[2]))),
    y1: Math.max(0, Math.min(height, Math.ceil(box[3]))),
  };
}

/** The window as a corner box `[x0, y0, x1, y1]`. */
export function windowToBox(w: PixelWindow): BoxXyxy {
  return [w.x0, w.y0, w.x1, w.y1];
}

/** The window as a COCO box `[x, y, w, h]` (`[0, 0, 0, 0]` when empty). */
export function windowToXywh(w: PixelWindow): BoxXywh {
  return isEmptyWindow(w) ? [0, 0, 0, 0] : [w.x0, w.y0, w.x1 - w.x0, w.y1 - w.y0];
}

/** Intersection of two windows (possibly empty). */
export function intersectWindows(a: PixelWindow, b: PixelWindow): PixelWindow {
  return {
    x0: Math.max(a.x0, b.x0),
    y0: Math.max(a.y0, b.y0),
    x1: Math.min(a.x1, b.x1),
    y1: Math.min(a.y1, b.y1),
  };
}

/** Whether two windows share at least one pixel. */
export function windowsIntersect(a: PixelWindow, b: PixelWindow): boolean {
  return !isEmptyWindow(intersectWindows(a, b));
}

/** Centre of a box. */
export function boxCentre(box: BoxXyxy): { x: number; y: number } {
  return { x: (box[0] + box[2]) / 2, y: (box[1] + box[3]) / 2 };
}

/** A box grown by `mx` left and right and `my` above and below. */
export function growBox(box: BoxXyxy, mx: number, my: number = mx): BoxXyxy {
  return [box[0] - mx, box[1] - my, box[2] + mx, box[3] + my];
}

/** A box clipped to `[0, width] x [0, height]` (may become degenerate). */
export function clipBox(box: BoxXyxy, width: number, height: number): BoxXyxy {
  return [
    Math.max(0, Math.min(width, box[0])),
    Math.max(0, Math.min(height, box[1])),
    Math.max(0, Math.min(width, box[2])),
    Math.max(0, Math.min(height, box[3])),
  ];
}

/** Share of a box's area that lies inside the `width x height` frame (0 for a degenerate box). */
export function shareInsideFrame(box: BoxXyxy, width: number, height: number): number {
  const area = (box[2] - box[0]) * (box[3] - box[1]);
  if (!(area > 0)) return 0;
  const c = clipBox(box, width, height);
  return Math.max(0, c[2] - c[0]) * Math.max(0, c[3] - c[1]) / area;
}

/** Foreground pixel count and tight window of a mask, scanning only `within`. */
export interface MaskExtent {
  readonly area: number;
  /** Tight window of the foreground; empty when `area` is 0. */
  readonly bounds: PixelWindow;
}

/**
 * Area and tight bounds of a mask's foreground inside a window (the mask is assumed empty
 * outside it).
 *
 * @example
 * ```ts
 * maskExtent(mask, { x0: 0, y0: 0, x1: mask.width, y1: mask.height });
 * ```
 */
export function maskExtent(mask: BinaryMask, within: PixelWindow): MaskExtent {
  const { width, data } = mask;
  let area = 0;
  let x0 = Infinity, y0 = Infinity, x1 = -1, y1 = -1;
  for (let y = within.y0; y < within.y1; y++) {
    let rowMin = -1, rowMax = -1;
    for (let x = within.x0, i = y * width + within.x0; x < within.x1; x++, i++) {
      if (data[i] !== 0) {
        area++;
        if (rowMin < 0) rowMin = x;
        rowMax = x;
      }
    }
    if (rowMin >= 0) {
      if (y < y0) y0 = y;
      y1 = y;
      if (rowMin < x0) x0 = rowMin;
      if (rowMax > x1) x1 = rowMax;
    }
  }
  if (area === 0) return { area: 0, bounds: EMPTY_WINDOW };
  return { area, bounds: { x0, y0, x1: x1 + 1, y1: y1 + 1 } };
}
