/**
 * Draws a frame's object masks over the frame: each object's pixels blended with its colour,
 * a thin contour in a stronger shade, and optionally its box and the prompt markers.
 * @module
 */
import { assertRgbFrame, type Frame } from "../frame.ts";
import type { FrameMasks, ObjectMask, PromptMarker } from "../segment/mask.ts";
import { type Canvas, fillDisc, fillRect, strokeRect } from "./draw.ts";
import { type ObjectColors, objectColors, type Rgb } from "./palette.ts";

/** How `renderOverlay` draws. */
export interface OverlayOptions {
  /** Opacity of the fill colour over the object, in [0, 1] (default 0.5). */
  readonly alpha?: number;
  /** Contour width in pixels, drawn inside the mask's edge; 0 draws none (default 2). */
  readonly contourWidth?: number;
  /** Draw each object's bounding box (default false). */
  readonly boxes?: boolean;
  /** Draw the prompt points and prompt boxes of `FrameMasks.markers` (default true). */
  readonly markers?: boolean;
  /** Radius of a prompt-point marker in pixels (default: frame's shorter side / 90, at least 4). */
  readonly markerRadius?: number;
  /** Colours per object id (default: `objectColors`, golden-angle hues). */
  readonly colorsOf?: (id: number) => ObjectColors;
}

const POSITIVE_POINT: Rgb = [40, 220, 40];
const NEGATIVE_POINT: Rgb = [235, 30, 30];
const MARKER_OUTLINE: Rgb = [255, 255, 255];
const MARKER_GLYPH: Rgb = [255, 255, 255];

/**
 * Whether `renderOverlay(frame, masks, options)` would draw nothing (no object and no marker it
 * is asked to draw) and so hand the frame back as it is.
 *
 * @example
 * ```ts
 * if (drawsNothing(item.masks, options)) return item; // no copy, any pixel format
 * ```
 */
export function drawsNothing(masks: FrameMasks, options: OverlayOptions = {}): boolean {
  return masks.objects.length === 0 &&
    ((options.markers ?? true) === false || !masks.markers?.length);
}

/**
 * Returns a new frame with the masks drawn over a copy of `frame` (the input is not modified);
 * with nothing to draw it returns `frame` itself, whatever its pixel format. Drawing needs rgb24
 * pixels: it throws on a frame in another format.
 * Objects are painted in list order and a later object replaces an earlier one where they
 * overlap (the same rule as label maps).
 * Only the pixels inside each object's `bbox` are visited, so boxes must be tight or larger.
 * Positive prompt points are green discs with a white plus, negative ones red discs with a white
 * bar. Throws when a mask's size differs from the frame's.
 *
 * @example
 * ```ts
 * const drawn = renderOverlay(frame, masks, { alpha: 0.45, boxes: true });
 * ```
 */
export function renderOverlay(
  frame: Frame,
  masks: FrameMasks,
  options: OverlayOptions = {},
): Frame {
  if (drawsNothing(masks, options)) return frame;
  assertRgbFrame(frame, "the overlay");
  const markers = (options.markers ?? true) ? masks.markers ?? [] : [];
  const data = frame.data.slice();
  const canvas: Canvas = { width: frame.width, height: frame.height, data };
  const colorsOf = options.colorsOf ?? objectColors;
  const alpha = Math.round(Math.min(1, Math.max(0, options.alpha ?? 0.5)) * 256);
  const contourWidth = Math.max(0, Math.round(options.contourWidth ?? 2));
  for (const object of masks.objects) {
    if (object.mask.width !== frame.width || object.mask.height !== frame.height) {
      throw new Error(
        `object ${object.id} mask is ${object.mask.width}x${object.mask.height}, frame ${frame.index} is ${frame.width}x${frame.height}`,
      );
    }
    const colors = colorsOf(object.id);
    paintObject(canvas, frame.data, object, colors, alpha, contourWidth);
    if (options.boxes) {
      const [x, y, w, h] = object.bbox;
      if (w > 0 && h > 0) strokeRect(canvas, [x, y, x + w, y + h], 1, colors.contour);
    }
  }
  const radius = options.markerRadius ??
    Math.max(4, Math.round(Math.min(frame.width, frame.height) / 90));
  for (const marker of markers) drawMarker(canvas, marker, colorsOf, radius);
  return { ...frame, data };
}

function paintObject(
  canvas: Canvas,
  source: Uint8Array,
  object: ObjectMask,
  colors: ObjectColors,
  alpha: number,
  contourWidth: number,
): void {
  const { width, height, data } = canvas;
  const mask = object.mask.data;
  const [bx, by, bw, bh] = object.bbox;
  const x0 = Math.max(0, Math.floor(bx)), y0 = Math.max(0, Math.floor(by));
  const x1 = Math.min(width, Math.ceil(bx + bw)), y1 = Math.min(height, Math.ceil(by + bh));
  const keep = 256 - alpha;
  const fr = colors.fill[0] * alpha, fg = colors.fill[1] * alpha, fb = colors.fill[2] * alpha;
  const [cr, cg, cb] = colors.contour;
  for (let y = y0; y < y1; y++) {
    const row = y * width;
    for (let x = x0; x < x1; x++) {
      const p = row + x;
      if (mask[p] === 0) continue;
      const i = p * 3;
      if (contourWidth > 0 && onContour(mask, width, height, x, y, p, contourWidth)) {
        data[i] = cr;
        data[i + 1] = cg;
        data[i + 2] = cb;
      } else {
        // Blending the original pixel (not the canvas) lets a later object replace an earlier one.
        data[i] = (source[i] * keep + fr) >> 8;
        data[i + 1] = (source[i + 1] * keep + fg) >> 8;
        data[i + 2] = (source[i + 2] * keep + fb) >> 8;
      }
    }
  }
}

/** True when a background pixel lies within `reach` pixels straight left, right, up or down (the frame edge is not a contour). */
function onContour(
  mask: Uint8Array,
  width: number,
  height: number,
  x: number,
  y: number,
  p: number,
  reach: number,
): boolean {
  for (let d = 1; d <= reach; d++) {
    if (x - d >= 0 && mask[p - d] === 0) return true;
    if (x + d < width && mask[p + d] === 0) return true;
    if (y - d >= 0 && mask[p - d * width] === 0) return true;
    if (y + d < height && mask[p + d * width] === 0) return true;
  }
  return false;
}

function drawMarker(
  canvas: Canvas,
  marker: PromptMarker,
  colorsOf: (id: number) => ObjectColors,
  radius: number,
): void {
  if (marker.box) strokeRect(canvas, marker.box, 2, colorsOf(marker.objectId).contour);
  const arm = Math.max(1, radius - 2);
  for (const point of marker.points) {
    const x = Math.round(point.x), y = Math.round(point.y);
    fillDisc(canvas, x, y, radius + 1, MARKER_OUTLINE);
    fillDisc(canvas, x, y, radius, point.positive ? POSITIVE_POINT : NEGATIVE_POINT);
    fillRect(canvas, x - arm, y, x + arm + 1, y + 1, MARKER_GLYPH);
    if (point.positive) fillRect(canvas, x, y - arm, x + 1, y + arm + 1, MARKER_GLYPH);
  }
}
