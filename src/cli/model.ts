/**
 * `deno run -A src/cli/model.ts <command> ...`: the model tasks (`model:fetch`, `model:build`).
 * Each subcommand lives in its own module and is registered in {@link MODEL_COMMANDS}.
 * Exit codes: 0 done, 1 failed (download, checkpoint, build), 2 bad usage.
 * @module
 */
import { buildCommand } from "./model_build.ts";
import { evalQuantCommand } from "./model_eval_quant.ts";
import {
  EXIT_USAGE,
  type ModelCommand,
  ModelUsageError,
  printError,
  reportFailures,
} from "./model_command.ts";
import { fetchCommand } from "./model_fetch.ts";
import { printModelList } from "./model_list.ts";

/** Every subcommand by name; a new one (e.g. `eval-quant`) is one more entry. */
export const MODEL_COMMANDS: Readonly<Record<string, ModelCommand>> = {
  fetch: fetchCommand,
  build: buildCommand,
  "eval-quant": evalQuantCommand,
};

function overview(): string {
  const width = Math.max(...Object.keys(MODEL_COMMANDS).map((name) => name.length));
  const commands = Object.entries(MODEL_COMMANDS)
    .map(([name, command]) => `  ${name.padEnd(width)}  ${command.summary}`)
    .join("\n");
  return `Usage: deno run -A src/cli/model.ts <command> [options]   (or deno task model:<command>)

Commands:
${commands}

  --list  show the known models and what the cache holds
  --help  show this help; <command> --help shows a command's options`;
}

/**
 * Runs the model CLI with `argv` (subcommand first) and returns the exit code.
 *
 * @example
 * ```ts ignore
 * import { runModelCli } from "./model.ts";
 *
 * Deno.exit(await runModelCli(["fetch", "tinysam-42.3"]));
 * ```
 */
export function runModelCli(argv: readonly string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || first === "--help" || first === "-h") {
    if (first === undefined) {
      printError(
        `a command is required: ${
          Object.keys(MODEL_COMMANDS).join(", ")
        } (see src/cli/model.ts --help)`,
      );
      return Promise.resolve(EXIT_USAGE);
    }
    console.log(overview());
    return Promise.resolve(0);
  }
  if (first === "--list") {
    return reportFailures(async () => {
      if (rest.length > 0) {
        throw new ModelUsageError(`unexpected argument '${rest[0]}' after --list`);
      }
      await printModelList();
      return 0;
    }, "src/cli/model.ts");
  }
  const command = Object.hasOwn(MODEL_COMMANDS, first) ? MODEL_COMMANDS[first] : undefined;
  if (!command) {
    return reportFailures(() => {
      throw new ModelUsageError(
        `unknown command '${first}'; commands: ${Object.keys(MODEL_COMMANDS).join(", ")}`,
      );
    }, "src/cli/model.ts");
  }
  return reportFailures(() => command.run(rest), `deno task model:${first}`);
}

if (import.meta.main) {
  Deno.exit(await runModelCli(Deno.args));
}
