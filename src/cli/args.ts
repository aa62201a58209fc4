/**
 * Command-line arguments of `deno task segment`: parsed with `node:util` `parseArgs`, validated
 * with zod. Every wrong value becomes a {@link UsageError} whose one-line message names the flag
 * and what is allowed.
 * @module
 */
import { resolve } from "node:path";
import { parseArgs, type ParseArgsConfig } from "node:util";
import { z } from "zod";
import {
  type ObjectPrompt,
  parseBoxFlag,
  parsePointFlag,
  PromptError,
} from "../segment/prompts.ts";
import { isValidModelName } from "../model/model_name.ts";
import type { ModelChoice } from "../model/open_segmenter.ts";
import { type Precision, PRECISIONS } from "../model/precision.ts";
import {
  type DiscoveryArgs,
  EVERYTHING_FLAG_OPTIONS,
  EVERYTHING_FLAG_SHAPE,
  everythingFlags,
  type EverythingImageArgs,
} from "./everything_args.ts";
import {
  REALTIME_FLAG_OPTIONS,
  REALTIME_FLAG_SHAPE,
  type RealtimeArgs,
  realtimeFlags,
} from "./realtime_args.ts";
import {
  type Container,
  CONTAINER_BY_EXTENSION,
  type OutputTarget,
  OutputTargetError,
  parseOutputTarget,
} from "../video/output_target.ts";

/** A mistake in how the command was invoked (exit code 2). */
export class UsageError extends Error {
  override name = "UsageError";
}

/** How progress is shown on stderr. */
export type ProgressMode = "tty" | "json" | "none";

/** The validated options of the segment command. */
export interface SegmentArgs {
  readonly help: boolean;
  readonly input: string;
  readonly output: OutputTarget;
  /** Prompts given as flags, in command-line order (not yet checked against the frame). */
  readonly flagPrompts: readonly ObjectPrompt[];
  readonly promptsFile?: string;
  readonly masksDir?: string;
  readonly masksJson?: string;
  readonly maxFrames?: number;
  readonly live: boolean;
  readonly quiet: boolean;
  /** Explicit `--progress`; undefined means "tty when stderr is a terminal". */
  readonly progress?: ProgressMode;
  /** The model a segmenting run loads (ignored by a pass-through). */
  readonly model: ModelChoice;
  /** `--everything-every K`: periodic everything passes that discover objects to track. */
  readonly discovery?: DiscoveryArgs;
  /** Keyframes, refinement, latency target, model threads, output preset (as given). */
  readonly realtime: RealtimeArgs;
}

/** The validated options of `segment --everything`: one frame in, masks and a PNG overlay out. */
export interface EverythingImageCommandArgs {
  readonly help: false;
  readonly input: string;
  readonly everythingImage: EverythingImageArgs;
  readonly masksJson?: string;
  readonly quiet: boolean;
  readonly model: ModelChoice;
}

/** Precision used when `--precision` is not given. */
export const DEFAULT_PRECISION: Precision = "fp32";

const CONTAINERS = [...new Set(Object.values(CONTAINER_BY_EXTENSION))] as [
  Container,
  ...Container[],
];

/** The `parseArgs` option table; model flags are added here when the model lands. */
export const SEGMENT_OPTIONS = {
  help: { type: "boolean", short: "h" },
  input: { type: "string", short: "i" },
  output: { type: "string", short: "o" },
  point: { type: "string", multiple: true },
  "negative-point": { type: "string", multiple: true },
  box: { type: "string", multiple: true },
  prompts: { type: "string" },
  "masks-dir": { type: "string" },
  "masks-json": { type: "string" },
  "max-frames": { type: "string" },
  live: { type: "boolean" },
  quiet: { type: "boolean", short: "q" },
  progress: { type: "string" },
  "output-format": { type: "string" },
  model: { type: "string" },
  checkpoint: { type: "string" },
  precision: { type: "string" },
  threads: { type: "string" },
  calibration: { type: "string" },
  ...EVERYTHING_FLAG_OPTIONS,
  ...REALTIME_FLAG_OPTIONS,
} as const satisfies ParseArgsConfig["options"];

const nonEmpty = (flag: string) =>
  z.string({ error: `${flag} is required` }).check(
    z.refine((value) => value.trim() !== "", `${flag} must not be empty`),
  );

const rawSchema = z.object({
  help: z.boolean().optional(),
  input: nonEmpty("--input"),
  output: nonEmpty("--output"),
  point: z.array(z.string()).optional(),
  "negative-point": z.array(z.string()).optional(),
  box: z.array(z.string()).optional(),
  prompts: nonEmpty("--prompts").optional(),
  "masks-dir": nonEmpty("--masks-dir").optional(),
  "masks-json": nonEmpty("--masks-json").optional(),
  "max-frames": z.string().regex(
    /^[1-9]\d*$/,
    { error: (issue) => `--max-frames must be a positive integer (got "${issue.input}")` },
  ).transform(Number).optional(),
  live: z.boolean().optional(),
  quiet: z.boolean().optional(),
  progress: z.enum(["tty", "json", "none"], {
    error: (issue) => `--progress must be one of tty, json, none (got "${issue.input}")`,
  }).optional(),
  "output-format": z.enum(CONTAINERS, {
    error: (issue) =>
      `--output-format must be one of ${CONTAINERS.join(", ")} (got "${issue.input}")`,
  }).optional(),
  model: z.string().refine(isValidModelName, {
    error: (issue) => `--model must be a model name such as tinysam-42.3 (got "${issue.input}")`,
  }).optional(),
  checkpoint: nonEmpty("--checkpoint").optional(),
  precision: z.enum(PRECISIONS as [Precision, ...Precision[]], {
    error: (issue) => `--precision must be one of ${PRECISIONS.join(", ")} (got "${issue.input}")`,
  }).optional(),
  threads: z.string().regex(/^[1-9]\d*$/, {
    error: (issue) => `--threads must be a positive integer (got "${issue.input}")`,
  }).transform(Number).optional(),
  calibration: nonEmpty("--calibration").optional(),
  ...EVERYTHING_FLAG_SHAPE,
  ...REALTIME_FLAG_SHAPE,
});

/**
 * Parses and validates `argv`. With `--help` anywhere, returns `{ help: true }` without
 * validating the rest.
 *
 * @example
 * ```ts
 * const args = parseSegmentArgs(["--input", "in.mp4", "--output", "out.mp4", "--point", "120,80"]);
 * args.flagPrompts[0].points[0]; // { x: 120, y: 80, positive: true }
 * ```
 */
export function parseSegmentArgs(
  argv: readonly string[],
): SegmentArgs | EverythingImageCommandArgs | { readonly help: true } {
  if (argv.includes("--help") || argv.includes("-h")) return { help: true };
  let values: Record<string, unknown>;
  try {
    values = parseArgs({ args: [...argv], options: SEGMENT_OPTIONS, strict: true }).values;
  } catch (error) {
    throw new UsageError(describeParseArgsError(error));
  }
  if (values.help) return { help: true };
  const parsed = rawSchema.safeParse(values);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const flag = `--${String(issue.path[0])}`;
    throw new UsageError(
      issue.message.includes("--") ? issue.message : `${flag}: ${issue.message}`,
    );
  }
  const raw = parsed.data;
  if (raw.model !== undefined && raw.checkpoint !== undefined) {
    throw new UsageError("--model and --checkpoint name two models; give one");
  }
  const model: ModelChoice = {
    model: raw.model,
    checkpoint: raw.checkpoint,
    precision: raw.precision ?? DEFAULT_PRECISION,
    threads: raw.threads,
    calibration: raw.calibration,
  };
  let everything: ReturnType<typeof everythingFlags>;
  try {
    everything = everythingFlags(raw, {
      output: raw.output,
      hasPrompts: raw.prompts !== undefined ||
        [raw.point, raw["negative-point"], raw.box].some((flags) => (flags?.length ?? 0) > 0),
      live: raw.live ?? false,
      masksDir: raw["masks-dir"] !== undefined,
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (everything.image) {
    return {
      help: false,
      input: raw.input,
      everythingImage: everything.image,
      masksJson: raw["masks-json"],
      quiet: raw.quiet ?? false,
      model,
    };
  }
  let output: OutputTarget;
  try {
    output = parseOutputTarget(raw.output, raw["output-format"]);
  } catch (error) {
    if (error instanceof OutputTargetError) throw new UsageError(`--output: ${error.message}`);
    throw error;
  }
  if (output.kind === "file" && raw.input !== "-" && sameFile(raw.input, output.path)) {
    throw new UsageError(`--output must differ from --input (both are "${raw.input}")`);
  }
  let realtime: RealtimeArgs;
  try {
    realtime = realtimeFlags(raw);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  let flagPrompts: ObjectPrompt[];
  try {
    flagPrompts = [
      ...(raw.point ?? []).map((value) => parsePointFlag(value, true, "--point")),
      ...(raw["negative-point"] ?? []).map((value) =>
        parsePointFlag(value, false, "--negative-point")
      ),
      ...(raw.box ?? []).map((value) => parseBoxFlag(value, "--box")),
    ];
  } catch (error) {
    if (error instanceof PromptError) throw new UsageError(error.message);
    throw error;
  }
  return {
    help: false,
    input: raw.input,
    output,
    flagPrompts,
    promptsFile: raw.prompts,
    masksDir: raw["masks-dir"],
    masksJson: raw["masks-json"],
    maxFrames: raw["max-frames"],
    live: raw.live ?? false,
    quiet: raw.quiet ?? false,
    progress: raw.progress,
    model,
    ...(everything.discovery ? { discovery: everything.discovery } : {}),
    realtime,
  };
}

function sameFile(a: string, b: string): boolean {
  try {
    return Deno.realPathSync(a) === Deno.realPathSync(b);
  } catch {
    return false;
  }
}

/** One line for a `node:util` `parseArgs` error, naming the flag. */
export function describeParseArgsError(error: unknown): string {
  const code = (error as { code?: string }).code;
  const message = error instanceof Error ? error.message : String(error);
  const option = /'(-[^']*)'/.exec(message)?.[1];
  switch (code) {
    case "ERR_PARSE_ARGS_UNKNOWN_OPTION":
      return `unknown option ${option ?? ""} (see --help)`.replace("  ", " ");
    case "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL":
      return `unexpected argument ${
        /'([^']*)'/.exec(message)?.[1] ?? ""
      }: every value needs its flag (see --help)`;
    case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE": {
      const flag = /--[a-z-]+/.exec(message)?.[0] ?? option ?? "an option";
      if (message.includes("ambiguous")) {
        return `${flag}: a value starting with "-" must be attached, as ${flag}=VALUE`;
      }
      return message.includes("argument missing")
        ? `${flag} needs a value (see --help)`
        : message.includes("does not take an argument")
        ? `${flag} takes no value (see --help)`
        : `${flag}: ${message.split("\n")[0]}`;
    }
    default:
      return message.split("\n")[0];
  }
}

/** Segment's flags that choose the model; other commands pass them on as they are. */
export const MODEL_FLAG_OPTIONS = {
  model: { type: "string" },
  checkpoint: { type: "string" },
  precision: { type: "string" },
  threads: { type: "string" },
  calibration: { type: "string" },
} as const satisfies ParseArgsConfig["options"];

/** Segment flags whose values are paths (made absolute when passed on). */
const PATH_FLAGS = new Set(["checkpoint", "calibration"]);

/**
 * The `names` given in parsed `values`, back as segment flags in a fixed order, with paths made
 * absolute: what a command passes on to a `segment` run that may start elsewhere.
 *
 * @example
 * ```ts
 * segmentFlagsOf({ checkpoint: "m.pth", precision: "int8" }, ["precision", "checkpoint"]);
 * // ["--precision", "int8", "--checkpoint", "/abs/m.pth"]
 * ```
 */
export function segmentFlagsOf(
  values: Record<string, unknown>,
  names: readonly string[],
): string[] {
  return names.flatMap((name) => {
    const value = values[name];
    if (typeof value !== "string") return [];
    return [`--${name}`, PATH_FLAGS.has(name) ? resolve(value) : value];
  });
}
