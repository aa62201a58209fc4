/**
 * Gives a stage its own model: the segmenter is opened when the stream is subscribed and
 * disposed when it completes, errors or is unsubscribed, whichever comes first.
 * @module
 */
import { Observable, type OperatorFunction, Subject, type Subscription } from "rxjs";
import type { Segmenter } from "./segmenter.ts";

/** What a stream does with its items while the model is still opening. */
export interface WhileOpening<T, R> {
  /**
   * Maps an item that arrives before the model is open. Without it, the input is subscribed only
   * once the model is open (a pulled file then waits); with it, the input flows from the start and
   * the stage takes over with the first item after the model opened (a live stream is not held up,
   * so nothing piles up and is dropped).
   */
  readonly meanwhile?: (item: T) => R;
  /** Called once the model is open, with how many items went through `meanwhile` before it. */
  readonly onOpen?: (itemsBefore: number) => void;
}

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
  whileOpening: WhileOpening<T, R> = {},
): OperatorFunction<T, R> {
  const { meanwhile, onOpen } = whileOpening;
  return (source) =>
    new Observable<R>((subscriber) => {
      let segmenter: Segmenter | undefined;
      let inner: Subscription | undefined;
      let closed = false;
      // With `meanwhile`: the input is subscribed at once and feeds `opened` from the moment the
      // model is open; until then (and if the input ends first) items go through `meanwhile`.
      let opened: Subject<T> | undefined;
      let itemsBefore = 0;
      const early = meanwhile
        ? source.subscribe({
          next: (item) => {
            if (opened) opened.next(item);
            else {
              itemsBefore++;
              subscriber.next(meanwhile(item));
            }
          },
          error: (error) => opened ? opened.error(error) : subscriber.error(error),
          complete: () => opened ? opened.complete() : subscriber.complete(),
        })
        : undefined;
      open().then(
        (model) => {
          segmenter = model;
          if (closed) {
            void model.dispose();
            return;
          }
          onOpen?.(itemsBefore);
          if (!early) {
            inner = source.pipe(stage(model)).subscribe(subscriber);
            return;
          }
          opened = new Subject<T>();
          inner = opened.pipe(stage(model)).subscribe(subscriber);
        },
        (error) => subscriber.error(error),
      );
      return () => {
        closed = true;
        early?.unsubscribe();
        inner?.unsubscribe();
        void segmenter?.dispose();
      };
    });
}
