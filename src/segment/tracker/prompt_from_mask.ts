/**
 * Turning an object's mask on the previous frame into its prompt for the current frame: a box
 * around where the motion estimate puts the mask, grown by a margin; a positive point at the
 * deepest point of the moved mask; negative points deep inside neighbouring objects where they
 * reach into that box; and the previous low-res logits as `maskInput`.
 * @module
 */
import { deepestPoint } from "../distance.ts";
import type { BinaryMask, BoxXyxy } from "../mask.ts";
import type { PointPrompt, PromptSet } from "../segmenter.ts";
import { predictBox } from "./motion.ts";
import type { ObjectTrack, Velocity } from "./object_state.ts";
import {
  clipBox,
  growBox,
  intersectWindows,
  isEmptyWindow,
  type PixelWindow,
  windowFromBox,
  windowToBox,
} from "../geometry/pixel_window.ts";

/** How prompts are built from masks. */
export interface PromptFromMaskOptions {
  /** Margin around the predicted box, as a share of its size per axis (default 0.1). */
  readonly marginRatio?: number;
  /** Margin added in pixels (default 6). */
  readonly marginPx?: number;
  /** Most negative points per prompt (default 2). */
  readonly maxNegatives?: number;
  /** Smallest part of a neighbour inside the box that earns a negative point, in pixels (default 12). */
  readonly minNegativeArea?: number;
}

/** A point well inside a region and how deep it is. */
export interface InnerPoint {
  readonly x: number;
  readonly y: number;
  /** Approximate distance to the region's border, in pixels. */
  readonly depth: number;
  /** Approximate area of the region, in pixels. */
  readonly area: number;
}

/** Longest side, in cells, of the grid the distance transform runs on. */
const MAX_CELLS = 32;

/**
 * The deepest point of the region `inside(x, y)` within `window`, computed on a grid of at most
 * 32 cells a side (so the cost does not grow with the object's size). Undefined if the region is
 * empty at that resolution.
 *
 * @example
 * ```ts
 * const point = innerPoint((x, y) => mask.data[y * mask.width + x] !== 0, bounds);
 * ```
 */
export function innerPoint(
  inside: (x: number, y: number) => boolean,
  window: PixelWindow,
): InnerPoint | undefined {
  if (isEmptyWindow(window)) return undefined;
  const w = window.x1 - window.x0, h = window.y1 - window.y0;
  const cell = Math.max(1, Math.ceil(Math.max(w, h) / MAX_CELLS));
  const cw = Math.ceil(w / cell), ch = Math.ceil(h / cell);
  const data = new Uint8Array(cw * ch);
  const sampleX = (cx: number) =>
    Math.min(window.x1 - 1, window.x0 + Math.floor((cx + 0.5) * cell));
  const sampleY = (cy: number) =>
    Math.min(window.y1 - 1, window.y0 + Math.floor((cy + 0.5) * cell));
  let cells = 0;
  for (let cy = 0; cy < ch; cy++) {
    const y = sampleY(cy);
    for (let cx = 0; cx < cw; cx++) {
      if (inside(sampleX(cx), y)) {
        data[cy * cw + cx] = 1;
        cells++;
      }
    }
  }
  if (cells === 0) return undefined;
  // The window edge is not the region's border (the region may continue), but treating it as one
  // keeps points away from where the region is cut off, which is what a prompt wants.
  const deepest = deepestPoint({ width: cw, height: ch, data });
  if (!deepest) return undefined;
  return {
    x: sampleX(deepest.x),
    y: sampleY(deepest.y),
    depth: deepest.distance * cell,
    area: cells * cell * cell,
  };
}

/** A mask moved by a whole-pixel shift, as a membership test (false outside the frame). */
export function shiftedMaskTest(
  mask: BinaryMask,
  dx: number,
  dy: number,
): (x: number, y: number) => boolean {
  const sx = Math.round(dx), sy = Math.round(dy);
  return (x, y) => {
    const ox = x - sx, oy = y - sy;
    return ox >= 0 && oy >= 0 && ox < mask.width && oy < mask.height &&
      mask.data[oy * mask.width + ox] !== 0;
  };
}

/** The part of an object's state a prompt is built from. */
export type PromptSource = Pick<ObjectTrack, "mask" | "bounds" | "velocity" | "lowResLogits">;

/** An object's prompt for the current frame and the boxes behind it. */
export interface PropagatedPrompt {
  readonly prompt: PromptSet;
  /** Where the motion estimate puts the object's box (may reach outside the frame). */
  readonly predictedBox: BoxXyxy;
  /** The prompt's box (the predicted box grown by the margin, clipped to the frame). */
  readonly promptBox: BoxXyxy;
}

/** The window a moved object covers, clipped to the frame. */
export function predictedWindow(
  bounds: PixelWindow,
  velocity: Velocity,
  width: number,
  height: number,
): PixelWindow {
  return windowFromBox(predictBox(windowToBox(bounds), velocity), width, height);
}

/**
 * Negative points deep inside neighbouring objects where their moved masks reach into `box`,
 * outside `own` (the object's own moved mask); the largest such parts first.
 */
export function negativePoints(
  box: BoxXyxy,
  own: (x: number, y: number) => boolean,
  neighbours: readonly PromptSource[],
  width: number,
  height: number,
  maxNegatives: number,
  minArea: number,
): PointPrompt[] {
  if (maxNegatives <= 0) return [];
  const boxWindow = windowFromBox(box, width, height);
  const found: InnerPoint[] = [];
  for (const neighbour of neighbours) {
    const reach = intersectWindows(
      predictedWindow(neighbour.bounds, neighbour.velocity, width, height),
      boxWindow,
    );
    if (isEmptyWindow(reach)) continue;
    const theirs = shiftedMaskTest(neighbour.mask, neighbour.velocity.x, neighbour.velocity.y);
    const point = innerPoint((x, y) => theirs(x, y) && !own(x, y), reach);
    if (point && point.area >= minArea && point.depth >= 1) found.push(point);
  }
  return found.sort((a, b) => b.area - a.area).slice(0, maxNegatives)
    .map((p) => ({ x: p.x, y: p.y, positive: false }));
}

/**
 * Builds an object's prompt for the current frame from its state on the previous one.
 *
 * @example
 * ```ts
 * const { prompt } = promptFromMask(track, otherTracks, frame.width, frame.height);
 * const [decoded] = await segmenter.decode(embedding, [prompt]);
 * ```
 */
export function promptFromMask(
  source: PromptSource,
  neighbours: readonly PromptSource[],
  width: number,
  height: number,
  options: PromptFromMaskOptions = {},
): PropagatedPrompt {
  const { velocity, bounds } = source;
  const predictedBox = predictBox(windowToBox(bounds), velocity);
  const marginRatio = options.marginRatio ?? 0.1, marginPx = options.marginPx ?? 6;
  const w = bounds.x1 - bounds.x0, h = bounds.y1 - bounds.y0;
  const promptBox = clipBox(
    growBox(
      predictedBox,
      marginRatio * w + marginPx + Math.abs(velocity.x) / 2,
      marginRatio * h + marginPx + Math.abs(velocity.y) / 2,
    ),
    width,
    height,
  );
  const own = shiftedMaskTest(source.mask, velocity.x, velocity.y);
  const ownWindow = predictedWindow(bounds, velocity, width, height);
  const positive = innerPoint(own, ownWindow) ??
    innerPoint(shiftedMaskTest(source.mask, 0, 0), bounds) ??
    { x: (bounds.x0 + bounds.x1 - 1) / 2, y: (bounds.y0 + bounds.y1 - 1) / 2 };
  const negatives = negativePoints(
    promptBox,
    own,
    neighbours,
    width,
    height,
    options.maxNegatives ?? 2,
    options.minNegativeArea ?? 12,
  );
  return {
    prompt: {
      points: [{ x: positive.x, y: positive.y, positive: true }, ...negatives],
      box: promptBox,
      maskInput: source.lowResLogits,
    },
    predictedBox,
    promptBox,
  };
}
