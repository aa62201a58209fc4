/**
 * One decoded video frame, the unit that flows through every pipeline stage.
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
  /** Packed rgb24 pixels, row-major, `width * height * 3` bytes. */
  readonly data: Uint8Array;
  /** Wall-clock time (`performance.now()` ms) the frame was read from its source; latency is measured from it. */
  readonly capturedAtMs?: number;
}
