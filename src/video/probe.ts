/**
 * Probing an input with ffprobe (through fluent-ffmpeg): size after rotation, frame rate,
 * frame count, duration, pixel format, audio.
 * @module
 */
// @ts-types="@types/fluent-ffmpeg"
import ffmpeg from "fluent-ffmpeg";
import { Readable } from "node:stream";
import { Buffer } from "node:buffer";
import { ffmpegBinaries } from "./binaries.ts";
import { lastStderrLine, VideoInputError } from "./errors.ts";
import type { InputSource } from "./input_source.ts";

/** A frame rate as the exact fraction ffprobe reports. */
export interface FrameRate {
  readonly num: number;
  readonly den: number;
}

/** What the decoder and the encoder need to know about an input's video. */
export interface VideoInfo {
  /** Frame width in pixels as decoded, i.e. after rotation is applied. */
  readonly width: number;
  /** Frame height in pixels as decoded, i.e. after rotation is applied. */
  readonly height: number;
  /** The stored (unrotated) size. */
  readonly codedWidth: number;
  readonly codedHeight: number;
  readonly frameRate: FrameRate;
  /** `frameRate` as a number. */
  readonly fps: number;
  /** Number of frames when the container states it. */
  readonly frameCount?: number;
  readonly durationSeconds?: number;
  /** Display rotation in degrees as ffprobe reports it (display matrix or rotate tag), 0..359. */
  readonly rotation: number;
  readonly pixelFormat: string;
  readonly codec: string;
  readonly formatName: string;
  readonly hasAudio: boolean;
  readonly audioCodec?: string;
}

const STDIN_PROBE_BYTES = [1 << 20, 8 << 20, 32 << 20];
/**
 * A live stream on standard input is probed on a short prefix first: waiting for a megabyte of a
 * low-bitrate stream takes seconds, all of which then arrive at once and are dropped as stale.
 */
const LIVE_FIRST_PROBE_BYTES = 64 << 10;

/**
 * Probes the first video stream of `source`. Bad inputs (missing, directory, empty, corrupt,
 * not a video) raise a {@link VideoInputError} with a one-line message.
 *
 * @example
 * ```ts
 * const info = await probeVideo(parseInputSource("clip.mp4"));
 * console.log(info.width, info.height, info.fps, info.frameCount);
 * ```
 */
export async function probeVideo(source: InputSource): Promise<VideoInfo> {
  if (source.kind === "file") await checkInputFile(source.spec);
  const { ffprobe } = await ffmpegBinaries();
  if (source.stdin) {
    let lastError: unknown;
    const sizes = source.live ? [LIVE_FIRST_PROBE_BYTES, ...STDIN_PROBE_BYTES] : STDIN_PROBE_BYTES;
    for (const [attempt, size] of sizes.entries()) {
      const prefix = await source.stdin.peek(size);
      if (prefix.bytes.byteLength === 0) throw new VideoInputError("standard input is empty");
      try {
        const data = await runFfprobe(ffprobe, Readable.from([Buffer.from(prefix.bytes)]), []);
        return videoInfoFrom(data, "standard input", false);
      } catch (error) {
        lastError = error;
        // The short live prefix may only be too short: a larger one decides.
        const conclusive = !(source.live && attempt === 0);
        if (prefix.ended || (conclusive && error instanceof VideoInputError)) break;
      }
    }
    throw probeError("standard input", lastError);
  }
  const name = `input "${source.spec}"`;
  let data: ProbeData;
  try {
    data = await runFfprobe(ffprobe, source.url, source.formatArgs);
  } catch (error) {
    throw probeError(name, error);
  }
  return videoInfoFrom(data, name, source.kind === "file");
}

/** Rejects a path that does not exist, is a directory or is empty, before ffprobe sees it. */
export async function checkInputFile(path: string): Promise<void> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new VideoInputError(`input "${path}" does not exist`);
    }
    if (error instanceof Deno.errors.PermissionDenied) {
      throw new VideoInputError(`input "${path}" cannot be read (permission denied)`);
    }
    throw error;
  }
  if (info.isDirectory) {
    throw new VideoInputError(`input "${path}" is a directory, not a video file`);
  }
  if (info.size === 0) throw new VideoInputError(`input "${path}" is empty (0 bytes)`);
}

// deno-lint-ignore no-explicit-any
type ProbeData = { streams: any[]; format: any };

function runFfprobe(
  ffprobePath: string,
  input: string | Readable,
  formatArgs: readonly string[],
): Promise<ProbeData> {
  return new Promise((resolve, reject) => {
    ffmpeg(input).setFfprobePath(ffprobePath).ffprobe(
      ["-v", "error", ...formatArgs],
      (error: Error | null, data: ProbeData) => {
        if (error) {
          const detail = lastStderrLine(error.message.split("\n").slice(1).join("\n"));
          reject(new ProbeFailure(detail || error.message.split("\n")[0]));
        } else {
          resolve(data);
        }
      },
    );
  });
}

class ProbeFailure extends Error {}

function videoInfoFrom(
  data: ProbeData,
  name: string,
  isFile: boolean,
): VideoInfo {
  const format = data.format ?? {};
  const formatName = String(format.format_name ?? "");
  if (formatName === "tty") {
    throw new VideoInputError(`${name} is not a video (ffmpeg sees plain text)`);
  }
  const video = data.streams.find((stream) =>
    stream.codec_type === "video" && !(stream.disposition?.attached_pic === 1)
  );
  if (!video) throw new VideoInputError(`${name} has no video stream`);
  const codedWidth = Number(video.width);
  const codedHeight = Number(video.height);
  if (!(codedWidth > 0 && codedHeight > 0)) {
    throw new VideoInputError(`${name} has a video stream of unknown size`);
  }
  const rotation = rotationOf(video);
  const swapped = rotation === 90 || rotation === 270;
  const frameRate = frameRateOf(video);
  const audio = data.streams.find((stream) => stream.codec_type === "audio");
  const frameCount = positiveNumber(video.nb_frames);
  const durationSeconds = positiveNumber(format.duration) ?? positiveNumber(video.duration);
  return {
    width: swapped ? codedHeight : codedWidth,
    height: swapped ? codedWidth : codedHeight,
    codedWidth,
    codedHeight,
    frameRate,
    fps: frameRate.num / frameRate.den,
    frameCount: isFile ? frameCount : undefined,
    durationSeconds: isFile ? durationSeconds : undefined,
    rotation,
    pixelFormat: String(video.pix_fmt ?? "unknown"),
    codec: String(video.codec_name ?? "unknown"),
    formatName,
    hasAudio: audio !== undefined,
    audioCodec: audio ? String(audio.codec_name) : undefined,
  };
}

// deno-lint-ignore no-explicit-any
function rotationOf(video: any): number {
  const tag = video.tags?.rotate;
  // The legacy "rotate" tag is clockwise; the display matrix angle is counter-clockwise.
  const degrees = tag !== undefined ? -Number(tag) : Number(video.rotation ?? 0);
  if (!Number.isFinite(degrees)) return 0;
  return ((Math.round(degrees / 90) * 90) % 360 + 360) % 360;
}

// deno-lint-ignore no-explicit-any
function frameRateOf(video: any): FrameRate {
  for (const candidate of [video.avg_frame_rate, video.r_frame_rate]) {
    const match = /^(\d+)\/(\d+)$/.exec(String(candidate ?? ""));
    if (!match) continue;
    const num = Number(match[1]);
    const den = Number(match[2]);
    if (num > 0 && den > 0 && num / den <= 1000) return { num, den };
  }
  return { num: 25, den: 1 };
}

function positiveNumber(value: unknown): number | undefined {
  const number = typeof value === "number" ? value : Number(value);
  return Number.isFinite(number) && number > 0 ? number : undefined;
}

function probeError(name: string, error: unknown): Error {
  if (error instanceof VideoInputError) return error;
  if (!(error instanceof ProbeFailure)) {
    return error instanceof Error ? error : new Error(String(error));
  }
  // ffprobe prefixes the reason with the input name: "clip.mp4: Invalid data found ..."
  const reason = error.message.replace(/^.*?:\s(?=[A-Z])/, "");
  return new VideoInputError(`${name} is not a readable video (${reason})`);
}
