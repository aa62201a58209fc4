/**
 * `deno task pick --input video.mp4`: a local web page to click prompts, see masks at once, find
 * every object, track the video and save the prompts. Serves on 127.0.0.1 at a free port (or
 * `--port`) and prints `http://127.0.0.1:PORT/?token=TOKEN` on standard output; Ctrl-C stops a
 * tracking run under way (its ffmpeg processes with it, its outputs discarded) and exits.
 *
 * Exit codes: 130 after Ctrl-C, 1 runtime error (input, model), 2 usage error.
 * @module
 */
import { basename, extname, resolve } from "node:path";
import { parseArgs } from "node:util";
import { z } from "zod";
import type { ModelChoice } from "../model/open_segmenter.ts";
import { DEFAULT_EMBEDDINGS_KEPT, PickSession } from "../pick/pick_session.ts";
import { startPickServer } from "../pick/pick_server.ts";
import type { Segmenter } from "../segment/segmenter.ts";
import { parseInputSource } from "../video/input_source.ts";
import { probeVideo } from "../video/probe.ts";
import {
  describeParseArgsError,
  MODEL_FLAG_OPTIONS,
  parseSegmentArgs,
  type SegmentArgs,
  segmentFlagsOf,
  UsageError,
} from "./args.ts";
import { EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_USAGE, oneLine } from "./segment.ts";

const encoder = new TextEncoder();
const say = (line: string) => Deno.stderr.writeSync(encoder.encode(`pick: ${line}\n`));

const OPTIONS = {
  help: { type: "boolean", short: "h" },
  input: { type: "string", short: "i" },
  "output-dir": { type: "string" },
  port: { type: "string" },
  embeddings: { type: "string" },
  ...MODEL_FLAG_OPTIONS,
} as const;

const HELP = `deno task pick --input VIDEO [options]

A local web page to prompt objects by clicking, see their masks at once, find every object on a
frame, track the whole video and save the prompts for \`deno task segment --prompts\`.

  -i, --input VIDEO      the video file
      --output-dir DIR   where prompts.json and tracking runs (DIR/track/) go
                         (default: NAME.pick in the current directory)
      --port N           port on 127.0.0.1 (default: a free one)
      --embeddings N     frame embeddings kept in memory (default ${DEFAULT_EMBEDDINGS_KEPT})
      --model, --checkpoint, --precision, --threads, --calibration   as for segment

The page's address, with its access token, is printed on standard output. Ctrl-C stops.
`;

/** Validated `pick` arguments. */
export interface PickArgs {
  readonly input: string;
  readonly outputDir: string;
  readonly port: number;
  readonly embeddings: number;
  readonly model: ModelChoice;
  /** The model flags as given (absolute paths), for the equivalent segment command. */
  readonly modelFlags: readonly string[];
}

const count = (flag: string, min: number, max: number) =>
  z.coerce.number({ error: `${flag} must be a number` }).int(`${flag} must be an integer`)
    .min(min, `${flag} must be at least ${min}`).max(max, `${flag} must be at most ${max}`);

/** Parses `pick` arguments; throws a {@link UsageError} with one line. */
export function parsePickArgs(argv: readonly string[]): PickArgs | { readonly help: true } {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({ args: [...argv], options: OPTIONS, strict: true }).values;
  } catch (error) {
    throw new UsageError(describeParseArgsError(error));
  }
  if (values.help) return { help: true };
  const input = values.input;
  if (typeof input !== "string" || input.trim() === "") {
    throw new UsageError("--input is required: the video file to prompt");
  }
  const number = (flag: string, schema: z.ZodType<number>, fallback: number) => {
    const value = values[flag.slice(2)];
    if (value === undefined) return fallback;
    const parsed = schema.safeParse(value);
    if (!parsed.success) throw new UsageError(parsed.error.issues[0].message);
    return parsed.data;
  };
  // Passed on to `segment` in the equivalent command line.
  const modelFlags = segmentFlagsOf(values, Object.keys(MODEL_FLAG_OPTIONS));
  // The model flags mean what they mean to segment, checked by segment's own parser.
  const segment = parseSegmentArgs(["--input", input, "--output", "x.mp4", ...modelFlags]);
  const name = basename(input, extname(input));
  return {
    input,
    outputDir: resolve(
      typeof values["output-dir"] === "string" ? values["output-dir"] : `${name}.pick`,
    ),
    port: number("--port", count("--port", 0, 65535), 0),
    embeddings: number("--embeddings", count("--embeddings", 1, 1000), DEFAULT_EMBEDDINGS_KEPT),
    model: (segment as SegmentArgs).model,
    modelFlags,
  };
}

/** How `pick` is run as a function (tests run it with a test segmenter). */
export interface PickCommandOptions {
  /** Opens the model in place of the model cache. */
  readonly openModel?: (choice: ModelChoice) => Promise<Segmenter>;
}

/**
 * Runs `pick` with `argv` until Ctrl-C (or SIGTERM); returns the exit code.
 *
 * @example
 * ```ts
 * Deno.exit(await runPick(["--input", "clip.mp4"]));
 * ```
 */
export async function runPick(
  argv: readonly string[],
  options: PickCommandOptions = {},
): Promise<number> {
  let args: PickArgs;
  try {
    const parsed = parsePickArgs(argv);
    if ("help" in parsed) {
      await Deno.stdout.write(encoder.encode(HELP));
      return 0;
    }
    args = parsed;
  } catch (error) {
    say(oneLine(error));
    return EXIT_USAGE;
  }
  const given = parseInputSource(args.input);
  if (given.kind !== "file" || given.live) {
    say("--input must be a video file (pick seeks to any frame)");
    return EXIT_USAGE;
  }
  const source = parseInputSource(resolve(given.spec));
  const stop = Promise.withResolvers<void>();
  const onSignal = () => stop.resolve();
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  let segmenter: Segmenter | undefined;
  try {
    const info = await probeVideo(source);
    const open = options.openModel ?? (async (choice: ModelChoice) => {
      const { openSegmenter } = await import("../model/open_segmenter.ts");
      return await openSegmenter(choice);
    });
    segmenter = await open(args.model);
    const session = new PickSession(source, info, segmenter, args.embeddings);
    const server = await startPickServer({
      session,
      outputDir: args.outputDir,
      modelFlags: args.modelFlags,
      port: args.port,
      onError: (error) => say(`error: ${oneLine(error)}`),
    });
    await Deno.stdout.write(encoder.encode(`${server.url}\n`));
    say(`serving ${basename(source.spec)} (${info.width}x${info.height}); Ctrl-C stops`);
    await stop.promise;
    say("stopping");
    await server.close();
    return EXIT_INTERRUPTED;
  } catch (error) {
    say(`error: ${oneLine(error)}`);
    return error instanceof UsageError ? EXIT_USAGE : EXIT_FAILURE;
  } finally {
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);
    await segmenter?.dispose();
  }
}

if (import.meta.main) {
  // `deno task` runs in the repository root; relative paths mean the caller's directory.
  const callerDirectory = Deno.env.get("INIT_CWD");
  if (callerDirectory) Deno.chdir(callerDirectory);
  Deno.exit(await runPick(Deno.args));
}
