/**
 * Decoding an input into an Observable of frames (rgb24, or yuv420p for a pipeline that reads no
 * pixels) with one ffmpeg process per subscription.
 *
 * Files (and `-` without `--live`) are pulled: a frame is read from ffmpeg's stdout only when the
 * {@link CreditWindow} has room, so the OS pipe fills and blocks ffmpeg while the pipeline is busy.
 * Live inputs are pushed: frames are read as fast as ffmpeg produces them into a
 * {@link DropOldestQueue}, and delivered from it as the window allows.
 * @module
 */
import { Observable } from "rxjs";
import { type Frame, frameByteLength, type PixelFormat } from "../frame.ts";
import { type FfmpegBinaries, ffmpegBinaries } from "./binaries.ts";
import type { CreditWindow } from "./credit_window.ts";
import { DropOldestQueue } from "./drop_oldest_queue.ts";
import type { FramePool } from "./frame_pool.ts";
import { FfmpegProcessError } from "./errors.ts";
import { describeExit, FfmpegProcess } from "./ffmpeg_process.ts";
import type { InputSource } from "./input_source.ts";
import type { VideoInfo } from "./probe.ts";
import { readFrameBytes, TruncatedFrameError } from "./read_frame.ts";
import { StreamStats } from "./stream_stats.ts";

/** Default capacity of the live drop-oldest queue, in frames (it bounds memory). */
export const DEFAULT_LIVE_QUEUE = 6;
/**
 * Default longest wait of a live frame in the queue while newer ones arrive (ms): a stall shorter
 * than this (an encoder or worker starting, a garbage collection) drops nothing.
 */
export const DEFAULT_LIVE_MAX_WAIT_MS = 100;

/** Options of {@link decodeVideo}. */
export interface DecodeOptions {
  /** Demand window; without one frames are emitted as fast as they are read. */
  readonly credits?: CreditWindow;
  /** Counters filled in while decoding (read, delivered, dropped). */
  readonly stats?: StreamStats;
  /** Stop after this many frames. */
  readonly maxFrames?: number;
  /**
   * Files only: start at this 0-based frame (an input seek to its time on the constant-rate
   * timeline), so that reading one frame late in a file does not decode all before it. Frames keep
   * their indices from the start of the file.
   */
  readonly startFrame?: number;
  /** Aborting stops decoding gracefully: the Observable completes after the frames already sent. */
  readonly signal?: AbortSignal;
  /** Capacity of the live queue (frames); only used for live sources. */
  readonly liveQueueCapacity?: number;
  /** Longest wait of a live frame in the queue once newer ones arrive (ms). */
  readonly liveMaxWaitMs?: number;
  /**
   * Buffers to read frames into, handed back by the end of a pipeline in which no stage keeps a
   * frame's pixels (see {@link FramePool}); without one every frame gets a new buffer.
   */
  readonly pool?: FramePool;
  /**
   * Layout of the frames' bytes (default `"rgb24"`). `"yuv420p"` is for pipelines in which no
   * stage reads pixels: half the bytes of rgb24, and no conversion where the input is yuv420p.
   */
  readonly pixelFormat?: PixelFormat;
  /**
   * Whether ffmpeg gets its own process group, out of reach of a terminal's Ctrl-C (default true;
   * see `FfmpegSpawnOptions.ownProcessGroup`).
   */
  readonly ownProcessGroup?: boolean;
  /** Called with the decoding ffmpeg's pid once it is spawned (diagnostics and tests). */
  readonly onSpawn?: (pid: number) => void;
  readonly binaries?: FfmpegBinaries;
}

/**
 * The ffmpeg arguments that decode `source` into raw `pixelFormat` frames of `info.width` x
 * `info.height` on stdout, from frame `startFrame` on (files only). ffmpeg applies rotation
 * metadata itself (autorotate).
 */
export function decoderArgs(
  source: InputSource,
  info: VideoInfo,
  maxFrames?: number,
  pixelFormat: PixelFormat = "rgb24",
  startFrame = 0,
): string[] {
  const { num, den } = info.frameRate;
  if (startFrame > 0 && source.live) throw new RangeError("a live source cannot be seeked");
  // Half a frame early: frame `startFrame` is the first one at or after the seek point, whatever
  // the rounding of its timestamp (ffmpeg's input seek decodes from the previous keyframe and
  // drops the frames before the point).
  const seekSeconds = ((startFrame - 0.5) * den) / num;
  return [
    "-hide_banner",
    "-loglevel",
    "error",
    ...(source.kind === "stdin" ? [] : ["-nostdin"]),
    ...source.formatArgs,
    ...(startFrame > 0 ? ["-ss", seekSeconds.toFixed(6)] : []),
    // Live: the rate is known from the probe; estimating it again would hold the first frame
    // back until some twenty frames have arrived.
    ...(source.live ? ["-fpsprobesize", "0"] : []),
    "-i",
    source.url,
    "-map",
    "0:v:0",
    "-an",
    "-sn",
    "-dn",
    // A fixed output size keeps the framing intact even if the stream changes resolution.
    "-vf",
    `scale=${info.width}:${info.height}`,
    // Files: constant rate at the probed rate, so frame i is at i / fps (the encoder's timeline).
    // Live: every captured frame as it comes, no duplicates.
    ...(source.live ? ["-vsync", "passthrough"] : ["-vsync", "cfr", "-r", `${num}/${den}`]),
    ...(maxFrames !== undefined ? ["-frames:v", String(maxFrames)] : []),
    "-f",
    "rawvideo",
    "-pix_fmt",
    pixelFormat,
    "pipe:1",
  ];
}

/**
 * Decodes `source` (already probed as `info`). Subscribing spawns ffmpeg; completing, erroring
 * or unsubscribing kills and reaps it. A decoder that dies mid-stream errors the Observable with
 * an {@link FfmpegProcessError} whose message is one line.
 *
 * @example
 * ```ts
 * const source = parseInputSource("clip.mp4");
 * const info = await probeVideo(source);
 * const credits = new CreditWindow(4);
 * await lastValueFrom(
 *   decodeVideo(source, info, { credits }).pipe(
 *     concatMap(async (frame) => await slowStage(frame)),
 *     acknowledgeFrames(credits, (frame) => frame.index),
 *   ),
 * );
 * ```
 */
export function decodeVideo(
  source: InputSource,
  info: VideoInfo,
  options: DecodeOptions = {},
): Observable<Frame> {
  return new Observable<Frame>((subscriber) => {
    const stop = new AbortController();
    let proc: FfmpegProcess | undefined;
    let stdinPump: Promise<void> | undefined;
    const stats = options.stats ?? new StreamStats();

    const emit = (frame: Frame): boolean => {
      if (subscriber.closed) return false;
      options.credits?.sent(frame.index);
      stats.framesDelivered++;
      subscriber.next(frame);
      return !subscriber.closed;
    };

    const run = async (): Promise<void> => {
      const binaries = options.binaries ?? await ffmpegBinaries();
      if (subscriber.closed) return;
      proc = new FfmpegProcess(
        binaries.ffmpeg,
        decoderArgs(source, info, options.maxFrames, options.pixelFormat, options.startFrame),
        {
          stdin: source.stdin ? "piped" : "null",
          stdout: "piped",
          ownProcessGroup: options.ownProcessGroup,
        },
      );
      options.onSpawn?.(proc.pid);
      if (source.stdin) {
        stdinPump = source.stdin.stream().pipeTo(proc.child.stdin, { signal: stop.signal })
          .catch(() => {/* ffmpeg stopped reading: its exit status tells why */});
      }
      const reader = proc.child.stdout.getReader({ mode: "byob" });
      stop.signal.addEventListener("abort", () => reader.cancel().catch(() => {}), { once: true });
      const readFrame = makeFrameReader(reader, info, stats, options);
      let truncated = false;
      try {
        if (source.live) {
          await pushLive(readFrame, emit, options, stop.signal, stats);
        } else {
          await pull(readFrame, emit, options, stop.signal);
        }
      } catch (error) {
        if (!(error instanceof TruncatedFrameError)) throw error;
        truncated = true;
      }
      if (stop.signal.aborted || options.signal?.aborted || subscriber.closed) return;
      const status = await proc.status;
      if (!status.success || truncated) {
        const detail = await proc.lastError();
        throw new FfmpegProcessError(
          `decoding ffmpeg ${describeExit(status)} after ${stats.framesRead} frames${
            detail ? `: ${detail}` : ""
          }`,
        );
      }
    };

    const onExternalStop = () => stop.abort();
    options.signal?.addEventListener("abort", onExternalStop, { once: true });
    run().then(
      () => subscriber.complete(),
      (error) => subscriber.error(error),
    );

    return () => {
      options.signal?.removeEventListener("abort", onExternalStop);
      stop.abort();
      if (proc) {
        proc.kill("SIGKILL");
        proc.child.stdout.cancel().catch(() => {});
      }
      stdinPump?.catch(() => {});
    };
  });
}

type FrameReader = () => Promise<Frame | null>;

function makeFrameReader(
  reader: ReadableStreamBYOBReader,
  info: VideoInfo,
  stats: StreamStats,
  { pool, pixelFormat = "rgb24", startFrame = 0 }: DecodeOptions,
): FrameReader {
  const frameBytes = frameByteLength(info.width, info.height, pixelFormat);
  if (pool && pool.frameBytes !== frameBytes) {
    throw new RangeError(
      `frame pool holds ${pool.frameBytes}-byte buffers, frames are ${frameBytes}`,
    );
  }
  let index = startFrame;
  return async () => {
    const data = await readFrameBytes(reader, frameBytes, pool?.take());
    if (data === null) return null;
    const capturedAtMs = performance.now();
    stats.framesRead++;
    const frame: Frame = {
      index,
      ptsSeconds: index * info.frameRate.den / info.frameRate.num,
      width: info.width,
      height: info.height,
      data,
      ...(pixelFormat === "rgb24" ? {} : { format: pixelFormat }),
      capturedAtMs,
    };
    index++;
    return frame;
  };
}

async function pull(
  readFrame: FrameReader,
  emit: (frame: Frame) => boolean,
  options: DecodeOptions,
  signal: AbortSignal,
): Promise<void> {
  while (!signal.aborted) {
    try {
      await options.credits?.whenOpen(signal);
    } catch {
      return; // stopped while waiting for demand
    }
    const frame = await readFrame();
    if (frame === null || signal.aborted) return;
    if (!emit(frame)) return;
  }
}

async function pushLive(
  readFrame: FrameReader,
  emit: (frame: Frame) => boolean,
  options: DecodeOptions,
  signal: AbortSignal,
  stats: StreamStats,
): Promise<void> {
  const queue = new DropOldestQueue<Frame>(options.liveQueueCapacity ?? DEFAULT_LIVE_QUEUE, {
    maxWaitMs: options.liveMaxWaitMs ?? DEFAULT_LIVE_MAX_WAIT_MS,
    timeOf: (frame) => frame.capturedAtMs ?? performance.now(),
  });
  let readingDone = false;
  let readError: unknown;
  const reading = (async () => {
    try {
      while (!signal.aborted) {
        const frame = await readFrame();
        if (frame === null) break;
        stats.framesDropped += queue.push(frame);
      }
    } catch (error) {
      readError = error;
    } finally {
      readingDone = true;
      queue.interrupt();
    }
  })();
  const onAbort = () => queue.interrupt();
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    while (!signal.aborted) {
      try {
        await options.credits?.whenOpen(signal);
      } catch {
        return;
      }
      const frame = queue.shift();
      if (frame === undefined) {
        if (readingDone) break;
        await queue.whenNonEmpty();
        continue;
      }
      if (!emit(frame)) return;
    }
  } finally {
    signal.removeEventListener("abort", onAbort);
    queue.clear();
  }
  await reading;
  if (readError) throw readError;
}
