/**
 * The models of a batch worker: each opened once, when a job first needs it, and then lent to one
 * job at a time for as long as the worker runs. A worker running N jobs at once keeps up to N
 * segmenters per model (a segmenter's buffers serve one stream at a time).
 * @module
 */
import type { ModelChoice } from "../model/open_segmenter.ts";
import type { Segmenter } from "../segment/segmenter.ts";

/** Opens one segmenter for a model choice. */
export type OpenModel = (choice: ModelChoice) => Promise<Segmenter>;

/**
 * Segmenters by model choice, lent out and given back.
 *
 * @example
 * ```ts
 * const pool = new ModelPool(openSegmenter);
 * const segmenter = await pool.lend({ precision: "int8" }); // opened now
 * await segmenter.dispose(); // given back, still open
 * await pool.lend({ precision: "int8" }); // the same one, at once
 * await pool.dispose(); // released
 * ```
 */
export class ModelPool {
  readonly #open: OpenModel;
  readonly #idle = new Map<string, Segmenter[]>();
  readonly #opened: Promise<Segmenter>[] = [];
  #disposed = false;

  constructor(open: OpenModel) {
    this.#open = open;
  }

  /**
   * A segmenter for `choice`: an idle one, or a new one. Its `dispose()` gives it back to the pool
   * (once; later calls do nothing) instead of releasing it.
   */
  async lend(choice: ModelChoice): Promise<Segmenter> {
    if (this.#disposed) throw new Error("the worker's models have been released");
    const key = modelKey(choice);
    const segmenter = this.#idle.get(key)?.pop() ?? await this.#openNew(choice);
    let lent = true;
    return lentSegmenter(segmenter, () => {
      if (!lent) return;
      lent = false;
      if (this.#disposed) void segmenter.dispose();
      else this.#idle.set(key, [...this.#idle.get(key) ?? [], segmenter]);
    });
  }

  /** Releases every segmenter opened (those still lent are released as well). */
  async dispose(): Promise<void> {
    this.#disposed = true;
    this.#idle.clear();
    const opened = await Promise.allSettled(this.#opened);
    await Promise.allSettled(
      opened.flatMap((result) => result.status === "fulfilled" ? [result.value.dispose()] : []),
    );
  }

  #openNew(choice: ModelChoice): Promise<Segmenter> {
    const opening = this.#open(choice);
    this.#opened.push(opening);
    return opening;
  }
}

/** The identity of a model choice (same fields, same order, whatever the caller's order). */
function modelKey(choice: ModelChoice): string {
  return JSON.stringify([
    choice.model ?? null,
    choice.checkpoint ?? null,
    choice.precision,
    choice.threads ?? null,
    choice.calibration ?? null,
  ]);
}

/**
 * `segmenter` as a borrower sees it: everything but `dispose`, which gives it back once the calls
 * under way have settled (a stopped job's last frame must not share the segmenter with the next).
 */
function lentSegmenter(segmenter: Segmenter, giveBack: () => void): Segmenter {
  const running = new Set<Promise<unknown>>();
  const track = <T>(call: Promise<T>): Promise<T> => {
    running.add(call);
    const forget = () => running.delete(call);
    call.then(forget, forget);
    return call;
  };
  const describe = segmenter.describe;
  return {
    embed: (frame) => track(segmenter.embed(frame)),
    decode: (embedding, prompts) => track(segmenter.decode(embedding, prompts)),
    upscaleLogits: (embedding, logits, window) =>
      segmenter.upscaleLogits(embedding, logits, window),
    ...(describe
      ? {
        describe: (embedding, logits, within) =>
          describe.call(segmenter, embedding, logits, within),
      }
      : {}),
    ...(segmenter.background ? { background: segmenter.background } : {}),
    dispose: async () => {
      await Promise.allSettled([...running]);
      giveBack();
    },
  };
}
