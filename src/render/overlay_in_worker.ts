/**
 * The overlay stage with the drawing done in a worker thread: the pipeline's thread only copies
 * each frame and its masks over and gets the drawn frame back, so it can decode, track and encode
 * other frames meanwhile (drawing large masks over 720p frames takes several milliseconds a
 * frame, which a live stream at 30 fps cannot spare on one thread).
 * @module
 */
import { Observable, type OperatorFunction } from "rxjs";
import type { SegmentedFrame } from "../segment/mask.ts";
import { drawsNothing, type OverlayOptions } from "./overlay.ts";
import type { OverlayReply, OverlayRequest } from "./overlay_worker.ts";

/**
 * Draws each item's masks over its frame (as `drawOverlay` does) in a worker started on subscribe
 * and ended on complete, error or unsubscribe. Items keep their order; one frame is drawn at a
 * time. `colorsOf` is not supported (default colours).
 *
 * @example
 * ```ts
 * segmented$.pipe(drawOverlayInWorker(), encodeVideo(encodeOptions));
 * ```
 */
export function drawOverlayInWorker(
  options: OverlayOptions = {},
): OperatorFunction<SegmentedFrame, SegmentedFrame> {
  if (options.colorsOf) throw new Error("drawOverlayInWorker uses the default colours only");
  return (source) =>
    new Observable<SegmentedFrame>((subscriber) => {
      const worker = new Worker(new URL("./overlay_worker.ts", import.meta.url).href, {
        type: "module",
      });
      const waiting = new Map<number, (reply: OverlayReply) => void>();
      let nextId = 0;
      worker.onmessage = (event: MessageEvent<OverlayReply>) => {
        const resolve = waiting.get(event.data.id);
        waiting.delete(event.data.id);
        resolve?.(event.data);
      };
      worker.onerror = (event: ErrorEvent) => {
        event.preventDefault();
        subscriber.error(new Error(`overlay worker failed: ${event.message}`));
      };
      const draw = (item: SegmentedFrame): Promise<SegmentedFrame> => {
        // Nothing to draw: the frame goes on as it is, without a round trip through the worker.
        if (drawsNothing(item.masks, options)) return Promise.resolve(item);
        const id = nextId++;
        const { frame } = item;
        const request: OverlayRequest = {
          id,
          frame: {
            index: frame.index,
            ptsSeconds: frame.ptsSeconds,
            width: frame.width,
            height: frame.height,
            ...(frame.format ? { format: frame.format } : {}),
            // Copied: other stages (a background refinement) may still read the frame.
            data: frame.data,
          },
          masks: item.masks,
          options,
        };
        return new Promise((resolve, reject) => {
          waiting.set(id, (reply) => {
            if (!reply.ok) return reject(new Error(reply.error));
            resolve({ frame: { ...frame, data: reply.data }, masks: item.masks });
          });
          worker.postMessage(request);
        });
      };
      let chain: Promise<void> = Promise.resolve();
      let failed = false;
      const subscription = source.subscribe({
        next: (item) => {
          chain = chain.then(async () => {
            if (failed) return;
            const drawn = await draw(item);
            if (!failed) subscriber.next(drawn);
          }).catch((error) => {
            failed = true;
            subscriber.error(error);
          });
        },
        error: (error) => {
          chain = chain.then(() => subscriber.error(error));
        },
        complete: () => {
          chain = chain.then(() => {
            if (!failed) subscriber.complete();
          });
        },
      });
      return () => {
        subscription.unsubscribe();
        worker.terminate();
      };
    });
}
