/**
 * From a decoder output to an object's mask at frame resolution: upscale the chosen output's
 * low-res logits (only that one), threshold at 0, measure.
 * @module
 */
import { maskArea, maskToBbox } from "./geometry/boxes.ts";
import type { ObjectMask } from "./mask.ts";
import {
  type DecodedPrompt,
  DECODER_OUTPUTS,
  type FrameEmbedding,
  maskFromLogits,
  outputLogits,
  type PromptSet,
  type Segmenter,
} from "./segmenter.ts";

/**
 * The output a static prompt is read from, as SAM recommends: a lone point is ambiguous, so the
 * multimask output (1..3) with the highest predicted IoU; anything more specific, output 0.
 */
export function outputForPrompt(prompt: PromptSet, decoded: DecodedPrompt): number {
  if (prompt.box || prompt.points.length > 1) return 0;
  let best = 1;
  for (let o = 2; o < DECODER_OUTPUTS; o++) {
    if (decoded.iouPredictions[o] > decoded.iouPredictions[best]) best = o;
  }
  return best;
}

/**
 * The object's mask from output `output` of `decoded`, or undefined when the mask is empty.
 * The score is the predicted IoU, clamped to [0, 1].
 *
 * @example
 * ```ts
 * const object = objectMaskFromDecoded(segmenter, embedding, decoded, 0, 1);
 * ```
 */
export function objectMaskFromDecoded(
  segmenter: Segmenter,
  embedding: FrameEmbedding,
  decoded: DecodedPrompt,
  output: number,
  id: number,
  label?: string,
): ObjectMask | undefined {
  const { frameWidth: width, frameHeight: height } = embedding;
  const logits = segmenter.upscaleLogits(embedding, outputLogits(decoded, output));
  const mask = maskFromLogits(logits, width, height);
  if (maskArea(mask) === 0) return undefined;
  const score = Math.min(1, Math.max(0, decoded.iouPredictions[output]));
  return { id, mask, score, bbox: maskToBbox(mask), ...(label ? { label } : {}) };
}
