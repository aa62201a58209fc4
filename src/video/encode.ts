/**
 * The encoding sink: raw frames (rgb24, or yuv420p from a pipeline that reads no pixels) into an
 * ffmpeg that writes H.264 (or a fallback, or a lossless codec) to a file or standard output,
 * optionally with the input's audio.
 * @module
 */
import { Observable, type OperatorFunction } from "rxjs";
import { type Frame, frameByteLength, type PixelFormat } from "../frame.ts";
import type { SegmentedFrame } from "../segment/mask.ts";
import { type FfmpegBinaries, ffmpegBinaries } from "./binaries.ts";
import { chooseVideoEncoder } from "./encoders.ts";
import { FfmpegProcessError } from "./errors.ts";
import { describeExit, FfmpegProcess } from "./ffmpeg_process.ts";
import { audioCodecArgs } from "./audio_plan.ts";
import type { OutputTarget } from "./output_target.ts";
import type { FrameRate } from "./probe.ts";

/** `"h264"`: libx264 or the best fallback ffmpeg has; `"lossless"`: FFV1 (rgb, bit-exact). */
export type VideoCodecChoice = "h264" | "lossless";

/** Where the output's audio comes from: an input ffmpeg can open again by itself. */
export interface AudioSource {
  /** ffmpeg input options before `-i` (e.g. `-f lavfi`). */
  readonly formatArgs?: readonly string[];
  readonly url: string;
  /** Input audio codec name (from the probe), to decide between copy and AAC. */
  readonly codec?: string;
}

/** Options of {@link encodeVideo}. */
export interface EncodeOptions {
  readonly target: OutputTarget;
  readonly width: number;
  readonly height: number;
  readonly frameRate: FrameRate;
  /**
   * Layout of every frame's bytes (default `"rgb24"`); a frame in another format or of another
   * size fails the stream rather than being misread.
   */
  readonly pixelFormat?: PixelFormat;
  readonly codec?: VideoCodecChoice;
  /** libx264 preset (default: ffmpeg's own default, "medium"). */
  readonly preset?: string;
  /** Copy (or, if the container needs it, re-encode) the audio of this input. */
  readonly audio?: AudioSource;
  /** Live streams: timestamps from the wall clock at write time, so drops keep real time. */
  readonly live?: boolean;
  readonly binaries?: FfmpegBinaries;
  /** Called with the encoding ffmpeg's pid when it starts (on the first frame). */
  readonly onSpawn?: (pid: number) => void;
  /** Called once the output is finalized (or failed to be), with the frames written. */
  readonly onFinalized?: (result: EncodeResult) => void;
}

/** The outcome of an encoding run. */
export interface EncodeResult {
  readonly framesWritten: number;
  /** True when the output was written and closed properly (false also when no frame came). */
  readonly finalized: boolean;
  readonly error?: Error;
}

const FINALIZE_TIMEOUT_MS = 60_000;

/**
 * The ffmpeg arguments of the encoder for `options`, given the chosen video encoder.
 */
export function encoderArgs(options: EncodeOptions, videoEncoder: string): string[] {
  const { width, height, frameRate, target } = options;
  const pixelFormat = options.pixelFormat ?? "rgb24";
  const input = [
    ...(options.live ? ["-use_wallclock_as_timestamps", "1"] : []),
    "-f",
    "rawvideo",
    "-pix_fmt",
    pixelFormat,
    "-video_size",
    `${width}x${height}`,
    // Live: millisecond ticks, so wall-clock stamps of frames written close together stay distinct.
    "-framerate",
    options.live ? "1000" : `${frameRate.num}/${frameRate.den}`,
    "-i",
    "pipe:0",
  ];
  const audio = options.audio ? [...(options.audio.formatArgs ?? []), "-i", options.audio.url] : [];
  const maps = options.audio
    ? [
      "-map",
      "0:v:0",
      "-map",
      "1:a:0?",
      ...audioCodecArgs(options.audio.codec, target.container),
      "-shortest",
    ]
    : ["-map", "0:v:0"];
  return [
    "-hide_banner",
    "-nostdin",
    "-loglevel",
    "error",
    ...input,
    ...audio,
    ...maps,
    ...videoCodecArgs(videoEncoder, options.preset, pixelFormat),
    ...videoFilterArgs(videoEncoder, width, height, options.live ?? false),
    ...(options.live ? ["-vsync", "passthrough"] : []),
    "-f",
    target.container,
    "-y",
    target.kind === "stdout" ? "pipe:1" : target.path,
  ];
}

/**
 * Live: frames written within one millisecond would share a wall-clock stamp, and a player (or
 * the muxer) drops all but one of them. Each frame is stamped at least one tick after the last.
 */
const STRICTLY_INCREASING_PTS = "setpts='if(isnan(PREV_OUTPTS),PTS,max(PTS,PREV_OUTPTS+1))'";

function videoFilterArgs(encoder: string, width: number, height: number, live: boolean): string[] {
  // 4:2:0 needs even sizes; pad by one pixel rather than fail on odd ones.
  const needsPad = encoder !== "ffv1" && (width % 2 !== 0 || height % 2 !== 0);
  const filters = [
    ...(live ? [STRICTLY_INCREASING_PTS] : []),
    ...(needsPad ? ["pad=ceil(iw/2)*2:ceil(ih/2)*2"] : []),
  ];
  return filters.length > 0 ? ["-vf", filters.join(",")] : [];
}

function videoCodecArgs(
  encoder: string,
  preset: string | undefined,
  pixelFormat: PixelFormat,
): string[] {
  // FFV1 keeps its input's pixels bit-exact: rgb as bgr0, yuv420p as it is.
  if (encoder === "ffv1") {
    return ["-c:v", "ffv1", "-pix_fmt", pixelFormat === "rgb24" ? "bgr0" : pixelFormat];
  }
  const quality = encoder === "libx264"
    ? (preset ? ["-preset", preset] : [])
    : encoder === "mpeg4" || encoder === "libxvid"
    ? ["-q:v", "3"]
    : [];
  return ["-c:v", encoder, ...quality, "-pix_fmt", "yuv420p"];
}

/**
 * Encodes each frame and passes the item on once its pixels are handed to ffmpeg. ffmpeg starts
 * when the stage is subscribed, so its start-up overlaps the decoder's; it opens its output only
 * once the first frame arrives, and a run that ends before that kills it, leaving no output. On
 * complete, error or unsubscribe after a frame its stdin is closed so it writes the container
 * trailer: the output is playable whichever way the run ends. An encoder that fails makes the
 * stream error.
 *
 * @example
 * ```ts
 * const target = parseOutputTarget("out.mp4");
 * segmented$.pipe(
 *   encodeVideo({ target, width: info.width, height: info.height, frameRate: info.frameRate }),
 * );
 * ```
 */
export function encodeVideo(
  options: EncodeOptions,
): OperatorFunction<SegmentedFrame, SegmentedFrame> {
  return (source) =>
    new Observable<SegmentedFrame>((subscriber) => {
      let proc: FfmpegProcess | undefined;
      let writer: WritableStreamDefaultWriter<Uint8Array> | undefined;
      let finalizing: Promise<void> | undefined;
      let framesWritten = 0;

      const open = async () => {
        const binaries = options.binaries ?? await ffmpegBinaries();
        const encoder = options.codec === "lossless"
          ? "ffv1"
          : await chooseVideoEncoder(binaries.ffmpeg);
        if (finalizing) return;
        proc = new FfmpegProcess(binaries.ffmpeg, encoderArgs(options, encoder), {
          stdin: "piped",
          stdout: options.target.kind === "stdout" ? "inherit" : "null",
        });
        options.onSpawn?.(proc.pid);
        writer = proc.child.stdin.getWriter();
      };

      const pixelFormat = options.pixelFormat ?? "rgb24";
      const frameBytes = frameByteLength(options.width, options.height, pixelFormat);
      const checkFrame = (frame: Frame) => {
        const format = frame.format ?? "rgb24";
        if (format !== pixelFormat || frame.data.byteLength !== frameBytes) {
          throw new Error(
            `frame ${frame.index} is ${format}, ${frame.data.byteLength} bytes; the encoder takes ${pixelFormat}, ${frameBytes} bytes`,
          );
        }
      };

      const encoderFailure = async (): Promise<FfmpegProcessError | undefined> => {
        if (!proc) return undefined;
        const status = await proc.status;
        if (status.success) return undefined;
        const detail = await proc.lastError();
        return new FfmpegProcessError(
          `encoding ffmpeg ${describeExit(status)}${detail ? `: ${detail}` : ""}`,
        );
      };

      const write = async (item: SegmentedFrame): Promise<SegmentedFrame> => {
        checkFrame(item.frame);
        await opening;
        if (!writer) throw new Error("encoder closed");
        try {
          await writer.write(item.frame.data);
        } catch (error) {
          throw (await encoderFailure()) ?? error;
        }
        framesWritten++;
        return item;
      };

      const finalize = (): Promise<void> => {
        if (finalizing) return finalizing;
        finalizing = (async () => {
          await opening.catch(() => {});
          if (!proc || !writer) return;
          if (framesWritten === 0) {
            // ffmpeg opens its output only once a frame arrives: stopped now, it leaves none.
            proc.kill("SIGKILL");
            await proc.status;
            return;
          }
          await writer.close().catch(() => {});
          const timer = setTimeout(() => proc?.kill("SIGKILL"), FINALIZE_TIMEOUT_MS);
          try {
            const failure = await encoderFailure();
            if (failure) throw failure;
          } finally {
            clearTimeout(timer);
          }
        })();
        finalizing.then(
          () => options.onFinalized?.({ framesWritten, finalized: framesWritten > 0 }),
          (error) => options.onFinalized?.({ framesWritten, finalized: false, error }),
        );
        return finalizing;
      };

      // Frames are written strictly in order; an upstream error or completion waits for the
      // frames already received, so they all reach the output before it is finalized.
      const opening = open();
      opening.catch(() => {/* reported by the first write */});
      let chain: Promise<void> = Promise.resolve();
      let failed = false;
      const fail = (error: unknown) => {
        if (failed) return;
        failed = true;
        finalize().then(
          () => subscriber.error(error),
          () => subscriber.error(error),
        );
      };
      const subscription = source.subscribe({
        next: (item) => {
          chain = chain.then(async () => {
            if (failed) return;
            subscriber.next(await write(item));
          }).catch(fail);
        },
        error: (error) => {
          chain = chain.then(() => fail(error));
        },
        complete: () => {
          chain = chain.then(async () => {
            if (failed) return;
            await finalize();
            subscriber.complete();
          }).catch(fail);
        },
      });

      return () => {
        subscription.unsubscribe();
        chain.then(finalize).catch(() => {});
      };
    });
}
