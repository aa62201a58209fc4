/**
 * Gives a stage its own model: the segmenter is opened when the stream is subscribed and
 * disposed when it completes, errors or is unsubscribed, whichever comes first.
 * @module
 */
import { Observable, type OperatorFunction, type Subscription } from "rxjs";
import type { Segmenter } from "./segmenter.ts";

/**
 * Runs `stage(segmenter)` with a segmenter opened by `open` for the lifetime of the subscription.
 *
 * @example
 * ```ts
 * frames.pipe(withSegmenter(() => OnnxSegmenter.create(files), (s) => trackObjects(s, prompts)));
 * ```
 */
export function withSegmenter<T, R>(
  open: () => Promise<Segmenter>,
  stage: (segmenter: Segmenter) => OperatorFunction<T, R>,
): OperatorFunction<T, R> {
  return (source) =>
    new Observable<R>((subscriber) => {
      let segmenter: Segmenter | undefined;
      let inner: Subscription | undefined;
      let closed = false;
      open().then(
        (opened) => {
          segmenter = opened;
          if (closed) {
            void opened.dispose();
            return;
          }
          inner = source.pipe(stage(opened)).subscribe(subscriber);
        },
        (error) => subscriber.error(error),
      );
      return () => {
        closed = true;
        inner?.unsubscribe();
        void segmenter?.dispose();
      };
    });
}
