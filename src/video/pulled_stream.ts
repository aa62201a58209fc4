/**
 * Composition with the demand window enforced: a source that honours a {@link CreditWindow},
 * the stages, and the acknowledgement at the tail, wired so a pipeline cannot forget one.
 * @module
 */
import { defer, type Observable, type OperatorFunction } from "rxjs";
import type { Frame } from "../frame.ts";
import { acknowledgeFrames, CreditWindow, DEFAULT_WINDOW_SIZE } from "./credit_window.ts";

/**
 * Builds `source(credits) -> stages -> acknowledge`, with a fresh window per subscription.
 * Every stage must emit its items in frame order (one per frame, or fewer: acknowledgements
 * are cumulative) and must not hold more than `windowSize - 1` frames before emitting.
 *
 * @example
 * ```ts
 * const out$ = pulledStream(
 *   (credits) => decodeVideo(source, info, { credits }),
 *   (frames) => frames.pipe(passThroughMasks(), drawOverlay(), encodeVideo(target)),
 *   (item) => item.frame.index,
 * );
 * await lastValueFrom(out$, { defaultValue: undefined });
 * ```
 */
export function pulledStream<T>(
  source: (credits: CreditWindow) => Observable<Frame>,
  stages: OperatorFunction<Frame, T>,
  frameIndexOf: (item: T) => number,
  windowSize: number = DEFAULT_WINDOW_SIZE,
): Observable<T> {
  return defer(() => {
    const credits = new CreditWindow(windowSize);
    return source(credits).pipe(stages, acknowledgeFrames(credits, frameIndexOf));
  });
}
