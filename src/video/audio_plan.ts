/**
 * Carrying the input's audio into the output: stream copy when the container accepts the codec,
 * AAC otherwise.
 * @module
 */
import type { Container } from "./output_target.ts";

/** Audio codecs each container accepts as a stream copy; `"*"` means any. */
const COPYABLE: Readonly<Record<Container, readonly string[] | "*">> = {
  mp4: ["aac", "mp3", "alac", "ac3", "eac3", "opus", "flac"],
  mov: ["aac", "mp3", "alac", "ac3", "eac3", "pcm_s16le", "pcm_s24le"],
  matroska: "*",
  nut: ["aac", "mp3", "mp2", "ac3", "opus", "vorbis", "flac", "pcm_s16le", "pcm_s24le"],
  avi: ["mp3", "mp2", "ac3", "pcm_s16le"],
  mpegts: ["aac", "mp3", "mp2", "ac3", "eac3", "opus"],
};

/**
 * The ffmpeg audio codec arguments for an input audio codec into a container.
 *
 * @example
 * ```ts
 * audioCodecArgs("aac", "mp4"); // ["-c:a", "copy"]
 * audioCodecArgs("pcm_s16le", "mp4"); // ["-c:a", "aac"]
 * ```
 */
export function audioCodecArgs(inputCodec: string | undefined, container: Container): string[] {
  const copyable = COPYABLE[container];
  const canCopy = copyable === "*" || (inputCodec !== undefined && copyable.includes(inputCodec));
  return canCopy ? ["-c:a", "copy"] : ["-c:a", "aac"];
}
