/**
 * Non-maximum suppression of everything masks by their boxes, as SAM does it: boxes are the
 * inclusive corners `[xmin, ymin, xmax, ymax]` of `batched_mask_to_box`, compared with
 * torchvision's continuous box IoU.
 * @module
 */
import { nmsBoxes } from "../geometry/boxes.ts";
import type { BoxXywh, BoxXyxy } from "../mask.ts";

/**
 * SAM's box of a mask from its `[x, y, w, h]` box: `[x, y, x + w - 1, y + h - 1]` (the last
 * pixel's coordinates, not one past it); `[0, 0, 0, 0]` for an empty mask.
 *
 * @example
 * ```ts
 * samBoxOf([2, 3, 4, 5]); // [2, 3, 5, 7]
 * ```
 */
export function samBoxOf(bbox: BoxXywh): BoxXyxy {
  const [x, y, w, h] = bbox;
  if (w <= 0 || h <= 0) return [0, 0, 0, 0];
  return [x, y, x + w - 1, y + h - 1];
}

/**
 * Keeps masks greedily by descending `scoreOf` (default: predicted IoU), dropping a mask whose
 * SAM box overlaps a kept one's with IoU above `iouThreshold`. Returns the kept masks, best
 * first; ties keep input order.
 *
 * @example
 * ```ts
 * const kept = nmsMasks(masks, 0.7);
 * ```
 */
export function nmsMasks<T extends { readonly bbox: BoxXywh; readonly predictedIou: number }>(
  masks: readonly T[],
  iouThreshold: number,
  scoreOf: (mask: T, index: number) => number = (mask) => mask.predictedIou,
): T[] {
  const kept = nmsBoxes(masks.map((m) => samBoxOf(m.bbox)), masks.map(scoreOf), iouThreshold);
  return kept.map((i) => masks[i]);
}
