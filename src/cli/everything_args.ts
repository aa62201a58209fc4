/**
 * The everything flags of `deno task segment`: `--everything` (one frame, a PNG overlay),
 * `--everything-every K` (periodic discovery in video) and their settings. `args.ts` merges
 * these into its option table and schema.
 * @module
 */
import type { ParseArgsConfig } from "node:util";
import { z } from "zod";
import { EVERYTHING_STRATEGIES, type EverythingStrategy } from "../segment/everything/strategy.ts";

/** Objects discovery may add when `--max-objects` is not given. */
export const DEFAULT_MAX_OBJECTS = 20;

/** The `parseArgs` entries of the everything flags. */
export const EVERYTHING_FLAG_OPTIONS = {
  everything: { type: "boolean" },
  frame: { type: "string" },
  "everything-every": { type: "string" },
  "everything-mode": { type: "string" },
  "points-per-side": { type: "string" },
  "max-objects": { type: "string" },
} as const satisfies ParseArgsConfig["options"];

const integer = (flag: string, pattern: RegExp, what: string) =>
  z.string().regex(pattern, {
    error: (issue) => `${flag} must be ${what} (got "${issue.input}")`,
  }).transform(Number);
const positive = (flag: string) => integer(flag, /^[1-9]\d*$/, "a positive integer");

/** The zod shape of the everything flags (merged into the segment schema). */
export const EVERYTHING_FLAG_SHAPE = {
  everything: z.boolean().optional(),
  frame: integer("--frame", /^\d+$/, "a frame index (0, 1, ...)").optional(),
  "everything-every": positive("--everything-every").optional(),
  "everything-mode": z.enum(
    EVERYTHING_STRATEGIES as [EverythingStrategy, ...EverythingStrategy[]],
    {
      error: (issue) =>
        `--everything-mode must be one of ${
          EVERYTHING_STRATEGIES.join(", ")
        } (got "${issue.input}")`,
    },
  ).optional(),
  "points-per-side": positive("--points-per-side").optional(),
  "max-objects": positive("--max-objects").optional(),
};

/** Validated everything flag values, as zod returns them. */
export type EverythingFlagValues = z.infer<z.ZodObject<typeof EVERYTHING_FLAG_SHAPE>>;

/** How everything passes run, wherever they run. */
export interface EverythingPassArgs {
  readonly mode: EverythingStrategy;
  /** Dense grid points per side (default 32). */
  readonly pointsPerSide?: number;
}

/** `--everything-every K`: a pass on frame 0 and every K frames, feeding the tracker. */
export interface DiscoveryArgs extends EverythingPassArgs {
  readonly every: number;
  /** New objects are added only while fewer than this many objects are tracked (prompted ones count). */
  readonly maxObjects: number;
}

/** `--everything`: one pass on one frame, written as masks JSON and a PNG overlay. */
export interface EverythingImageArgs extends EverythingPassArgs {
  readonly frame: number;
  /** `--output`, a `.png` file. */
  readonly overlayPng: string;
}

/**
 * Reads the everything flags. Returns which mode they ask for and throws a one-line message
 * (without the `UsageError` class, which the caller adds) for flags that do not go together.
 *
 * @example
 * ```ts
 * everythingFlags({ "everything-every": 30 }, { output: "out.mp4", hasPrompts: false });
 * // { discovery: { every: 30, maxObjects: 20, mode: "hierarchical" } }
 * ```
 */
export function everythingFlags(
  values: EverythingFlagValues,
  context: {
    readonly output: string;
    readonly hasPrompts: boolean;
    readonly live: boolean;
    readonly masksDir: boolean;
  },
): { readonly image?: EverythingImageArgs; readonly discovery?: DiscoveryArgs } {
  const pass: EverythingPassArgs = {
    mode: values["everything-mode"] ?? "hierarchical",
    ...(values["points-per-side"] !== undefined
      ? { pointsPerSide: values["points-per-side"] }
      : {}),
  };
  const every = values["everything-every"];
  if (values.everything) {
    if (every !== undefined) {
      throw new Error(
        "--everything segments one frame; --everything-every K discovers objects in a video: give one",
      );
    }
    if (context.hasPrompts) {
      throw new Error("--everything takes no prompts (use --everything-every K to add prompts)");
    }
    if (context.live) throw new Error("--everything reads one frame and cannot be --live");
    if (context.masksDir) {
      throw new Error(
        "--masks-dir applies to videos; --everything writes its masks with --masks-json",
      );
    }
    if (values["max-objects"] !== undefined) {
      throw new Error("--max-objects applies to --everything-every, not --everything");
    }
    if (!/\.png$/i.test(context.output)) {
      throw new Error(
        `--output of --everything is a PNG overlay: name it *.png (got "${context.output}")`,
      );
    }
    return { image: { ...pass, frame: values.frame ?? 0, overlayPng: context.output } };
  }
  if (values.frame !== undefined) throw new Error("--frame applies to --everything only");
  if (every === undefined) {
    for (const flag of ["everything-mode", "points-per-side", "max-objects"] as const) {
      if (values[flag] !== undefined) {
        throw new Error(`--${flag} needs --everything or --everything-every K`);
      }
    }
    return {};
  }
  return {
    discovery: { ...pass, every, maxObjects: values["max-objects"] ?? DEFAULT_MAX_OBJECTS },
  };
}
