/**
 * Standard input read once and replayed: the probe looks at the first bytes, the decoder then
 * receives those same bytes followed by the rest of the stream.
 * @module
 */

/** What `peek` saw: the buffered prefix and whether the stream ended within it. */
export interface StdinPrefix {
  readonly bytes: Uint8Array;
  readonly ended: boolean;
}

/**
 * A byte stream whose beginning can be inspected before it is consumed in full.
 *
 * @example
 * ```ts
 * const stdin = new BufferedStdin(Deno.stdin.readable);
 * const { bytes } = await stdin.peek(1 << 20); // probe these
 * const all = stdin.stream(); // the same bytes again, then everything after them
 * ```
 */
export class BufferedStdin {
  readonly #readable: ReadableStream<Uint8Array>;
  #readerOrUndefined: ReadableStreamDefaultReader<Uint8Array> | undefined;
  #chunks: Uint8Array[] = [];
  #buffered = 0;
  #ended = false;
  #streamed = false;

  constructor(readable: ReadableStream<Uint8Array>) {
    this.#readable = readable;
  }

  // Locked only when first read, so creating a source for "-" does not touch stdin.
  get #reader(): ReadableStreamDefaultReader<Uint8Array> {
    this.#readerOrUndefined ??= this.#readable.getReader();
    return this.#readerOrUndefined;
  }

  /** Reads until at least `minBytes` are buffered or the stream ends. */
  async peek(minBytes: number): Promise<StdinPrefix> {
    if (this.#streamed) throw new Error("stdin is already being streamed");
    while (!this.#ended && this.#buffered < minBytes) {
      const { value, done } = await this.#reader.read();
      if (done) {
        this.#ended = true;
      } else if (value.byteLength > 0) {
        this.#chunks.push(value);
        this.#buffered += value.byteLength;
      }
    }
    return { bytes: this.#concat(), ended: this.#ended };
  }

  /** The whole stream from its first byte; can be called once. */
  stream(): ReadableStream<Uint8Array> {
    if (this.#streamed) throw new Error("stdin can be streamed only once");
    this.#streamed = true;
    const prefix = this.#chunks;
    this.#chunks = [];
    const reader = this.#reader;
    const ended = this.#ended;
    return new ReadableStream<Uint8Array>({
      async pull(controller) {
        const next = prefix.shift();
        if (next) {
          controller.enqueue(next);
          return;
        }
        if (ended) {
          controller.close();
          return;
        }
        const { value, done } = await reader.read();
        if (done) controller.close();
        else controller.enqueue(value);
      },
      cancel(reason) {
        return reader.cancel(reason);
      },
    }, { highWaterMark: 0 });
  }

  #concat(): Uint8Array {
    if (this.#chunks.length === 1) return this.#chunks[0];
    const all = new Uint8Array(this.#buffered);
    let offset = 0;
    for (const chunk of this.#chunks) {
      all.set(chunk, offset);
      offset += chunk.byteLength;
    }
    this.#chunks = [all];
    return all;
  }
}
