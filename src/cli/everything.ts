/**
 * `deno task segment --everything`: segment everything in one image or one frame of a video,
 * write the masks (`--masks-json`, the video format's JSON lines, one line) and a PNG overlay
 * (`--output x.png`).
 * @module
 */
import {
  FrameOutOfRangeError,
  segmentEverythingInImage,
} from "../../pipelines/everything_image.ts";
import { parseInputSource } from "../video/input_source.ts";
import { probeVideo } from "../video/probe.ts";
import type { EverythingDiscoveryOptions } from "../segment/everything/discovery_step.ts";
import type { EverythingImageCommandArgs } from "./args.ts";
import type { DiscoveryArgs } from "./everything_args.ts";

/** Exit code of a usage error (as the segment command's). */
const EXIT_USAGE = 2;
/** Exit code of a runtime error. */
const EXIT_FAILURE = 1;

const encoder = new TextEncoder();
const say = (line: string) => Deno.stderr.writeSync(encoder.encode(`segment: ${line}\n`));

/**
 * Runs the everything mode with validated arguments and returns the exit code: 0 done, 1 a
 * runtime error (unreadable input, model failure), 2 a frame past the end of the input. Errors
 * are one line on stderr; no output file is left behind by a failed run.
 *
 * @example
 * ```ts
 * const args = parseSegmentArgs(["--everything", "-i", "photo.jpg", "-o", "everything.png"]);
 * const code = await runEverythingImage(args as EverythingImageCommandArgs);
 * ```
 */
export async function runEverythingImage(args: EverythingImageCommandArgs): Promise<number> {
  const { everythingImage: request } = args;
  try {
    const source = parseInputSource(args.input);
    const info = await probeVideo(source);
    const report = await segmentEverythingInImage({
      source,
      info,
      frameIndex: request.frame,
      openSegmenter: async () => {
        const { openSegmenter } = await import("../model/open_segmenter.ts");
        return await openSegmenter(args.model);
      },
      strategy: request.mode,
      everything: request.pointsPerSide !== undefined
        ? { pointsPerSide: request.pointsPerSide }
        : {},
      overlayPng: request.overlayPng,
      masksJsonl: args.masksJson,
    });
    if (!args.quiet) {
      const { stats } = report;
      say(
        `${request.mode} everything on frame ${request.frame}: ${stats.kept} masks from ${stats.promptsDecoded} prompts` +
          ` (${stats.pointsSkipped} dense points skipped, ${stats.decodeCalls} decoder calls);` +
          ` embed ${report.embedSeconds.toFixed(2)} s, everything ${
            report.everythingSeconds.toFixed(2)
          } s`,
      );
    }
    return 0;
  } catch (error) {
    say(`error: ${oneLine(error)}`);
    return error instanceof FrameOutOfRangeError ? EXIT_USAGE : EXIT_FAILURE;
  }
}

function oneLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split("\n").find((line) => line.trim() !== "")?.trim() ?? "unknown error";
}

/**
 * The discovery step's options from `--everything-every K` and its companion flags.
 *
 * @example
 * ```ts
 * discoveryOptions({ every: 30, maxObjects: 20, mode: "hierarchical" }).every; // 30
 * ```
 */
export function discoveryOptions(args: DiscoveryArgs): EverythingDiscoveryOptions {
  return {
    every: args.every,
    strategy: args.mode,
    maxObjects: args.maxObjects,
    ...(args.pointsPerSide !== undefined
      ? { everything: { pointsPerSide: args.pointsPerSide } }
      : {}),
  };
}
