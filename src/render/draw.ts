/**
 * Raster primitives on packed rgb24 pixel buffers, clipped to the image: filled discs and
 * rectangle outlines, used for prompt markers and boxes.
 * @module
 */
import type { Rgb } from "./palette.ts";

/** A packed rgb24 buffer being drawn on. */
export interface Canvas {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

/**
 * Sets one pixel (ignored outside the canvas).
 *
 * @example
 * ```ts
 * setPixel(canvas, 3, 4, [255, 0, 0]);
 * ```
 */
export function setPixel(canvas: Canvas, x: number, y: number, color: Rgb): void {
  if (x < 0 || y < 0 || x >= canvas.width || y >= canvas.height) return;
  const i = (y * canvas.width + x) * 3;
  canvas.data[i] = color[0];
  canvas.data[i + 1] = color[1];
  canvas.data[i + 2] = color[2];
}

/**
 * Fills the disc of pixels within `radius` of `(cx, cy)`.
 *
 * @example
 * ```ts
 * fillDisc(canvas, 100, 80, 5, [0, 200, 0]);
 * ```
 */
export function fillDisc(canvas: Canvas, cx: number, cy: number, radius: number, color: Rgb): void {
  const r = Math.ceil(radius);
  const r2 = radius * radius;
  for (let dy = -r; dy <= r; dy++) {
    for (let dx = -r; dx <= r; dx++) {
      if (dx * dx + dy * dy <= r2) setPixel(canvas, cx + dx, cy + dy, color);
    }
  }
}

/**
 * Fills the axis-aligned rectangle `[x0, x1) x [y0, y1)`.
 *
 * @example
 * ```ts
 * fillRect(canvas, 10, 10, 20, 12, [255, 255, 255]);
 * ```
 */
export function fillRect(
  canvas: Canvas,
  x0: number,
  y0: number,
  x1: number,
  y1: number,
  color: Rgb,
): void {
  const xa = Math.max(0, Math.floor(x0)), xb = Math.min(canvas.width, Math.ceil(x1));
  const ya = Math.max(0, Math.floor(y0)), yb = Math.min(canvas.height, Math.ceil(y1));
  for (let y = ya; y < yb; y++) {
    for (let x = xa; x < xb; x++) {
      const i = (y * canvas.width + x) * 3;
      canvas.data[i] = color[0];
      canvas.data[i + 1] = color[1];
      canvas.data[i + 2] = color[2];
    }
  }
}

/**
 * Strokes the outline of the continuous box `[x0, y0, x1, y1]` with lines `thickness` pixels
 * wide, drawn inside the box.
 *
 * @example
 * ```ts
 * strokeRect(canvas, [10, 10, 50, 40], 2, [255, 255, 0]);
 * ```
 */
export function strokeRect(
  canvas: Canvas,
  box: readonly [number, number, number, number],
  thickness: number,
  color: Rgb,
): void {
  const [x0, y0, x1, y1] = box.map(Math.round);
  const t = Math.max(1, Math.min(thickness, Math.floor((x1 - x0) / 2), Math.floor((y1 - y0) / 2)));
  fillRect(canvas, x0, y0, x1, y0 + t, color);
  fillRect(canvas, x0, y1 - t, x1, y1, color);
  fillRect(canvas, x0, y0, x0 + t, y1, color);
  fillRect(canvas, x1 - t, y0, x1, y1, color);
}
