/**
 * The overlay as a pipeline stage.
 * @module
 */
import { map, type OperatorFunction } from "rxjs";
import type { SegmentedFrame } from "../segment/mask.ts";
import { type OverlayOptions, renderOverlay } from "./overlay.ts";

/**
 * Stage that replaces each frame with a copy that has its masks drawn in (see `renderOverlay`);
 * the masks pass through unchanged. Holds no resources.
 *
 * @example
 * ```ts
 * segmented$.pipe(drawOverlay({ boxes: true }), encodeVideo("out.mp4")).subscribe();
 * ```
 */
export function drawOverlay(
  options: OverlayOptions = {},
): OperatorFunction<SegmentedFrame, SegmentedFrame> {
  return map((item) => ({
    frame: renderOverlay(item.frame, item.masks, options),
    masks: item.masks,
  }));
}
