/**
 * Reading a child process's output line by line while it runs, so a test can wait for a
 * readiness line before it acts (send a signal, release a gate) instead of sleeping and hoping.
 * @module
 */

/** The lines of a stream as they arrive. */
export class LineWatcher {
  readonly lines: string[] = [];
  /** Settles when the stream has ended. */
  readonly ended: Promise<void>;
  #waiters: { match: (line: string) => boolean; resolve: (line: string) => void }[] = [];
  #done = false;

  constructor(stream: ReadableStream<Uint8Array>) {
    this.ended = this.#read(stream);
  }

  /**
   * The first line (already seen or still to come) that `match` accepts; rejects if the stream
   * ends without one, with every line seen, so a test never waits on a process that has exited.
   */
  waitFor(match: (line: string) => boolean, what: string): Promise<string> {
    const seen = this.lines.find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    if (this.#done) return Promise.reject(this.#missing(what));
    return new Promise<string>((resolve, reject) => {
      this.#waiters.push({ match, resolve });
      this.ended.then(() => reject(this.#missing(what)));
    });
  }

  #missing(what: string): Error {
    return new Error(`the output ended without ${what}:\n${this.lines.join("\n")}`);
  }

  async #read(stream: ReadableStream<Uint8Array>): Promise<void> {
    let partial = "";
    const take = (line: string) => {
      this.lines.push(line);
      for (const waiter of this.#waiters.filter((w) => w.match(line))) waiter.resolve(line);
      this.#waiters = this.#waiters.filter((w) => !w.match(line));
    };
    for await (const text of stream.pipeThrough(new TextDecoderStream())) {
      const parts = (partial + text).split("\n");
      partial = parts.pop()!;
      parts.forEach(take);
    }
    if (partial !== "") take(partial);
    this.#done = true;
  }
}

/** Whether `line` is a `--progress json` record of `event` (and, if given, matches `test`). */
export function isRecord(
  line: string,
  event: string,
  test: (record: Record<string, unknown>) => boolean = () => true,
): boolean {
  if (!line.startsWith("{")) return false;
  try {
    const record = JSON.parse(line);
    return record.event === event && test(record);
  } catch {
    return false;
  }
}
