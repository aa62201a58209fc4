/**
 * The bounded queue between a live source and a slower pipeline: the oldest items are dropped
 * when it is full or, given a wait limit, when they have waited too long, so memory stays bounded,
 * the pipeline works on recent frames, and a short stall costs no frame.
 * @module
 */

/** Limits of a {@link DropOldestQueue} beyond its capacity. */
export interface WaitLimit<T> {
  /** Items that have waited longer than this when a newer one arrives are dropped. */
  readonly maxWaitMs: number;
  /** When an item entered the pipeline (e.g. a frame's capture time), in `performance.now()` ms. */
  readonly timeOf: (item: T) => number;
}

/**
 * A FIFO of at most `capacity` items that evicts the oldest on overflow, and (with a
 * {@link WaitLimit}) every item that has waited too long whenever a newer one arrives: a stall
 * shorter than the wait limit drops nothing, a slow consumer still gets the newest items.
 *
 * @example
 * ```ts
 * const queue = new DropOldestQueue<number>(2);
 * queue.push(1); queue.push(2); queue.push(3); // 1 is dropped
 * queue.shift(); // 2
 * queue.dropped; // 1
 * ```
 */
export class DropOldestQueue<T> {
  readonly capacity: number;
  readonly #items: T[] = [];
  readonly #waitLimit: WaitLimit<T> | undefined;
  #dropped = 0;
  #waiter: (() => void) | undefined;

  constructor(capacity: number, waitLimit?: WaitLimit<T>) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`queue capacity must be a positive integer, got ${capacity}`);
    }
    this.capacity = capacity;
    this.#waitLimit = waitLimit;
  }

  /** Items evicted so far. */
  get dropped(): number {
    return this.#dropped;
  }

  get length(): number {
    return this.#items.length;
  }

  /**
   * Adds an item, evicting the oldest when full and those that waited too long; returns how many
   * were evicted.
   */
  push(item: T, now: number = performance.now()): number {
    let evicted = 0;
    const limit = this.#waitLimit;
    while (
      this.#items.length >= this.capacity ||
      (limit && this.#items.length > 0 && now - limit.timeOf(this.#items[0]) > limit.maxWaitMs)
    ) {
      this.#items.shift();
      evicted++;
    }
    this.#dropped += evicted;
    this.#items.push(item);
    this.#wake();
    return evicted;
  }

  /** Removes and returns the oldest item, or `undefined` when empty. */
  shift(): T | undefined {
    return this.#items.shift();
  }

  /** Resolves when the queue is non-empty or {@link DropOldestQueue.interrupt} is called. */
  whenNonEmpty(): Promise<void> {
    if (this.#items.length > 0) return Promise.resolve();
    return new Promise((resolve) => {
      const previous = this.#waiter;
      this.#waiter = () => {
        previous?.();
        resolve();
      };
    });
  }

  /** Wakes anyone waiting in {@link DropOldestQueue.whenNonEmpty} (e.g. at end of stream). */
  interrupt(): void {
    this.#wake();
  }

  /** Drops everything still queued (not counted as drops). */
  clear(): void {
    this.#items.length = 0;
  }

  #wake(): void {
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.();
  }
}
