/**
 * A segmenter whose image encoder takes a given number of frames: each `embed` resolves only after
 * `tick()` has been called `delay` times since. With asynchronous keyframe refinement this stands
 * for a model slower than the frame rate, deterministically.
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

/**
 * Wraps `inner`, delaying its embeddings by `delay` ticks.
 *
 * @example
 * ```ts
 * const segmenter = new DelayedSegmenter(new RegionGrowingSegmenter(), 3);
 * for (const frame of frames) {
 *   segmenter.tick();
 *   await tracker.step(frame);
 *   await segmenter.settled();
 * }
 * ```
 */
export class DelayedSegmenter implements Segmenter {
  readonly #inner: Segmenter;
  readonly #delay: number;
  #waiting: { remaining: number; release: () => void }[] = [];

  constructor(inner: Segmenter, delay: number) {
    this.#inner = inner;
    this.#delay = delay;
  }

  /** Embeddings started and not yet released. */
  get pending(): number {
    return this.#waiting.length;
  }

  /** One frame time passes: embeddings whose delay is over are released. */
  tick(): void {
    const due = this.#waiting.filter((w) => --w.remaining <= 0);
    this.#waiting = this.#waiting.filter((w) => w.remaining > 0);
    for (const w of due) w.release();
  }

  /** Lets released embeddings (and what awaits them) run to completion. */
  async settled(): Promise<void> {
    for (let i = 0; i < 25; i++) await new Promise((resolve) => setTimeout(resolve, 0));
  }

  async embed(frame: Frame): Promise<FrameEmbedding> {
    const embedding = await this.#inner.embed(frame);
    if (this.#delay <= 0) return embedding;
    await new Promise<void>((release) => this.#waiting.push({ remaining: this.#delay, release }));
    return embedding;
  }

  decode(embedding: FrameEmbedding, prompts: readonly PromptSet[]): Promise<DecodedPrompt[]> {
    return this.#inner.decode(embedding, prompts);
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
