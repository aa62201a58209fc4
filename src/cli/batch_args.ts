/**
 * Command-line arguments of `deno task batch submit|worker|status`. The segment flags a batch
 * passes on (`--everything-every`, `--precision`, `--stride`, ...) are validated by `segment`'s own
 * parser, so a flag means the same in both commands; every mistake is a {@link UsageError} with a
 * one-line message.
 * @module
 */
import { resolve } from "node:path";
import { parseArgs, type ParseArgsConfig } from "node:util";
import { z } from "zod";
import { checkQueueUrl } from "../batch/connection.ts";
import { describeParseArgsError, parseSegmentArgs, segmentFlagsOf, UsageError } from "./args.ts";

/** `batch submit`: one job per video. */
export interface BatchSubmitArgs {
  readonly command: "submit";
  readonly queue: string;
  /** `--input` values and arguments without a flag: videos, globs, `@LIST` files. */
  readonly inputs: readonly string[];
  readonly outputDir: string;
  /** Prompts for every video that has no `NAME.prompts.json` of its own. */
  readonly promptsFile?: string;
  readonly masksJson: boolean;
  readonly masksDir: boolean;
  /** Run videos whose outputs are already complete again. */
  readonly force: boolean;
  /** Runs of a job before it counts as failed (bad input fails at once). */
  readonly attempts: number;
  /** The segment flags every job runs with (paths made absolute). */
  readonly segmentArgs: readonly string[];
}

/** `batch worker`: runs jobs until stopped. */
export interface BatchWorkerArgs {
  readonly command: "worker";
  readonly queue: string;
  /** Jobs run at once (each with its own segmenter). */
  readonly concurrency: number;
  /** How long a job stays with a worker that stops answering before another worker takes it. */
  readonly lockSeconds: number;
  /** The model flags (`--model`, `--checkpoint`, `--precision`, `--threads`, `--calibration`). */
  readonly modelFlags: readonly string[];
}

/** `batch status`: counts and jobs. */
export interface BatchStatusArgs {
  readonly command: "status";
  readonly queue: string;
  readonly json: boolean;
}

/** Any batch subcommand's arguments. */
export type BatchArgs = BatchSubmitArgs | BatchWorkerArgs | BatchStatusArgs;

/** The subcommands. */
export const BATCH_COMMANDS = ["submit", "worker", "status"] as const;

/** Default runs of a job. */
export const DEFAULT_ATTEMPTS = 3;
/** Default seconds before a silent worker's job is taken by another. */
export const DEFAULT_LOCK_SECONDS = 30;

/** Model flags both `submit` (per job) and `worker` (default for its jobs) take. */
const MODEL_FLAGS = {
  model: { type: "string" },
  checkpoint: { type: "string" },
  precision: { type: "string" },
  calibration: { type: "string" },
} as const satisfies ParseArgsConfig["options"];

/** Segment flags a submission passes on to every job. */
const SEGMENT_PASSTHROUGH = {
  ...MODEL_FLAGS,
  "everything-every": { type: "string" },
  "everything-mode": { type: "string" },
  "points-per-side": { type: "string" },
  "max-objects": { type: "string" },
  stride: { type: "string" },
  preset: { type: "string" },
  "max-frames": { type: "string" },
} as const satisfies ParseArgsConfig["options"];

const OPTIONS = {
  submit: {
    help: { type: "boolean", short: "h" },
    queue: { type: "string" },
    input: { type: "string", short: "i", multiple: true },
    "output-dir": { type: "string" },
    prompts: { type: "string" },
    "masks-json": { type: "boolean" },
    "masks-dir": { type: "boolean" },
    force: { type: "boolean" },
    attempts: { type: "string" },
    ...SEGMENT_PASSTHROUGH,
  },
  worker: {
    help: { type: "boolean", short: "h" },
    queue: { type: "string" },
    concurrency: { type: "string" },
    "lock-seconds": { type: "string" },
    threads: { type: "string" },
    ...MODEL_FLAGS,
  },
  status: {
    help: { type: "boolean", short: "h" },
    queue: { type: "string" },
    json: { type: "boolean" },
  },
} as const satisfies Record<string, ParseArgsConfig["options"]>;

const positive = (flag: string) =>
  z.string().regex(/^[1-9]\d*$/, {
    error: (issue) => `${flag} must be a positive integer (got "${issue.input}")`,
  }).transform(Number);
const required = (flag: string) =>
  z.string({ error: `${flag} is required` }).check(
    z.refine((value) => value.trim() !== "", `${flag} must not be empty`),
  );

/**
 * Parses `argv` (the subcommand first). `--help` anywhere returns `{ help: true }` with the
 * subcommand, if one was named.
 *
 * @example
 * ```ts
 * parseBatchArgs(["status", "--queue", "redis://127.0.0.1:6379", "--json"]);
 * // { command: "status", queue: "redis://127.0.0.1:6379", json: true }
 * ```
 */
export function parseBatchArgs(
  argv: readonly string[],
): BatchArgs | { readonly help: true; readonly command?: BatchArgs["command"] } {
  const [command, ...rest] = argv;
  const known = (BATCH_COMMANDS as readonly string[]).includes(command);
  if (argv.includes("--help") || argv.includes("-h") || command === "help") {
    return known ? { help: true, command: command as BatchArgs["command"] } : { help: true };
  }
  if (command === undefined) {
    throw new UsageError(`name a subcommand: ${BATCH_COMMANDS.join(", ")}`);
  }
  if (!known) {
    throw new UsageError(
      `unknown subcommand "${command}": use one of ${BATCH_COMMANDS.join(", ")} (see --help)`,
    );
  }
  const name = command as BatchArgs["command"];
  let values: Record<string, unknown>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: [...rest],
      options: OPTIONS[name],
      strict: true,
      allowPositionals: name === "submit",
    }));
  } catch (error) {
    throw new UsageError(describeParseArgsError(error));
  }
  const queue = required("--queue").safeParse(values.queue);
  if (!queue.success) throw new UsageError(queue.error.issues[0].message);
  let queueUrl: string;
  try {
    queueUrl = checkQueueUrl(queue.data);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  switch (name) {
    case "submit":
      return submitArgs(queueUrl, values, positionals);
    case "worker":
      return workerArgs(queueUrl, values);
    case "status":
      return { command: "status", queue: queueUrl, json: values.json === true };
  }
}

function submitArgs(
  queue: string,
  values: Record<string, unknown>,
  positionals: readonly string[],
): BatchSubmitArgs {
  const outputDir = required("--output-dir").safeParse(values["output-dir"]);
  if (!outputDir.success) throw new UsageError(outputDir.error.issues[0].message);
  const attempts = positive("--attempts").optional().safeParse(values.attempts);
  if (!attempts.success) throw new UsageError(attempts.error.issues[0].message);
  const inputs = [...(values.input as string[] | undefined ?? []), ...positionals];
  if (inputs.length === 0) throw new UsageError("--input is required: videos, globs or @LIST");
  const segmentArgs = segmentFlagsOf(values, Object.keys(SEGMENT_PASSTHROUGH));
  checkSegmentFlags(segmentArgs);
  return {
    command: "submit",
    queue,
    inputs,
    outputDir: resolve(outputDir.data),
    ...(values.prompts !== undefined ? { promptsFile: resolve(values.prompts as string) } : {}),
    masksJson: values["masks-json"] === true,
    masksDir: values["masks-dir"] === true,
    force: values.force === true,
    attempts: attempts.data ?? DEFAULT_ATTEMPTS,
    segmentArgs,
  };
}

function workerArgs(queue: string, values: Record<string, unknown>): BatchWorkerArgs {
  const concurrency = positive("--concurrency").optional().safeParse(values.concurrency);
  if (!concurrency.success) throw new UsageError(concurrency.error.issues[0].message);
  const lock = positive("--lock-seconds").optional().safeParse(values["lock-seconds"]);
  if (!lock.success) throw new UsageError(lock.error.issues[0].message);
  const modelFlags = segmentFlagsOf(values, [...Object.keys(MODEL_FLAGS), "threads"]);
  checkSegmentFlags(modelFlags);
  return {
    command: "worker",
    queue,
    concurrency: concurrency.data ?? 1,
    lockSeconds: lock.data ?? DEFAULT_LOCK_SECONDS,
    modelFlags,
  };
}

/** Validates segment flags with `segment`'s parser (its one-line message if they are wrong). */
function checkSegmentFlags(flags: readonly string[]): void {
  parseSegmentArgs(["--input", "video.mp4", "--output", "overlay.mp4", ...flags]);
}
