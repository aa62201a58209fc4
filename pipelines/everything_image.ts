/**
 * "Segment everything" on one image or one frame of a video: decode the frame, embed it, run an
 * everything pass, write the masks as a JSON line (the `--masks-json` format) and an overlay PNG.
 * @module
 */
import { frameMasksToJsonLine } from "../src/export/masks_jsonl.ts";
import { encodeFramePng } from "../src/export/frame_png.ts";
import { renderOverlay } from "../src/render/overlay.ts";
import type { EverythingStats } from "../src/segment/everything/everything_mask.ts";
import { everythingFrameMasks } from "../src/segment/everything/frame_masks.ts";
import type { EverythingOptions } from "../src/segment/everything/options.ts";
import { everythingPass, type EverythingStrategy } from "../src/segment/everything/strategy.ts";
import type { FrameMasks } from "../src/segment/mask.ts";
import type { Segmenter } from "../src/segment/segmenter.ts";
import { readFrameAt } from "../src/video/frame_at.ts";
import type { InputSource } from "../src/video/input_source.ts";
import type { VideoInfo } from "../src/video/probe.ts";
import { writeFileAtomic } from "../src/fs/write_file_atomic.ts";

export { FrameOutOfRangeError } from "../src/video/frame_at.ts";

/** What to segment and where the results go. */
export interface EverythingImageOptions {
  readonly source: InputSource;
  readonly info: VideoInfo;
  /** 0-based frame of a video (0 for an image). */
  readonly frameIndex: number;
  /** Opens the model; it is disposed before the function returns. */
  readonly openSegmenter: () => Promise<Segmenter>;
  readonly strategy: EverythingStrategy;
  readonly everything?: Partial<EverythingOptions>;
  /** Overlay PNG path. */
  readonly overlayPng?: string;
  /** JSON-lines path (one line: this frame). */
  readonly masksJsonl?: string;
}

/** What an everything run on one frame did. */
export interface EverythingImageReport {
  readonly frameMasks: FrameMasks;
  readonly stats: EverythingStats;
  readonly embedSeconds: number;
  readonly everythingSeconds: number;
}

/**
 * Runs one everything pass on frame `frameIndex` and writes the requested outputs (each through
 * a temporary file renamed into place, so a failed run leaves no partial file behind).
 *
 * @example
 * ```ts
 * const source = parseInputSource("photo.jpg");
 * const report = await segmentEverythingInImage({
 *   source, info: await probeVideo(source), frameIndex: 0, strategy: "hierarchical",
 *   openSegmenter: () => openSegmenter({ precision: "int8" }), overlayPng: "everything.png",
 * });
 * ```
 */
export async function segmentEverythingInImage(
  options: EverythingImageOptions,
): Promise<EverythingImageReport> {
  const frame = await readFrameAt(options.source, options.info, options.frameIndex);
  const segmenter = await options.openSegmenter();
  let report: EverythingImageReport;
  try {
    const started = performance.now();
    const embedding = await segmenter.embed(frame);
    const embedded = performance.now();
    const result = await everythingPass(options.strategy)(
      segmenter,
      embedding,
      options.everything,
    );
    report = {
      frameMasks: everythingFrameMasks(frame, result.masks),
      stats: result.stats,
      embedSeconds: (embedded - started) / 1000,
      everythingSeconds: (performance.now() - embedded) / 1000,
    };
  } finally {
    await segmenter.dispose();
  }
  if (options.masksJsonl !== undefined) {
    await writeFileAtomic(
      options.masksJsonl,
      new TextEncoder().encode(frameMasksToJsonLine(report.frameMasks) + "\n"),
    );
  }
  if (options.overlayPng !== undefined) {
    await writeFileAtomic(
      options.overlayPng,
      encodeFramePng(renderOverlay(frame, report.frameMasks, { markers: false })),
    );
  }
  return report;
}
