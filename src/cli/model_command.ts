/**
 * The shape of a `src/cli/model.ts` subcommand (`fetch`, `build`, later `eval-quant`) and
 * how its command line is parsed and its failures become one stderr line and an exit code.
 * @module
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { z } from "zod";
import { oneLine } from "../model/checkpoint/errors.ts";
import { UnknownModelError } from "../model/model_error.ts";
import { type Precision, PRECISIONS } from "../model/precision.ts";

/** Exit code of a failure of the work itself (download, checkpoint, build). */
export const EXIT_FAILURE = 1;
/** Exit code of a command line that cannot be run as written. */
export const EXIT_USAGE = 2;

/** `--precision` as every model subcommand validates it. */
export const precisionOption = z.enum(PRECISIONS as [Precision, ...Precision[]], {
  error: `must be one of ${PRECISIONS.join(", ")}`,
}).default("fp32");

/** A mistake in how the command was invoked (exit code 2). */
export class ModelUsageError extends Error {
  override name = "ModelUsageError";
}

/** One subcommand of the model CLI. */
export interface ModelCommand {
  /** One line for the overview help. */
  readonly summary: string;
  /** Full `--help` text. */
  readonly help: string;
  /** Does the work with the arguments after the subcommand name; returns the exit code. */
  run(argv: readonly string[]): Promise<number>;
}

/**
 * Parses `argv` strictly with `parseArgs` and validates the options with `schema`; unknown
 * options, missing values and invalid ones become a {@link ModelUsageError} naming the flag.
 *
 * @example
 * ```ts
 * import { z } from "zod";
 * import { parseCommandLine } from "./model_command.ts";
 *
 * const { options, positionals } = parseCommandLine(
 *   ["tinysam-42.3", "--list"],
 *   { list: { type: "boolean" } },
 *   z.object({ list: z.boolean().default(false) }),
 * );
 * ```
 */
export function parseCommandLine<T>(
  argv: readonly string[],
  flags: NonNullable<ParseArgsConfig["options"]>,
  schema: z.ZodType<T>,
): { options: T; positionals: string[] } {
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({ args: [...argv], options: flags, allowPositionals: true, strict: true });
  } catch (error) {
    const message = oneLine((error as Error).message);
    const unknown = message.match(/^Unknown option '([^']+)'/);
    throw new ModelUsageError(unknown ? `unknown option '${unknown[1]}'` : message);
  }
  const result = schema.safeParse(parsed.values);
  if (!result.success) {
    const issue = result.error.issues[0];
    const flag = issue.path.length > 0 ? `--${String(issue.path[0])}: ` : "";
    throw new ModelUsageError(`${flag}${issue.message}`);
  }
  return { options: result.data, positionals: parsed.positionals };
}

/**
 * Runs `task`, turning any failure into `error: <one line>` on stderr and an exit code:
 * {@link EXIT_USAGE} for a {@link ModelUsageError} or an unknown model name (with a pointer to
 * `--help`), {@link EXIT_FAILURE} for everything else. Never prints a stack trace.
 */
export async function reportFailures(
  task: () => Promise<number>,
  helpCommand: string,
): Promise<number> {
  try {
    return await task();
  } catch (error) {
    const message = oneLine(error instanceof Error ? error.message : String(error)) ||
      "unknown error";
    if (error instanceof ModelUsageError || error instanceof UnknownModelError) {
      printError(`${message} (see ${helpCommand} --help)`);
      return EXIT_USAGE;
    }
    printError(message);
    return EXIT_FAILURE;
  }
}

/** Writes `error: <message>` as one line on stderr. */
export function printError(message: string): void {
  console.error(`error: ${message}`);
}
