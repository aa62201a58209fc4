/**
 * Reading one frame of an input by its index, as the segment pipeline numbers frames (the
 * constant-rate timeline at the probed rate). A file is seeked to the frame's time; other inputs
 * are decoded from the start up to it.
 * @module
 */
import { lastValueFrom, take } from "rxjs";
import type { Frame } from "../frame.ts";
import { decodeVideo } from "./decode.ts";
import type { InputSource } from "./input_source.ts";
import type { VideoInfo } from "./probe.ts";

/** The requested frame is past the end of the input. */
export class FrameOutOfRangeError extends Error {
  override name = "FrameOutOfRangeError";
}

/**
 * Frame `index` (0-based) of `source` in rgb24. Throws {@link FrameOutOfRangeError} past the end,
 * and the decoder's one-line error if ffmpeg fails.
 *
 * @example
 * ```ts
 * const source = parseInputSource("clip.mp4");
 * const frame = await readFrameAt(source, await probeVideo(source), 120);
 * ```
 */
export async function readFrameAt(
  source: InputSource,
  info: VideoInfo,
  index: number,
  signal?: AbortSignal,
): Promise<Frame> {
  const seekable = source.kind === "file" && !source.live;
  // A frame read is short and may die with a Ctrl-C: no process group of its own (which would
  // cost the next encoder run, see `FfmpegSpawnOptions.ownProcessGroup`).
  const options = { signal, ownProcessGroup: false };
  const frames = seekable
    ? decodeVideo(source, info, { ...options, startFrame: index, maxFrames: 1 })
    : decodeVideo(source, info, { ...options, maxFrames: index + 1 }).pipe(take(index + 1));
  // Decoding up to the frame keeps only the latest one.
  const frame = await lastValueFrom(frames, { defaultValue: undefined });
  if (!frame || frame.index !== index) {
    const count = seekable ? info.frameCount : frame ? frame.index + 1 : 0;
    throw new FrameOutOfRangeError(
      `frame ${index} is past the end of the input${
        count !== undefined ? ` (it has ${count} frame${count === 1 ? "" : "s"})` : ""
      }`,
    );
  }
  return frame;
}
