/**
 * Demand signalling for pulled streams: the decoder hands out a frame only while fewer than
 * `size` frames are unacknowledged downstream. Acknowledgements are cumulative (acknowledging
 * frame 7 also acknowledges 5 and 6), so a stage that drops a frame does not stall the window.
 * @module
 */
import { type MonoTypeOperatorFunction, tap } from "rxjs";

/** Default number of frames in flight between the decoder and the end of a pipeline. */
export const DEFAULT_WINDOW_SIZE = 4;

/**
 * A sliding window of frame credits shared by a source (which waits for room and records what it
 * sends) and the tail of a pipeline (which acknowledges what it has finished).
 *
 * @example
 * ```ts
 * const credits = new CreditWindow(4);
 * await credits.whenOpen();      // source: wait for room
 * credits.sent(frame.index);     // source: frame handed downstream
 * credits.acknowledge(frame.index); // tail: frame fully processed
 * ```
 */
export class CreditWindow {
  readonly size: number;
  /** Indices sent and not yet acknowledged, ascending. */
  readonly #inFlight: number[] = [];
  #waiters: (() => void)[] = [];
  #acknowledged = 0;

  constructor(size: number = DEFAULT_WINDOW_SIZE) {
    if (!Number.isInteger(size) || size < 1) {
      throw new RangeError(`credit window size must be a positive integer, got ${size}`);
    }
    this.size = size;
  }

  /** Frames sent and not yet acknowledged. */
  get outstanding(): number {
    return this.#inFlight.length;
  }

  /** Frames acknowledged so far. */
  get acknowledged(): number {
    return this.#acknowledged;
  }

  /** True when the source may send another frame now. */
  get isOpen(): boolean {
    return this.#inFlight.length < this.size;
  }

  /** Resolves as soon as the source may send another frame (rejects if `signal` aborts). */
  whenOpen(signal?: AbortSignal): Promise<void> {
    if (this.isOpen) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        this.#waiters = this.#waiters.filter((waiter) => waiter !== wake);
        reject(signal?.reason);
      };
      const wake = () => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      };
      if (signal?.aborted) return reject(signal.reason);
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#waiters.push(wake);
    });
  }

  /** Records that frame `index` was handed downstream. */
  sent(index: number): void {
    this.#inFlight.push(index);
  }

  /** Acknowledges frame `index` and every earlier frame still in flight. */
  acknowledge(index: number): void {
    let released = 0;
    while (released < this.#inFlight.length && this.#inFlight[released] <= index) released++;
    if (released === 0) return;
    this.#inFlight.splice(0, released);
    this.#acknowledged += released;
    while (this.isOpen && this.#waiters.length > 0) this.#waiters.shift()!();
  }
}

/**
 * The tail operator of a pulled pipeline: acknowledges each item's frame once it reaches this
 * point, which lets the decoder read the next frame.
 *
 * @example
 * ```ts
 * decodeVideo(source, info, { credits }).pipe(myStage, acknowledgeFrames(credits, (f) => f.index));
 * ```
 */
export function acknowledgeFrames<T>(
  credits: CreditWindow,
  frameIndexOf: (item: T) => number,
): MonoTypeOperatorFunction<T> {
  return tap((item: T) => credits.acknowledge(frameIndexOf(item)));
}
