/**
 * SAM's crop-edge filter: a mask whose box runs along an edge of the crop it was found in is
 * probably cut off by that edge, unless the crop edge is also the frame's edge.
 * @module
 */
import type { BoxXyxy } from "../mask.ts";

/** SAM's default tolerance, in pixels, for "along an edge". */
export const CROP_EDGE_TOLERANCE = 20;

/**
 * Whether `box` (SAM's inclusive corners `[xmin, ymin, xmax, ymax]`, frame pixels) lies within
 * `tolerance` of an edge of `cropBox` that is not within `tolerance` of the same edge of
 * `frameBox` (both `[x0, y0, x1, y1]`), coordinate by coordinate as SAM's
 * `is_box_near_crop_edge`. With the crop equal to the frame it is always false.
 *
 * @example
 * ```ts
 * const frame = [0, 0, 640, 480] as const;
 * isBoxNearCropEdge([300, 10, 330, 40], [0, 0, 320, 480], frame); // true: cut at x = 320
 * isBoxNearCropEdge([300, 10, 330, 40], frame, frame); // false
 * ```
 */
export function isBoxNearCropEdge(
  box: BoxXyxy,
  cropBox: BoxXyxy,
  frameBox: BoxXyxy,
  tolerance: number = CROP_EDGE_TOLERANCE,
): boolean {
  for (let k = 0; k < 4; k++) {
    const nearCrop = Math.abs(box[k] - cropBox[k]) <= tolerance;
    const nearFrame = Math.abs(box[k] - frameBox[k]) <= tolerance;
    if (nearCrop && !nearFrame) return true;
  }
  return false;
}
