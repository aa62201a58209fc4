/**
 * The shape every export stage shares: write each item in order, pass it on once written, and
 * finish the output whichever way the stream ends.
 * @module
 */
import { Observable, type OperatorFunction } from "rxjs";

/** What an export stage does with its output. */
export interface OrderedSink<T> {
  /** Creates the output; called once, on the first item or at completion, whichever comes first. */
  open(): Promise<void>;
  /** Writes one item (after `open` has resolved and every earlier item is written). */
  write(item: T): Promise<void>;
  /** Finishes the output (on complete, error and unsubscribe; at most once; after `open`). */
  close(): Promise<void>;
}

/**
 * Stage that writes each item with a sink made by `createSink` (one per subscription) and passes
 * it on only once it is written, so at most
 * one item is held. An upstream error or completion waits for the items already received; the
 * output is closed before the stream completes or errors, and on unsubscribe. Errors of the sink
 * error the stream.
 *
 * @example
 * ```ts
 * frames$.pipe(writeInOrder(() => ({ open: async () => {}, write: async (f) => log(f), close: async () => {} })));
 * ```
 */
export function writeInOrder<T>(createSink: () => OrderedSink<T>): OperatorFunction<T, T> {
  return (source) =>
    new Observable<T>((subscriber) => {
      const sink = createSink();
      let opened: Promise<void> | undefined;
      let closing: Promise<void> | undefined;
      let chain: Promise<void> = Promise.resolve();
      let done = false;
      const open = () => {
        if (opened) return;
        opened = sink.open();
        // Awaited in order by the chain; this only keeps an early failure from being unhandled.
        opened.catch(() => {});
      };
      const close = (): Promise<void> => {
        if (!opened) return Promise.resolve();
        closing ??= opened.then(() => sink.close(), () => {});
        return closing;
      };
      const fail = async (error: unknown) => {
        await close().catch(() => {});
        if (done) return;
        done = true;
        subscriber.error(error);
      };
      const subscription = source.subscribe({
        next: (item) => {
          open();
          chain = chain.then(async () => {
            if (done) return;
            await opened;
            await sink.write(item);
            if (!done) subscriber.next(item);
          }).catch(fail);
        },
        error: (error) => {
          chain = chain.then(() => fail(error));
        },
        complete: () => {
          open();
          chain = chain.then(async () => {
            await opened;
            await close();
            if (done) return;
            done = true;
            subscriber.complete();
          }).catch(fail);
        },
      });
      return () => {
        done = true;
        subscription.unsubscribe();
        chain = chain.then(close).catch(() => {});
      };
    });
}
