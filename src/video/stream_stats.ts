/**
 * Counters of a decoding run (frames read, delivered, dropped) and the capture-to-output latency
 * distribution, reported at the end of a run.
 * @module
 */

/** A summary suitable for one line of output or a JSON record. */
export interface StreamStatsSummary {
  readonly framesRead: number;
  readonly framesDelivered: number;
  readonly framesDropped: number;
  readonly framesOutput: number;
  /**
   * Frames output without masks because the model was not open yet (a live stream does not wait
   * for it); the others went through the segmentation stage.
   */
  readonly framesUnmasked: number;
  /** Median capture-to-output latency in ms (undefined when no frame was output). */
  readonly latencyP50Ms?: number;
  readonly latencyP95Ms?: number;
  readonly latencyMaxMs?: number;
}

const RESERVOIR_SIZE = 8192;

/**
 * Mutable counters shared by the decoder (read/delivered/dropped), the segmentation stage
 * (unmasked) and the sink (output, latency).
 * Latencies are kept in a fixed-size uniform reservoir sample, so long runs use constant memory.
 *
 * @example
 * ```ts
 * const stats = new StreamStats();
 * decodeVideo(source, info, { stats }).pipe(..., recordLatency(stats));
 * console.error(formatStreamStats(stats.summary()));
 * ```
 */
export class StreamStats {
  framesRead = 0;
  framesDelivered = 0;
  framesDropped = 0;
  framesOutput = 0;
  framesUnmasked = 0;
  readonly #latencies: number[] = [];
  #latencyMax = 0;
  #seed = 0x2545f491;

  /** Records one frame reaching the output `latencyMs` after it was captured. */
  recordLatency(latencyMs: number): void {
    this.framesOutput++;
    this.#latencyMax = Math.max(this.#latencyMax, latencyMs);
    if (this.#latencies.length < RESERVOIR_SIZE) {
      this.#latencies.push(latencyMs);
      return;
    }
    const slot = this.#random() % this.framesOutput;
    if (slot < RESERVOIR_SIZE) this.#latencies[slot] = latencyMs;
  }

  /** The counters and latency percentiles so far. */
  summary(): StreamStatsSummary {
    const sorted = [...this.#latencies].sort((a, b) => a - b);
    return {
      framesRead: this.framesRead,
      framesDelivered: this.framesDelivered,
      framesDropped: this.framesDropped,
      framesOutput: this.framesOutput,
      framesUnmasked: this.framesUnmasked,
      latencyP50Ms: roundMs(percentile(sorted, 0.5)),
      latencyP95Ms: roundMs(percentile(sorted, 0.95)),
      latencyMaxMs: sorted.length > 0 ? roundMs(this.#latencyMax) : undefined,
    };
  }

  // xorshift32: deterministic, so runs are reproducible.
  #random(): number {
    let x = this.#seed;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.#seed = x >>> 0;
    return this.#seed;
  }
}

function roundMs(value: number | undefined): number | undefined {
  return value === undefined ? undefined : Math.round(value * 10) / 10;
}

/** Nearest-rank percentile of an ascending array, or undefined when empty. */
export function percentile(sorted: readonly number[], fraction: number): number | undefined {
  if (sorted.length === 0) return undefined;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1));
  return sorted[rank];
}

/**
 * One human-readable line, e.g. `frames 300 read, 300 output, 0 dropped; latency p50 41 ms, p95 60 ms`.
 */
export function formatStreamStats(summary: StreamStatsSummary): string {
  let line =
    `frames ${summary.framesRead} read, ${summary.framesOutput} output, ${summary.framesDropped} dropped`;
  if (summary.latencyP50Ms !== undefined) {
    line += `; latency p50 ${summary.latencyP50Ms.toFixed(0)} ms, p95 ${
      summary.latencyP95Ms!.toFixed(0)
    } ms`;
  }
  return line;
}
