/**
 * Holding a live stream's latency: a keyframe policy whose smallest interval between keyframes
 * follows the latency frames actually see. Every keyframe costs the encoder (and the refinement) a
 * slice of the CPU the per-frame work also needs; when the recent 95th-percentile latency nears
 * the target, keyframes are spaced further apart, and when there is room again, closer.
 * @module
 */
import { percentile } from "../../video/stream_stats.ts";
import {
  type AdaptiveKeyframeOptions,
  adaptiveKeyframes,
  type KeyframeEvidence,
  type KeyframePolicy,
  type KeyframeReason,
} from "./keyframe_policy.ts";

/** Options of {@link latencyGovernedKeyframes}. */
export interface LatencyGovernorOptions extends AdaptiveKeyframeOptions {
  /** Latency to hold at the 95th percentile, in ms. */
  readonly targetMs: number;
  /** Frames between two adjustments, and the window the percentile is taken over (default 30). */
  readonly window?: number;
  /** Largest smallest-interval the governor goes to (default 60 frames). */
  readonly maxMinInterval?: number;
}

/** An adaptive keyframe policy that also takes latency measurements. */
export interface LatencyGovernedPolicy extends KeyframePolicy {
  /** Records one frame's capture-to-output latency. */
  observeLatency(latencyMs: number): void;
  /** The current smallest interval between keyframes (frames). */
  readonly minInterval: number;
  /** The 95th percentile of the last window of latencies (ms), once measured. */
  readonly recentP95Ms: number | undefined;
}

/**
 * Adaptive keyframes (see `adaptiveKeyframes`) with a smallest interval raised by half (plus one)
 * when the window's 95th-percentile latency exceeds 80% of the target, and lowered by a quarter
 * when it is under 40%; forced keyframes (prompts, discovery) are never held back.
 *
 * @example
 * ```ts
 * const policy = latencyGovernedKeyframes({ targetMs: 250 });
 * frames.pipe(trackObjects(segmenter, prompts, {
 *   keyframes: { policy, refine: "async" },
 *   onStageLatency: (ms) => policy.observeLatency(ms),
 * }));
 * ```
 */
export function latencyGovernedKeyframes(options: LatencyGovernorOptions): LatencyGovernedPolicy {
  const inner = adaptiveKeyframes(options);
  const window = options.window ?? 30;
  const ceiling = Math.max(1, options.maxMinInterval ?? 60);
  let minInterval = Math.max(1, options.minInterval ?? 1);
  let last = -Infinity;
  let recent: number[] = [];
  let recentP95: number | undefined;
  return {
    name: `auto (latency target ${options.targetMs} ms)`,
    everyFrame: false,
    get minInterval() {
      return minInterval;
    },
    get recentP95Ms() {
      return recentP95;
    },
    decide(e: KeyframeEvidence): KeyframeReason | undefined {
      if (!e.forced && e.frameIndex - last < minInterval) return undefined;
      return inner.decide(e);
    },
    encoded(frameIndex: number) {
      last = frameIndex;
      inner.encoded(frameIndex);
    },
    observeLatency(latencyMs: number) {
      recent.push(latencyMs);
      if (recent.length < window) return;
      recentP95 = percentile([...recent].sort((a, b) => a - b), 0.95)!;
      recent = [];
      if (recentP95 > 0.8 * options.targetMs) {
        minInterval = Math.min(ceiling, Math.ceil(minInterval * 1.5) + 1);
      } else if (recentP95 < 0.4 * options.targetMs && minInterval > 1) {
        minInterval = Math.max(1, Math.floor(minInterval * 0.75));
      }
    },
  };
}
