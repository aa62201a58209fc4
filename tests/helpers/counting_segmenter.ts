/**
 * Wraps any {@link Segmenter} and counts the work asked of it (decode calls, prompts decoded,
 * masks upscaled), so tests and benchmarks can compare strategies by decoder prompts.
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

/** A segmenter that forwards every call to `inner` and counts them. */
export class CountingSegmenter implements Segmenter {
  readonly #inner: Segmenter;
  /** `decode` calls. */
  decodeCalls = 0;
  /** Prompt sets passed to `decode`. */
  promptsDecoded = 0;
  /** `upscaleLogits` calls. */
  upscales = 0;
  /** Largest number of prompt sets in one `decode` call. */
  largestBatch = 0;

  constructor(inner: Segmenter) {
    this.#inner = inner;
  }

  /** Sets every counter back to 0. */
  reset(): void {
    this.decodeCalls = 0;
    this.promptsDecoded = 0;
    this.upscales = 0;
    this.largestBatch = 0;
  }

  embed(frame: Frame): Promise<FrameEmbedding> {
    return this.#inner.embed(frame);
  }

  decode(embedding: FrameEmbedding, prompts: readonly PromptSet[]): Promise<DecodedPrompt[]> {
    this.decodeCalls++;
    this.promptsDecoded += prompts.length;
    this.largestBatch = Math.max(this.largestBatch, prompts.length);
    return this.#inner.decode(embedding, prompts);
  }

  upscaleLogits(
    embedding: FrameEmbedding,
    lowResLogits: Float32Array,
    window?: PixelWindow,
  ): Float32Array {
    this.upscales++;
    return this.#inner.upscaleLogits(embedding, lowResLogits, window);
  }

  dispose(): Promise<void> {
    return this.#inner.dispose();
  }
}
