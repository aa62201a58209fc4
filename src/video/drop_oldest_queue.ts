/**
 * The bounded queue between a live source and a slower pipeline: when full, the oldest item is
 * dropped to make room, so memory stays bounded and the pipeline works on recent frames.
 * @module
 */

/**
 * A FIFO of at most `capacity` items that evicts the oldest on overflow.
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
  #dropped = 0;
  #waiter: (() => void) | undefined;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`queue capacity must be a positive integer, got ${capacity}`);
    }
    this.capacity = capacity;
  }

  /** Items evicted so far. */
  get dropped(): number {
    return this.#dropped;
  }

  get length(): number {
    return this.#items.length;
  }

  /** Adds an item, evicting the oldest when full; returns the evicted item, if any. */
  push(item: T): T | undefined {
    let evicted: T | undefined;
    if (this.#items.length >= this.capacity) {
      evicted = this.#items.shift();
      this.#dropped++;
    }
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
