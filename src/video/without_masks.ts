/**
 * The segmentation stage of a pass-through run: every frame with an empty set of masks.
 * @module
 */
import { map, type OperatorFunction } from "rxjs";
import type { Frame } from "../frame.ts";
import { frameMasksOf, type SegmentedFrame } from "../segment/mask.ts";

const pixelFreeStages = new WeakSet<OperatorFunction<Frame, SegmentedFrame>>();

/**
 * Wraps each frame as a {@link SegmentedFrame} with no objects; used when no prompt and no
 * everything pass is requested, so the pipeline runs without a model. The stage reads no pixel
 * (see {@link readsNoPixels}), so frames may reach it in any pixel format.
 *
 * @example
 * ```ts
 * decodeVideo(source, info).pipe(withoutMasks(), encodeVideo(options));
 * ```
 */
export function withoutMasks(): OperatorFunction<Frame, SegmentedFrame> {
  const stage = map(unsegmented);
  pixelFreeStages.add(stage);
  return stage;
}

/**
 * Whether `stage` is known to read no pixel and to return nothing to draw (a
 * {@link withoutMasks} stage): its frames need not be rgb24.
 *
 * @example
 * ```ts
 * readsNoPixels(withoutMasks()); // true
 * ```
 */
export function readsNoPixels(stage: OperatorFunction<Frame, SegmentedFrame>): boolean {
  return pixelFreeStages.has(stage);
}

/** One frame with no objects. */
export function unsegmented(frame: Frame): SegmentedFrame {
  return { frame, masks: frameMasksOf(frame, []) };
}
