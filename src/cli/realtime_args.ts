/**
 * The real-time flags of `deno task segment`: keyframes (`--stride`), when their refinement shows
 * (`--refine`), the live latency target, how the model's work is spread over threads
 * (`--encoder-workers`) and the output encoder's speed (`--preset`). `args.ts` merges these into
 * its option table and schema; defaults that depend on whether the input is live are resolved
 * once the input is known ({@link resolveRealtime}).
 * @module
 */
import type { ParseArgsConfig } from "node:util";
import { z } from "zod";

/** libx264 presets, fastest first. */
export const X264_PRESETS = [
  "ultrafast",
  "superfast",
  "veryfast",
  "faster",
  "fast",
  "medium",
  "slow",
  "slower",
  "veryslow",
] as const;

/** A libx264 preset name. */
export type X264Preset = typeof X264_PRESETS[number];

/** Capture-to-output latency a live run aims to hold at the 95th percentile, by default. */
export const DEFAULT_LATENCY_TARGET_MS = 250;

/**
 * The output encoder's preset for live inputs when `--preset` is not given: on two cores libx264
 * needs about a core for 720p30 at `veryfast`, under half of one at `ultrafast`.
 */
export const DEFAULT_LIVE_PRESET: X264Preset = "ultrafast";

/** The `parseArgs` entries of the real-time flags. */
export const REALTIME_FLAG_OPTIONS = {
  stride: { type: "string" },
  refine: { type: "string" },
  "latency-target": { type: "string" },
  "encoder-workers": { type: "string" },
  preset: { type: "string" },
} as const satisfies ParseArgsConfig["options"];

const positive = (flag: string) =>
  z.string().regex(/^[1-9]\d*$/, {
    error: (issue) => `${flag} must be a positive integer (got "${issue.input}")`,
  }).transform(Number);

/** The zod shape of the real-time flags (merged into the segment schema). */
export const REALTIME_FLAG_SHAPE = {
  stride: z.string().regex(/^([1-9]\d*|auto)$/, {
    error: (issue) => `--stride must be a positive integer or "auto" (got "${issue.input}")`,
  }).transform((value): number | "auto" => value === "auto" ? "auto" : Number(value)).optional(),
  refine: z.enum(["sync", "async"], {
    error: (issue) => `--refine must be sync or async (got "${issue.input}")`,
  }).optional(),
  "latency-target": positive("--latency-target").optional(),
  "encoder-workers": positive("--encoder-workers").optional(),
  preset: z.enum(X264_PRESETS, {
    error: (issue) => `--preset must be one of ${X264_PRESETS.join(", ")} (got "${issue.input}")`,
  }).optional(),
};

/** Validated real-time flag values, as zod returns them. */
export type RealtimeFlagValues = z.infer<z.ZodObject<typeof REALTIME_FLAG_SHAPE>>;

/** The real-time flags as given (undefined: not given; defaults depend on the input). */
export interface RealtimeArgs {
  readonly stride?: number | "auto";
  readonly refine?: "sync" | "async";
  readonly latencyTargetMs?: number;
  readonly encoderWorkers?: number;
  readonly preset?: X264Preset;
}

/** The real-time settings of a run, defaults applied. */
export interface RealtimePlan {
  /** 1: every frame goes through the encoder (no motion propagation). */
  readonly stride: number | "auto";
  readonly refine: "sync" | "async";
  /** Live inputs only: the latency the keyframe rate is governed to hold. */
  readonly latencyTargetMs?: number;
  /**
   * Encoder workers; 0: the model runs in the pipeline's own thread, one frame at a time, which
   * measured fastest for synchronous runs on two cores (its session's two threads then share the
   * CPU with nothing else of the pipeline).
   */
  readonly encoderWorkers: number;
  readonly preset?: X264Preset;
}

/**
 * Reads the real-time flags, throwing a one-line message (without the `UsageError` class, which
 * the caller adds) for values that do not go together.
 *
 * @example
 * ```ts
 * realtimeFlags({ stride: "auto" as const }); // { stride: "auto" }
 * ```
 */
export function realtimeFlags(values: RealtimeFlagValues): RealtimeArgs {
  if (values.refine === "async" && values.stride === 1) {
    throw new Error("--refine async needs keyframes: give --stride N (N > 1) or --stride auto");
  }
  return {
    ...(values.stride !== undefined ? { stride: values.stride } : {}),
    ...(values.refine !== undefined ? { refine: values.refine } : {}),
    ...(values["latency-target"] !== undefined
      ? { latencyTargetMs: values["latency-target"] }
      : {}),
    ...(values["encoder-workers"] !== undefined
      ? { encoderWorkers: values["encoder-workers"] }
      : {}),
    ...(values.preset !== undefined ? { preset: values.preset } : {}),
  };
}

/**
 * The settings of a run on a live or a file input. Files: every frame through the encoder,
 * refined synchronously; live inputs: adaptive keyframes refined asynchronously, governed to hold
 * the latency target, and a fast output preset. Throws a one-line message when `--latency-target`
 * is given for a file.
 *
 * @example
 * ```ts
 * resolveRealtime({}, true); // { stride: "auto", refine: "async", latencyTargetMs: 250, ... }
 * ```
 */
export function resolveRealtime(args: RealtimeArgs, live: boolean): RealtimePlan {
  if (!live && args.latencyTargetMs !== undefined) {
    throw new Error("--latency-target applies to live inputs (--live, devices, rtsp/udp/srt/rtmp)");
  }
  const stride = args.stride ?? (live ? "auto" : 1);
  const refine = args.refine ?? (live && stride !== 1 ? "async" : "sync");
  return {
    stride,
    refine,
    ...(live ? { latencyTargetMs: args.latencyTargetMs ?? DEFAULT_LATENCY_TARGET_MS } : {}),
    // Live inputs keep the model off the pipeline's thread even when refining synchronously: a
    // blocked thread stops reading the input, which then backs up instead of dropping frames.
    encoderWorkers: args.encoderWorkers ?? (refine === "async" || live ? 1 : 0),
    ...(args.preset ?? (live ? DEFAULT_LIVE_PRESET : undefined)
      ? { preset: args.preset ?? DEFAULT_LIVE_PRESET }
      : {}),
  };
}
