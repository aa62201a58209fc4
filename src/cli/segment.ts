/**
 * `deno task segment`: decode a video, segment it, draw the masks, re-encode it, export masks.
 * Run with `--help` for the flags. Exit codes: 0 done, 1 runtime error, 2 usage error,
 * 130 interrupted; outputs are finalized in every case.
 * @module
 */
import { PromptError } from "../segment/prompts.ts";
import { StreamStats } from "../video/stream_stats.ts";
import {
  type EverythingImageCommandArgs,
  parseSegmentArgs,
  type SegmentArgs,
  UsageError,
} from "./args.ts";
import { SEGMENT_HELP } from "./segment_help.ts";
import type { ModelChoice } from "../model/open_segmenter.ts";
import type { Segmenter } from "../segment/segmenter.ts";
import { type OpenedModel, segmentRun } from "./segment_run.ts";

/** After this long waiting for a model still loading at the end of a run, say so. */
const MODEL_WAIT_NOTICE_MS = 1000;

/** Exit code of a run stopped by Ctrl-C (128 + SIGINT). */
export const EXIT_INTERRUPTED = 130;
/** Exit code of a usage error. */
export const EXIT_USAGE = 2;
/** Exit code of a runtime error. */
export const EXIT_FAILURE = 1;

const encoder = new TextEncoder();
const say = (line: string) => Deno.stderr.writeSync(encoder.encode(`segment: ${line}\n`));

/** How the segment command is run as a function (tests, other commands). */
export interface SegmentCommandOptions {
  /** Opens the model in place of the model cache (e.g. a test segmenter); the run disposes it. */
  readonly openModel?: (choice: ModelChoice) => Promise<Segmenter>;
}

/**
 * Runs the segment command with `argv` and returns its exit code. Ctrl-C stops decoding; the
 * outputs are then finalized and the code is 130 (a second Ctrl-C exits at once).
 *
 * @example
 * ```ts
 * const code = await runSegment(["--input", "in.mp4", "--output", "out.mp4"]);
 * ```
 */
export async function runSegment(
  argv: readonly string[],
  options: SegmentCommandOptions = {},
): Promise<number> {
  let parsed: SegmentArgs | EverythingImageCommandArgs | { readonly help: true };
  try {
    parsed = parseSegmentArgs(argv);
  } catch (error) {
    say(oneLine(error));
    return EXIT_USAGE;
  }
  if (parsed.help) {
    await Deno.stdout.write(encoder.encode(SEGMENT_HELP));
    return 0;
  }
  if ("everythingImage" in parsed) {
    const { runEverythingImage } = await import("./everything.ts");
    return await runEverythingImage(parsed);
  }
  const args = parsed as SegmentArgs;
  const interrupt = new AbortController();
  const onInterrupt = () => {
    if (interrupt.signal.aborted) Deno.exit(EXIT_INTERRUPTED);
    interrupt.abort();
  };
  Deno.addSignalListener("SIGINT", onInterrupt);
  const stats = new StreamStats();
  const opened: OpenedModel = {};
  try {
    await segmentRun(args, {
      signal: interrupt.signal,
      stats,
      opened,
      say,
      ...(options.openModel ? { openModel: options.openModel } : {}),
    });
    if (interrupt.signal.aborted) {
      say(`interrupted: outputs finalized after ${stats.framesOutput} frames`);
      return EXIT_INTERRUPTED;
    }
    return 0;
  } catch (error) {
    say(`error: ${oneLine(error)}`);
    if (interrupt.signal.aborted) return EXIT_INTERRUPTED;
    return isUsageError(error) ? EXIT_USAGE : EXIT_FAILURE;
  } finally {
    // The process must not exit while the model is still being opened (onnxruntime aborts when a
    // worker is torn down mid-initialization): wait for it, and release it (again: harmless).
    const released = opened.model?.then((segmenter) => segmenter.dispose(), () => {});
    if (released) {
      const slow = setTimeout(
        () => say("waiting for the model to finish loading (Ctrl-C again quits at once)"),
        MODEL_WAIT_NOTICE_MS,
      );
      await released;
      clearTimeout(slow);
    }
    Deno.removeSignalListener("SIGINT", onInterrupt);
  }
}

function isUsageError(error: unknown): boolean {
  // Prompts given as flags are part of the command line; a prompts file is an input.
  return error instanceof UsageError ||
    (error instanceof PromptError && error.message.startsWith("--"));
}

/** The first non-empty line of an error's message (what a command prints). */
export function oneLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split("\n").find((line) => line.trim() !== "")?.trim() ?? "unknown error";
}

if (import.meta.main) {
  // `deno task` runs in the repository root; relative paths mean the caller's directory.
  const callerDirectory = Deno.env.get("INIT_CWD");
  if (callerDirectory) Deno.chdir(callerDirectory);
  Deno.exit(await runSegment(Deno.args));
}
