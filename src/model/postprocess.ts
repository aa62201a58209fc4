/**
 * Mask upscaling as the reference does it: low-res logits (256x256 over the padded 1024 frame)
 * bilinearly to 1024x1024, crop the unpadded area, bilinearly to the frame size
 * (`F.interpolate(..., mode="bilinear", align_corners=False)` twice). Applied only to kept masks.
 * @module
 */
import { LOW_RES_SIDE } from "../segment/segmenter.ts";
import type { PixelWindow } from "../segment/geometry/pixel_window.ts";
import { IMAGE_SIZE } from "./tinysam/architecture.ts";
import { resizedSize } from "./preprocess.ts";

interface Taps {
  readonly index0: Int32Array;
  readonly index1: Int32Array;
  readonly lambda1: Float32Array;
}

/** Source taps of PyTorch's bilinear interpolation (align_corners=False) from `inSize` to `outSize`. */
function bilinearTaps(inSize: number, outSize: number, scaleInSize = inSize): Taps {
  const scale = Math.fround(scaleInSize / outSize);
  const index0 = new Int32Array(outSize);
  const index1 = new Int32Array(outSize);
  const lambda1 = new Float32Array(outSize);
  for (let o = 0; o < outSize; o++) {
    const src = Math.max(Math.fround(Math.fround(scale * (o + 0.5)) - 0.5), 0);
    const i0 = Math.min(Math.floor(src), inSize - 1);
    index0[o] = i0;
    index1[o] = Math.min(i0 + 1, inSize - 1);
    lambda1[o] = src - i0;
  }
  return { index0, index1, lambda1 };
}

/** The values of a window of a larger grid, row-major. */
interface WindowValues extends PixelWindow {
  readonly data: Float32Array;
}

/**
 * Bilinear resize (separable taps `tx`, `ty` into a virtual output grid) evaluated on the output
 * window `out` only, from `src` (which must cover every input pixel those outputs read), into
 * `dest`: output `(x, y)` goes to `dest.data[(y - dest.y0) * (dest.x1 - dest.x0) + x - dest.x0]`.
 * Each value is computed exactly as a whole-grid resize computes it: horizontally first, each
 * intermediate rounded to float32, then vertically.
 */
function resizeWindow(src: WindowValues, tx: Taps, ty: Taps, out: PixelWindow, dest: WindowValues) {
  const width = out.x1 - out.x0;
  const firstRow = ty.index0[out.y0], lastRow = ty.index1[out.y1 - 1];
  const srcWidth = src.x1 - src.x0, destWidth = dest.x1 - dest.x0;
  const input = src.data, output = dest.data;
  const { index0: x0s, index1: x1s, lambda1: xls } = tx;
  const rows = new Float32Array((lastRow - firstRow + 1) * width);
  for (let y = firstRow; y <= lastRow; y++) {
    const s = (y - src.y0) * srcWidth - src.x0;
    const d = (y - firstRow) * width - out.x0;
    for (let x = out.x0; x < out.x1; x++) {
      const l = xls[x];
      rows[d + x] = (1 - l) * input[s + x0s[x]] + l * input[s + x1s[x]];
    }
  }
  for (let y = out.y0; y < out.y1; y++) {
    const l = ty.lambda1[y];
    const r0 = (ty.index0[y] - firstRow) * width;
    const r1 = (ty.index1[y] - firstRow) * width;
    const d = (y - dest.y0) * destWidth + out.x0 - dest.x0;
    for (let x = 0; x < width; x++) output[d + x] = (1 - l) * rows[r0 + x] + l * rows[r1 + x];
  }
}

/** The input window whose pixels the outputs in `out` read. */
function sourceWindow(tx: Taps, ty: Taps, out: PixelWindow): PixelWindow {
  return {
    x0: tx.index0[out.x0],
    x1: tx.index1[out.x1 - 1] + 1,
    y0: ty.index0[out.y0],
    y1: ty.index1[out.y1 - 1] + 1,
  };
}

/** Taps of both resizes for one frame size (the frame's size is the same for a whole run). */
interface UpscaleTaps {
  readonly frameWidth: number;
  readonly frameHeight: number;
  /** 256 -> 1024 (the padded square; the crop is its top-left part). */
  readonly padX: Taps;
  readonly padY: Taps;
  /** crop -> frame. */
  readonly frameX: Taps;
  readonly frameY: Taps;
}

let cachedTaps: UpscaleTaps | undefined;

function upscaleTaps(frameWidth: number, frameHeight: number): UpscaleTaps {
  if (cachedTaps?.frameWidth === frameWidth && cachedTaps.frameHeight === frameHeight) {
    return cachedTaps;
  }
  const crop = resizedSize(frameWidth, frameHeight);
  cachedTaps = {
    frameWidth,
    frameHeight,
    padX: bilinearTaps(LOW_RES_SIDE, IMAGE_SIZE),
    padY: bilinearTaps(LOW_RES_SIDE, IMAGE_SIZE),
    frameX: bilinearTaps(crop.width, frameWidth),
    frameY: bilinearTaps(crop.height, frameHeight),
  };
  return cachedTaps;
}

/**
 * Upscales one output's low-res logits (`256 x 256`, row-major) to frame-sized logits. With a
 * `window`, only the pixels inside it are computed (the same values as without one) and every
 * other pixel is `-Infinity`: callers that only look inside a window (a mask whose low-res
 * positive cells it covers) skip most of the work.
 *
 * @example
 * ```ts
 * const logits = upscaleMaskLogits(outputLogits(decoded, 0), 1280, 720);
 * const mask = maskFromLogits(logits, 1280, 720);
 * const near = upscaleMaskLogits(outputLogits(decoded, 0), 1280, 720, { x0: 100, y0: 50, x1: 300, y1: 200 });
 * ```
 */
export function upscaleMaskLogits(
  lowRes: Float32Array,
  frameWidth: number,
  frameHeight: number,
  window?: PixelWindow,
): Float32Array {
  const taps = upscaleTaps(frameWidth, frameHeight);
  const whole = { x0: 0, y0: 0, x1: frameWidth, y1: frameHeight };
  const out = window
    ? {
      x0: Math.max(0, window.x0),
      y0: Math.max(0, window.y0),
      x1: Math.min(frameWidth, window.x1),
      y1: Math.min(frameHeight, window.y1),
    }
    : whole;
  const logits = new Float32Array(frameWidth * frameHeight);
  if (out.x1 <= out.x0 || out.y1 <= out.y0) return logits.fill(-Infinity);
  if (out !== whole) logits.fill(-Infinity);
  const source: WindowValues = { x0: 0, y0: 0, x1: LOW_RES_SIDE, y1: LOW_RES_SIDE, data: lowRes };
  const cropWindow = sourceWindow(taps.frameX, taps.frameY, out);
  const crop: WindowValues = {
    ...cropWindow,
    data: new Float32Array((cropWindow.x1 - cropWindow.x0) * (cropWindow.y1 - cropWindow.y0)),
  };
  resizeWindow(source, taps.padX, taps.padY, cropWindow, crop);
  resizeWindow(crop, taps.frameX, taps.frameY, out, { ...whole, data: logits });
  return logits;
}
