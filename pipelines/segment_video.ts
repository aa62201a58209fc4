/**
 * The segment command's pipeline: decode -> segmentation -> mask exports -> overlay -> encode,
 * pulled through a demand window (files) or fed from a drop-oldest queue (live inputs).
 * The segmentation stage is a parameter: a pass-through for now, the model-based stages later.
 * @module
 */
import { identity, type Observable, type OperatorFunction, tap } from "rxjs";
import { type Frame, frameByteLength, type PixelFormat } from "../src/frame.ts";
import type { SegmentedFrame } from "../src/segment/mask.ts";
import { decodeVideo } from "../src/video/decode.ts";
import { FramePool } from "../src/video/frame_pool.ts";
import { type AudioSource, encodeVideo, type VideoCodecChoice } from "../src/video/encode.ts";
import type { InputSource } from "../src/video/input_source.ts";
import type { OutputTarget } from "../src/video/output_target.ts";
import type { VideoInfo } from "../src/video/probe.ts";
import { pulledStream } from "../src/video/pulled_stream.ts";
import { recordLatency } from "../src/video/record_latency.ts";
import type { StreamStats } from "../src/video/stream_stats.ts";
import { DEFAULT_WINDOW_SIZE } from "../src/video/credit_window.ts";
import { drawOverlay } from "../src/render/overlay_stage.ts";
import { drawOverlayInWorker } from "../src/render/overlay_in_worker.ts";
import type { OverlayOptions } from "../src/render/overlay.ts";
import { writeMaskPngs } from "../src/export/masks_dir.ts";
import { writeMasksJsonl } from "../src/export/masks_jsonl.ts";
import { readsNoPixels } from "../src/video/without_masks.ts";

/** Everything the segment pipeline is composed from. */
export interface SegmentVideoOptions {
  readonly source: InputSource;
  readonly info: VideoInfo;
  /** Frames in, frames with their masks out (one per frame, in order). */
  readonly segmentation: OperatorFunction<Frame, SegmentedFrame>;
  /**
   * Whether `segmentation` may keep a frame's pixels after passing the frame on (default true: a
   * tracker refining in the background does). When false, each frame's buffer is read into again
   * once the frame has been written out.
   */
  readonly keepsFrames?: boolean;
  /**
   * Whether `segmentation` reads the frames' pixels or returns anything to draw over them
   * (default: true, except for a `withoutMasks()` stage). When it does neither, frames go from
   * decoder to encoder as yuv420p instead of rgb24 (see {@link transportFormat}).
   */
  readonly readsPixels?: boolean;
  readonly target: OutputTarget;
  readonly masksDir?: string;
  readonly masksJsonl?: string;
  readonly overlay?: OverlayOptions;
  readonly codec?: VideoCodecChoice;
  /** libx264 preset of the output (default: ffmpeg's, "medium"). */
  readonly preset?: string;
  /** Draw the overlay in a worker thread (frees the pipeline's thread; default false). */
  readonly overlayInWorker?: boolean;
  readonly maxFrames?: number;
  /** Aborting stops decoding; every output is then finalized and the stream completes. */
  readonly signal?: AbortSignal;
  /** Filled in as the run goes: frames read, dropped, latency. */
  readonly stats: StreamStats;
  /** Frames in flight between decoder and encoder. */
  readonly window?: number;
  readonly liveQueueCapacity?: number;
  /** Longest wait of a live frame in the queue once newer ones arrive (ms; see `decodeVideo`). */
  readonly liveMaxWaitMs?: number;
}

/**
 * Composes the segment pipeline. Subscribing starts it; it completes once every output is
 * finalized. Items are emitted after they are encoded and acknowledged.
 *
 * @example
 * ```ts
 * await lastValueFrom(segmentVideo({ source, info, segmentation: withoutMasks(), target, stats }),
 *   { defaultValue: undefined });
 * ```
 */
export function segmentVideo(options: SegmentVideoOptions): Observable<SegmentedFrame> {
  const { source, info } = options;
  const audio: AudioSource | undefined = source.kind === "file" && !source.live && info.hasAudio
    ? { url: source.url, codec: info.audioCodec }
    : undefined;
  const pixelFormat = transportFormat(options);
  // Nothing else keeps pixels: the overlay draws on a copy (or in a worker, on a clone), the mask
  // exports read masks only, and the encoder is done with a frame once it passes it on.
  const pool = options.keepsFrames === false
    ? new FramePool(frameByteLength(info.width, info.height, pixelFormat))
    : undefined;
  return pulledStream(
    (credits) =>
      decodeVideo(source, info, {
        credits,
        pool,
        pixelFormat,
        stats: options.stats,
        maxFrames: options.maxFrames,
        signal: options.signal,
        liveQueueCapacity: options.liveQueueCapacity,
        liveMaxWaitMs: options.liveMaxWaitMs,
      }),
    (frames) =>
      frames.pipe(
        options.segmentation,
        options.masksDir !== undefined ? writeMaskPngs(options.masksDir) : identity,
        options.masksJsonl !== undefined ? writeMasksJsonl(options.masksJsonl) : identity,
        options.overlayInWorker
          ? drawOverlayInWorker(options.overlay)
          : drawOverlay(options.overlay),
        encodeVideo({
          target: options.target,
          width: info.width,
          height: info.height,
          frameRate: info.frameRate,
          pixelFormat,
          codec: options.codec,
          preset: options.preset,
          audio,
          live: source.live,
        }),
        recordLatency(options.stats, (item: SegmentedFrame) => item.frame),
        pool ? tap((item: SegmentedFrame) => pool.give(item.frame.data.buffer)) : identity,
      ),
    (item) => item.frame.index,
    options.window ?? DEFAULT_WINDOW_SIZE,
  );
}

/**
 * The pixel format frames travel in through the pipeline of `options`: yuv420p when no stage
 * reads or draws pixels (the segmentation stage reads none and returns nothing to draw, so the
 * overlay hands every frame on untouched) and the output is H.264 at an even size; rgb24
 * otherwise. yuv420p carries half the bytes of rgb24 and, for the usual yuv420p input, needs no
 * conversion in either ffmpeg (x264 encodes yuv420p).
 *
 * @example
 * ```ts
 * transportFormat({ info, segmentation: withoutMasks() }); // "yuv420p" at 1280x720
 * ```
 */
export function transportFormat(
  options: Pick<SegmentVideoOptions, "info" | "segmentation" | "readsPixels" | "codec">,
): PixelFormat {
  const readsPixels = options.readsPixels ?? !readsNoPixels(options.segmentation);
  // FFV1 output stays rgb (bit-exact to the rgb24 frames); 4:2:0 needs even sizes.
  const even = options.info.width % 2 === 0 && options.info.height % 2 === 0;
  return !readsPixels && options.codec !== "lossless" && even ? "yuv420p" : "rgb24";
}
