/**
 * Recycled frame buffers. Every decoded frame is a fresh 2-6 MB buffer; at hundreds of frames a
 * second V8 collects garbage every few frames to account for them (each collection walks the whole
 * heap). A pipeline in which no stage keeps a frame's pixels after the frame has left it can hand
 * each buffer back at its end and have the decoder read the next frame into it.
 * @module
 */

/**
 * A bounded free list of buffers of one size.
 *
 * @example
 * ```ts
 * const pool = new FramePool(1280 * 720 * 3);
 * const buffer = pool.take(); // a free buffer, or a new one
 * // ... the frame is decoded into it, goes through the pipeline and is written out ...
 * pool.give(buffer);          // free for the next frame
 * ```
 */
export class FramePool {
  readonly frameBytes: number;
  readonly capacity: number;
  readonly #free: ArrayBuffer[] = [];
  #reused = 0;

  /** `capacity`: the most free buffers kept (more are left to the garbage collector). */
  constructor(frameBytes: number, capacity = 8) {
    if (!Number.isInteger(frameBytes) || frameBytes < 1) {
      throw new RangeError(`frame size must be a positive integer, got ${frameBytes}`);
    }
    this.frameBytes = frameBytes;
    this.capacity = capacity;
  }

  /** Buffers handed out again rather than allocated. */
  get reused(): number {
    return this.#reused;
  }

  /** A free buffer of `frameBytes`, or a new one when none is free. */
  take(): ArrayBuffer {
    const buffer = this.#free.pop();
    if (buffer === undefined) return new ArrayBuffer(this.frameBytes);
    this.#reused++;
    return buffer;
  }

  /**
   * Hands a buffer back once nothing uses it any more. Buffers of another size, detached ones
   * (transferred elsewhere) and any beyond `capacity` are ignored.
   */
  give(buffer: ArrayBufferLike): void {
    if (
      buffer instanceof ArrayBuffer && !buffer.detached && buffer.byteLength === this.frameBytes &&
      this.#free.length < this.capacity && !this.#free.includes(buffer)
    ) {
      this.#free.push(buffer);
    }
  }
}
