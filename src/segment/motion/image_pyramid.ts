/**
 * A coarse-to-fine stack of grey images of one frame, with their gradients, built once per frame
 * and shared by every object's motion estimate (as the "next" image of one frame pair and the
 * "previous" image of the following pair).
 * @module
 */
import type { Frame } from "../../frame.ts";
import { grayFromFrame, type GrayImage, halveGray, motionFactor } from "./gray_image.ts";

/** One level: the image and its central-difference gradients. */
export interface PyramidLevel {
  readonly image: GrayImage;
  readonly gradX: GrayImage;
  readonly gradY: GrayImage;
  /** Frame pixels per pixel of this level (`factor * 2^level`). */
  readonly scale: number;
}

/** A frame's motion images, finest first. */
export interface ImagePyramid {
  readonly frameIndex: number;
  readonly frameWidth: number;
  readonly frameHeight: number;
  /** Level 0 is the frame reduced by `factor`; each next level halves it. */
  readonly levels: readonly PyramidLevel[];
}

/** Smallest side of a pyramid level. */
const MIN_LEVEL_SIDE = 12;
/** Most levels of a pyramid. */
const MAX_LEVELS = 4;

function gradients(image: GrayImage): { gradX: GrayImage; gradY: GrayImage } {
  const { width, height, data } = image;
  const gx = new Float32Array(width * height), gy = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    const row = y * width;
    const up = (y > 0 ? y - 1 : y) * width, down = (y < height - 1 ? y + 1 : y) * width;
    const dyScale = y > 0 && y < height - 1 ? 0.5 : 1;
    for (let x = 0; x < width; x++) {
      const left = x > 0 ? x - 1 : x, right = x < width - 1 ? x + 1 : x;
      gx[row + x] = (data[row + right] - data[row + left]) * (right - left === 2 ? 0.5 : 1);
      gy[row + x] = (data[down + x] - data[up + x]) * dyScale;
    }
  }
  return {
    gradX: { width, height, data: gx },
    gradY: { width, height, data: gy },
  };
}

/**
 * The pyramid of `frame`: level 0 reduced by `factor` (default: longest side to about 320
 * pixels), then halved while both sides stay at least 12 pixels (at most 4 levels).
 *
 * @example
 * ```ts
 * const previous = buildPyramid(frames[0]);
 * const next = buildPyramid(frames[1]);
 * const motion = estimateObjectMotion(previous, next, mask, bounds);
 * ```
 */
export function buildPyramid(
  frame: Frame,
  factor = motionFactor(frame.width, frame.height),
): ImagePyramid {
  const levels: PyramidLevel[] = [];
  let image = grayFromFrame(frame, factor);
  let scale = factor;
  while (true) {
    levels.push({ image, ...gradients(image), scale });
    if (levels.length >= MAX_LEVELS) break;
    if (Math.min(image.width, image.height) / 2 < MIN_LEVEL_SIDE) break;
    image = halveGray(image);
    scale *= 2;
  }
  return { frameIndex: frame.index, frameWidth: frame.width, frameHeight: frame.height, levels };
}
