/**
 * Mask upscaling as the reference does it: low-res logits (256x256 over the padded 1024 frame)
 * bilinearly to 1024x1024, crop the unpadded area, bilinearly to the frame size
 * (`F.interpolate(..., mode="bilinear", align_corners=False)` twice). Applied only to kept masks.
 * @module
 */
import { LOW_RES_SIDE } from "../segment/segmenter.ts";
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

/**
 * Bilinear resize of a single-channel `inWidth x inHeight` grid, evaluating only the top-left
 * `outWidth x outHeight` of a virtual `fullWidth x fullHeight` output (that is how a crop after
 * an upscale is computed without materializing the padding).
 */
function resizeBilinear(
  src: Float32Array,
  inWidth: number,
  inHeight: number,
  outWidth: number,
  outHeight: number,
  fullWidth = outWidth,
  fullHeight = outHeight,
): Float32Array {
  const tx = bilinearTaps(inWidth, fullWidth);
  const ty = bilinearTaps(inHeight, fullHeight);
  // Only the input rows the output rows touch are interpolated horizontally.
  const lastRow = ty.index1[outHeight - 1];
  const rows = new Float32Array((lastRow + 1) * outWidth);
  for (let y = 0; y <= lastRow; y++) {
    const s = y * inWidth;
    const d = y * outWidth;
    for (let x = 0; x < outWidth; x++) {
      const l = tx.lambda1[x];
      rows[d + x] = (1 - l) * src[s + tx.index0[x]] + l * src[s + tx.index1[x]];
    }
  }
  const out = new Float32Array(outWidth * outHeight);
  for (let y = 0; y < outHeight; y++) {
    const l = ty.lambda1[y];
    const r0 = ty.index0[y] * outWidth;
    const r1 = ty.index1[y] * outWidth;
    const d = y * outWidth;
    for (let x = 0; x < outWidth; x++) out[d + x] = (1 - l) * rows[r0 + x] + l * rows[r1 + x];
  }
  return out;
}

/**
 * Upscales one output's low-res logits (`256 x 256`, row-major) to frame-sized logits.
 *
 * @example
 * ```ts
 * const logits = upscaleMaskLogits(outputLogits(decoded, 0), 1280, 720);
 * const mask = maskFromLogits(logits, 1280, 720);
 * ```
 */
export function upscaleMaskLogits(
  lowRes: Float32Array,
  frameWidth: number,
  frameHeight: number,
): Float32Array {
  const crop = resizedSize(frameWidth, frameHeight);
  const padded = resizeBilinear(
    lowRes,
    LOW_RES_SIDE,
    LOW_RES_SIDE,
    crop.width,
    crop.height,
    IMAGE_SIZE,
    IMAGE_SIZE,
  );
  return resizeBilinear(padded, crop.width, crop.height, frameWidth, frameHeight);
}
