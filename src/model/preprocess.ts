/**
 * Image preprocessing exactly as TinySAM/SAM do it: resize the longest side to 1024 with PIL's
 * bilinear filter (antialiased when shrinking), normalize, zero-pad bottom/right to 1024x1024.
 * Prompts map from frame pixels to the resized frame with the same per-axis scale.
 * @module
 */
import type { Frame } from "../frame.ts";
import { IMAGE_SIZE } from "./tinysam/architecture.ts";

/** Per-channel pixel mean and standard deviation (ImageNet, in 0..255 units). */
export const PIXEL_MEAN = [123.675, 116.28, 103.53] as const;
export const PIXEL_STD = [58.395, 57.12, 57.375] as const;

/** Size of a frame after resizing its longest side to `target`, rounded as the reference does. */
export function resizedSize(
  width: number,
  height: number,
  target = IMAGE_SIZE,
): { width: number; height: number } {
  const scale = target / Math.max(width, height);
  return { width: Math.floor(width * scale + 0.5), height: Math.floor(height * scale + 0.5) };
}

/** Maps a point from frame pixels to resized-frame pixels (per-axis scale of the rounded size). */
export function toModelCoords(
  x: number,
  y: number,
  frameWidth: number,
  frameHeight: number,
): [number, number] {
  const resized = resizedSize(frameWidth, frameHeight);
  return [x * (resized.width / frameWidth), y * (resized.height / frameHeight)];
}

// PIL keeps resampling coefficients in fixed point with this many fractional bits (8-bit images).
const PRECISION_BITS = 32 - 8 - 2;

interface ResampleCoefficients {
  /** Per output index: first input index used. */
  readonly first: Int32Array;
  /** Per output index: number of input indices used. */
  readonly count: Int32Array;
  /** Per output index, `kernelSize` fixed-point weights. */
  readonly weights: Int32Array;
  readonly kernelSize: number;
}

/**
 * PIL's bilinear (triangle) filter coefficients for resampling `inSize` samples to `outSize`:
 * the filter's support widens with the scale factor when shrinking, which antialiases.
 */
function bilinearCoefficients(inSize: number, outSize: number): ResampleCoefficients {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = filterScale; // the triangle filter has support 1
  const kernelSize = Math.ceil(support) * 2 + 1;
  const first = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Int32Array(outSize * kernelSize);
  const k = new Float64Array(kernelSize);
  for (let out = 0; out < outSize; out++) {
    const center = (out + 0.5) * scale;
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const xmax = Math.min(Math.trunc(center + support + 0.5), inSize) - xmin;
    let total = 0;
    for (let x = 0; x < xmax; x++) {
      const t = Math.abs((x + xmin - center + 0.5) / filterScale);
      k[x] = t < 1 ? 1 - t : 0;
      total += k[x];
    }
    for (let x = 0; x < xmax; x++) {
      const w = total !== 0 ? k[x] / total : k[x];
      // PIL rounds half away from zero when converting to fixed point.
      weights[out * kernelSize + x] = w < 0
        ? Math.trunc(-0.5 + w * (1 << PRECISION_BITS))
        : Math.trunc(0.5 + w * (1 << PRECISION_BITS));
    }
    first[out] = xmin;
    count[out] = xmax;
  }
  return { first, count, weights, kernelSize };
}

function clip8(accumulator: number): number {
  const v = accumulator >> PRECISION_BITS;
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

/**
 * Resizes packed rgb24 pixels as `PIL.Image.resize(size, BILINEAR)` does: a horizontal pass into
 * an 8-bit intermediate over the rows the vertical pass needs, then a vertical pass.
 */
export function resizeRgbBilinear(
  data: Uint8Array,
  width: number,
  height: number,
  outWidth: number,
  outHeight: number,
): Uint8Array {
  const horizontal = bilinearCoefficients(width, outWidth);
  const vertical = bilinearCoefficients(height, outHeight);
  const rowFirst = vertical.first[0];
  const rowLast = vertical.first[outHeight - 1] + vertical.count[outHeight - 1];
  const half = 1 << (PRECISION_BITS - 1);

  let rows = data;
  let rowsWidth = width;
  let rowOffset = 0;
  if (outWidth !== width) {
    const tempRows = rowLast - rowFirst;
    rows = new Uint8Array(tempRows * outWidth * 3);
    for (let y = 0; y < tempRows; y++) {
      const src = (y + rowFirst) * width * 3;
      const dst = y * outWidth * 3;
      for (let x = 0; x < outWidth; x++) {
        const x0 = horizontal.first[x];
        const n = horizontal.count[x];
        const kOff = x * horizontal.kernelSize;
        let r = half, g = half, b = half;
        for (let i = 0; i < n; i++) {
          const w = horizontal.weights[kOff + i];
          const p = src + (x0 + i) * 3;
          r += data[p] * w;
          g += data[p + 1] * w;
          b += data[p + 2] * w;
        }
        rows[dst + x * 3] = clip8(r);
        rows[dst + x * 3 + 1] = clip8(g);
        rows[dst + x * 3 + 2] = clip8(b);
      }
    }
    rowsWidth = outWidth;
    rowOffset = rowFirst;
  }
  if (outHeight === height) return rows === data ? data.slice() : rows;

  const out = new Uint8Array(outWidth * outHeight * 3);
  const stride = rowsWidth * 3;
  for (let y = 0; y < outHeight; y++) {
    const y0 = vertical.first[y] - rowOffset;
    const n = vertical.count[y];
    const kOff = y * vertical.kernelSize;
    const dst = y * stride;
    for (let c = 0; c < stride; c++) {
      let acc = half;
      for (let i = 0; i < n; i++) acc += rows[(y0 + i) * stride + c] * vertical.weights[kOff + i];
      out[dst + c] = clip8(acc);
    }
  }
  return out;
}

/**
 * The encoder input for one frame: `[3, 1024, 1024]` float32, resized, normalized, then
 * zero-padded (zero in normalized space) at the bottom and right.
 *
 * @example
 * ```ts
 * const pixels = encoderInput(frame); // feed as [1, 3, 1024, 1024]
 * ```
 */
export function encoderInput(frame: Frame, into?: Float32Array): Float32Array {
  const { width, height } = resizedSize(frame.width, frame.height);
  const resized = resizeRgbBilinear(frame.data, frame.width, frame.height, width, height);
  const plane = IMAGE_SIZE * IMAGE_SIZE;
  const pixels = into ?? new Float32Array(3 * plane);
  pixels.fill(0);
  for (let c = 0; c < 3; c++) {
    const mean = PIXEL_MEAN[c];
    const std = PIXEL_STD[c];
    const base = c * plane;
    for (let y = 0; y < height; y++) {
      const src = y * width * 3 + c;
      const dst = base + y * IMAGE_SIZE;
      for (let x = 0; x < width; x++) pixels[dst + x] = (resized[src + x * 3] - mean) / std;
    }
  }
  return pixels;
}
