/**
 * The segmentation stage of a pass-through run: every frame with an empty set of masks.
 * @module
 */
import { map, type OperatorFunction } from "rxjs";
import type { Frame } from "../frame.ts";
import { frameMasksOf, type SegmentedFrame } from "../segment/mask.ts";

/**
 * Wraps each frame as a {@link SegmentedFrame} with no objects; used when no prompt and no
 * everything pass is requested, so the pipeline runs without a model.
 *
 * @example
 * ```ts
 * decodeVideo(source, info).pipe(withoutMasks(), encodeVideo(options));
 * ```
 */
export function withoutMasks(): OperatorFunction<Frame, SegmentedFrame> {
  return map(unsegmented);
}

/** One frame with no objects. */
export function unsegmented(frame: Frame): SegmentedFrame {
  return { frame, masks: frameMasksOf(frame, []) };
}
