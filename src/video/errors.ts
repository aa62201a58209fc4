/**
 * Error types of the video stages. Their messages are single lines meant for the user.
 * @module
 */

/**
 * The input cannot be used: missing, a directory, empty, corrupt, or not a video.
 *
 * @example
 * ```ts
 * throw new VideoInputError(`input "clip.mp4" does not exist`);
 * ```
 */
export class VideoInputError extends Error {
  override name = "VideoInputError";
}

/**
 * An ffmpeg process ended unexpectedly (killed, crashed, or reported an error mid-stream).
 *
 * @example
 * ```ts
 * throw new FfmpegProcessError("decoding ffmpeg was killed by SIGKILL after 42 frames");
 * ```
 */
export class FfmpegProcessError extends Error {
  override name = "FfmpegProcessError";
}

/** The last non-empty line of an ffmpeg/ffprobe stderr text, or "" when there is none. */
export function lastStderrLine(stderr: string): string {
  const lines = stderr.split(/\r\n|\r|\n/).map((line) => line.trim()).filter((line) =>
    line.length > 0
  );
  return lines.at(-1) ?? "";
}
