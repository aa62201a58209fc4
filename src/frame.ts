/**
 * One decoded video frame, the unit that flows through every pipeline stage.
 * @module
 */

/**
 * How a frame's bytes are laid out. `"rgb24"`: packed RGB, 3 bytes a pixel, what every stage that
 * reads pixels expects. `"yuv420p"`: planar Y, then U, then V at half resolution both ways (1.5
 * bytes a pixel); only a pipeline in which no stage reads or draws pixels carries it, so the
 * frames go from decoder to encoder without a conversion on either side.
 */
export type PixelFormat = "rgb24" | "yuv420p";

/**
 * One decoded video frame.
 *
 * @example
 * ```ts
 * const frame: Frame = { index: 0, ptsSeconds: 0, width: 2, height: 1, data: new Uint8Array(6) };
 * ```
 */
export interface Frame {
  /** 0-based position in the decoded stream (after any drops in live mode the gaps remain). */
  readonly index: number;
  /** Presentation time in seconds, from the container's timestamps. */
  readonly ptsSeconds: number;
  readonly width: number;
  readonly height: number;
  /**
   * The pixels in `format`: packed rgb24, row-major, `width * height * 3` bytes unless `format`
   * says otherwise (see {@link frameByteLength}).
   */
  readonly data: Uint8Array;
  /** Layout of `data`; absent means `"rgb24"`. */
  readonly format?: PixelFormat;
  /** Wall-clock time (`performance.now()` ms) the frame was read from its source; latency is measured from it. */
  readonly capturedAtMs?: number;
}

/**
 * Bytes of one `width` x `height` frame in `format` (chroma planes of yuv420p round up, as
 * ffmpeg's raw frames do).
 *
 * @example
 * ```ts
 * frameByteLength(1280, 720, "rgb24"); // 2764800
 * frameByteLength(1280, 720, "yuv420p"); // 1382400
 * ```
 */
export function frameByteLength(
  width: number,
  height: number,
  format: PixelFormat = "rgb24",
): number {
  if (format === "rgb24") return width * height * 3;
  return width * height + 2 * Math.ceil(width / 2) * Math.ceil(height / 2);
}

/**
 * Throws unless `frame` holds rgb24 pixels; `what` names the reader in the message. Stages that
 * read or draw pixels call it so that a yuv420p frame is never taken for RGB.
 *
 * @example
 * ```ts
 * assertRgbFrame(frame, "the overlay");
 * ```
 */
export function assertRgbFrame(frame: Frame, what: string): void {
  const format = frame.format ?? "rgb24";
  if (format !== "rgb24") {
    throw new Error(`${what} needs rgb24 pixels, frame ${frame.index} is ${format}`);
  }
}
