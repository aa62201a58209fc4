/**
 * Adapts the region-growing test double to "everything" prompts. The double grows a lone point's
 * region only within 60 px of the point, so any larger region (a big object, the background)
 * touches that window's border and scores low; SAM has no such window. This wrapper gives every
 * prompt made of a single point and no box the whole frame as its box (the double's search
 * window; it ignores box sides lying on the frame border when scoring), so regions of any size
 * can be found. All other prompts, and every other call, pass through unchanged.
 * @module
 */
import type { PixelWindow } from "../../src/segment/geometry/pixel_window.ts";
import type { Frame } from "../../src/frame.ts";
import type {
  DecodedPrompt,
  FrameEmbedding,
  PromptSet,
  Segmenter,
} from "../../src/segment/segmenter.ts";

/** A segmenter that widens lone-point prompts to the whole frame before `inner` decodes them. */
export class WholeFramePoints implements Segmenter {
  readonly #inner: Segmenter;

  constructor(inner: Segmenter) {
    this.#inner = inner;
  }

  embed(frame: Frame): Promise<FrameEmbedding> {
    return this.#inner.embed(frame);
  }

  decode(embedding: FrameEmbedding, prompts: readonly PromptSet[]): Promise<DecodedPrompt[]> {
    const { frameWidth: width, frameHeight: height } = embedding;
    return this.#inner.decode(
      embedding,
      prompts.map((prompt) =>
        prompt.box || prompt.points.length !== 1
          ? prompt
          : { ...prompt, box: [0, 0, width, height] }
      ),
    );
  }

  upscaleLogits(
    embedding: FrameEmbedding,
    lowResLogits: Float32Array,
    window?: PixelWindow,
  ): Float32Array {
    return this.#inner.upscaleLogits(embedding, lowResLogits, window);
  }

  dispose(): Promise<void> {
    return this.#inner.dispose();
  }
}
