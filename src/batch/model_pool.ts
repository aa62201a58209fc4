/**
 * The models of a batch worker: each opened once, when a job first needs it, and then lent to one
 * job at a time for as long as the worker runs. A worker running N jobs at once keeps up to N
 * segmenters per model (a segmenter's buffers serve one stream at a time).
 * @module
 */
import type { ModelChoice } from "../model/open_segmenter.ts";
import { lendSegmenter } from "../segment/lent_segmenter.ts";
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
    return lendSegmenter(segmenter, () => {
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
