/**
 * Small grey images for motion estimation: a frame's luma averaged over square blocks, so the
 * motion of an object can be measured on a few tens of thousands of pixels instead of a million.
 * @module
 */
import type { Frame } from "../../frame.ts";

/** A single-channel image, row-major, values in 0..255. */
export interface GrayImage {
  readonly width: number;
  readonly height: number;
  readonly data: Float32Array;
}

/** Longest side (pixels) the motion images are reduced to by default. */
export const DEFAULT_MOTION_SIDE = 320;

/**
 * The integer block size that brings a `width x height` frame's longest side to at most
 * `maxSide` (1 for small frames).
 *
 * @example
 * ```ts
 * motionFactor(1280, 720); // 4 (320 x 180)
 * motionFactor(480, 270); // 2 (240 x 135)
 * ```
 */
export function motionFactor(width: number, height: number, maxSide = DEFAULT_MOTION_SIDE): number {
  return Math.max(1, Math.ceil(Math.max(width, height) / maxSide));
}

/**
 * The frame's luma `(r + 2g + b) / 4` averaged over `factor x factor` blocks (the last partial
 * row and column of blocks are dropped). Pixel `(u, v)` of the result covers frame pixels
 * `[u * factor, (u + 1) * factor)`, so its centre is at frame coordinate `(u + 0.5) * factor - 0.5`.
 *
 * @example
 * ```ts
 * const gray = grayFromFrame(frame, motionFactor(frame.width, frame.height));
 * ```
 */
export function grayFromFrame(frame: Frame, factor: number): GrayImage {
  const { width, height, data } = frame;
  const outWidth = Math.floor(width / factor), outHeight = Math.floor(height / factor);
  const out = new Float32Array(outWidth * outHeight);
  const sums = new Uint32Array(outWidth);
  const norm = 1 / (4 * factor * factor);
  const rowBytes = width * 3, blockBytes = factor * 3;
  for (let v = 0; v < outHeight; v++) {
    sums.fill(0);
    for (let dy = 0; dy < factor; dy++) {
      let p = (v * factor + dy) * rowBytes;
      for (let u = 0; u < outWidth; u++) {
        let s = 0;
        for (const end = p + blockBytes; p < end; p += 3) {
          s += data[p] + 2 * data[p + 1] + data[p + 2];
        }
        sums[u] += s;
      }
    }
    const row = v * outWidth;
    for (let u = 0; u < outWidth; u++) out[row + u] = sums[u] * norm;
  }
  return { width: outWidth, height: outHeight, data: out };
}

/**
 * The image at half resolution (2x2 block means; an odd last row or column is dropped).
 *
 * @example
 * ```ts
 * const coarse = halveGray(gray);
 * ```
 */
export function halveGray(image: GrayImage): GrayImage {
  const width = Math.floor(image.width / 2), height = Math.floor(image.height / 2);
  const out = new Float32Array(width * height);
  const src = image.data, w = image.width;
  for (let v = 0; v < height; v++) {
    const a = 2 * v * w, b = a + w, row = v * width;
    for (let u = 0; u < width; u++) {
      const x = 2 * u;
      out[row + u] = 0.25 * (src[a + x] + src[a + x + 1] + src[b + x] + src[b + x + 1]);
    }
  }
  return { width, height, data: out };
}

/**
 * Bilinear sample at real coordinates (pixel centres at integers), clamped to the border.
 *
 * @example
 * ```ts
 * sampleGray(gray, 10.5, 3.25);
 * ```
 */
export function sampleGray(image: GrayImage, x: number, y: number): number {
  const { width, height, data } = image;
  const cx = x < 0 ? 0 : x > width - 1 ? width - 1 : x;
  const cy = y < 0 ? 0 : y > height - 1 ? height - 1 : y;
  const x0 = Math.min(width - 2, Math.floor(cx)), y0 = Math.min(height - 2, Math.floor(cy));
  const fx = cx - x0, fy = cy - y0;
  const i = y0 * width + x0;
  const top = data[i] + fx * (data[i + 1] - data[i]);
  const bottom = data[i + width] + fx * (data[i + width + 1] - data[i + width]);
  return top + fy * (bottom - top);
}
