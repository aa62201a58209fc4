/**
 * What a discovery step would report for the object at a point: the decoder's output 0 for one
 * positive point, as an `Observation`.
 * @module
 */
import {
  type FrameEmbedding,
  maskFromLogits,
  outputLogits,
  type Segmenter,
} from "../../src/segment/segmenter.ts";
import type { Observation } from "../../src/segment/tracker/object_state.ts";

/** Decodes one positive point at (`x`, `y`) and returns output 0 as an observation. */
export async function observeAt(
  segmenter: Segmenter,
  embedding: FrameEmbedding,
  x: number,
  y: number,
): Promise<Observation> {
  const [decoded] = await segmenter.decode(embedding, [{ points: [{ x, y, positive: true }] }]);
  const lowResLogits = outputLogits(decoded, 0);
  const logits = segmenter.upscaleLogits(embedding, lowResLogits);
  return {
    mask: maskFromLogits(logits, embedding.frameWidth, embedding.frameHeight),
    lowResLogits,
    score: decoded.iouPredictions[0],
  };
}
