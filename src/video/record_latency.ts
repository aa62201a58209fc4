/**
 * The sink-side half of the live statistics: records capture-to-output latency per frame.
 * @module
 */
import { type MonoTypeOperatorFunction, tap } from "rxjs";
import type { Frame } from "../frame.ts";
import type { StreamStats } from "./stream_stats.ts";

/**
 * Records, for each item that reaches this point, the time since its frame was captured
 * (`Frame.capturedAtMs`). Place it after the last sink.
 *
 * @example
 * ```ts
 * segmented$.pipe(encodeVideo(target), recordLatency(stats, (item) => item.frame));
 * ```
 */
export function recordLatency<T>(
  stats: StreamStats,
  frameOf: (item: T) => Frame,
): MonoTypeOperatorFunction<T> {
  return tap((item: T) => {
    const captured = frameOf(item).capturedAtMs;
    if (captured !== undefined) stats.recordLatency(performance.now() - captured);
  });
}
