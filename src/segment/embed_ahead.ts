/**
 * Pipelining the image encoder: frames are embedded as soon as they arrive, up to a number at
 * once, so the encoder works on the next frames while the current one is decoded, post-processed,
 * drawn and encoded downstream.
 * @module
 */
import { Observable, type OperatorFunction } from "rxjs";
import type { Frame } from "../frame.ts";
import type { FrameEmbedding, Segmenter } from "./segmenter.ts";

/** A frame and its embedding, started ahead (or on demand). */
export interface FrameWithEmbedding {
  readonly frame: Frame;
  /** The frame's embedding; starts it now if it has not started yet. */
  embedding(): Promise<FrameEmbedding>;
}

/**
 * Starts `segmenter.embed` for each arriving frame while fewer than `concurrency` embeddings are
 * under way (the others start, in arrival order, as those finish, or when asked for). Items are
 * emitted at once, in order; an embedding never asked for is still computed (and discarded).
 *
 * @example
 * ```ts
 * frames.pipe(
 *   embedAhead(segmenter, 2),
 *   concatMap(async ({ frame, embedding }) => await tracker.step(frame, embedding)),
 * );
 * ```
 */
export function embedAhead(
  segmenter: Segmenter,
  concurrency: number,
): OperatorFunction<Frame, FrameWithEmbedding> {
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`);
  }
  return (frames) =>
    new Observable<FrameWithEmbedding>((subscriber) => {
      let running = 0;
      const waiting: (() => void)[] = [];
      const startNext = () => {
        while (running < concurrency && waiting.length > 0) waiting.shift()!();
      };
      const subscription = frames.subscribe({
        next: (frame) => {
          let started: Promise<FrameEmbedding> | undefined;
          const start = (): Promise<FrameEmbedding> => {
            if (started) return started;
            const index = waiting.indexOf(start);
            if (index >= 0) waiting.splice(index, 1);
            running++;
            started = segmenter.embed(frame);
            const done = () => {
              running--;
              startNext();
            };
            started.then(done, done);
            return started;
          };
          waiting.push(start);
          startNext();
          subscriber.next({ frame, embedding: start });
        },
        error: (error) => subscriber.error(error),
        complete: () => subscriber.complete(),
      });
      return () => subscription.unsubscribe();
    });
}
