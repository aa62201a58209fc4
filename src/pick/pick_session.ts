/**
 * What the click-to-segment page works on: one input video, its frames (read on demand, a few
 * kept), their embeddings (computed once per visited frame, a bounded number kept), and one
 * segmenter used by one caller at a time (prompt decodes, everything passes, a tracking run).
 * @module
 */
import type { Frame } from "../frame.ts";
import type { BoxXyxy, Rle } from "../segment/mask.ts";
import { decodeRle, encodeRle } from "../segment/rle.ts";
import {
  type FrameEmbedding,
  maskFromLogits,
  outputLogits,
  type PointPrompt,
  type PromptSet,
  type Segmenter,
} from "../segment/segmenter.ts";
import { chooseFreshOutput } from "../segment/tracker/output_selection.ts";
import { innerPoint } from "../segment/tracker/prompt_from_mask.ts";
import { everythingPass } from "../segment/everything/strategy.ts";
import { readFrameAt } from "../video/frame_at.ts";
import type { InputSource } from "../video/input_source.ts";
import type { VideoInfo } from "../video/probe.ts";

/** Embeddings kept by default (about 4 MB each for TinySAM). */
export const DEFAULT_EMBEDDINGS_KEPT = 8;
/** Decoded frames kept (a 720p rgb24 frame is 2.7 MB). */
const FRAMES_KEPT = 4;

/** One object's prompt on one frame, in frame pixels. */
export interface FramePrompt {
  readonly id: number;
  readonly points: readonly (readonly [number, number])[];
  readonly negativePoints: readonly (readonly [number, number])[];
  readonly box?: BoxXyxy;
}

/** An object's mask on a frame, as the page draws it. */
export interface PickedMask {
  readonly id: number;
  /** Column-major run lengths (COCO), uncompressed. */
  readonly rle: Rle;
  /** The model's predicted IoU of the chosen output, in [0, 1]. */
  readonly score: number;
  readonly area: number;
}

/** A mask the everything pass found, and the prompt that adopts it as an object. */
export interface FoundMask {
  readonly rle: Rle;
  readonly score: number;
  readonly area: number;
  /** Its box and a point deep inside it: the prompt of an adopted object. */
  readonly prompt: { readonly points: [[number, number]]; readonly box: BoxXyxy };
}

/** Milliseconds a request spent on the frame's embedding (0 when cached) and on the rest. */
export interface Timing {
  readonly embedMs: number;
  readonly decodeMs: number;
}

/** The model is lent to a tracking run; prompts wait until it is back. */
export class ModelBusyError extends Error {
  override name = "ModelBusyError";
}

/**
 * A video, its cached frames and embeddings, and the segmenter.
 *
 * @example
 * ```ts
 * const session = new PickSession(source, info, segmenter);
 * const { masks } = await session.decode(12, [{ id: 1, points: [[200, 150]], negativePoints: [] }]);
 * ```
 */
export class PickSession {
  readonly #frames = new Bounded<Frame>(FRAMES_KEPT);
  readonly #embeddings: Bounded<FrameEmbedding>;
  /** The tail of the model's queue: each use waits for the previous one. */
  #turn: Promise<unknown> = Promise.resolve();
  #lent = false;

  constructor(
    readonly source: InputSource,
    readonly info: VideoInfo,
    readonly segmenter: Segmenter,
    embeddingsKept = DEFAULT_EMBEDDINGS_KEPT,
  ) {
    this.#embeddings = new Bounded(embeddingsKept);
  }

  /** Frame `index` (decoded once while it stays among the last few asked for). */
  frame(index: number): Promise<Frame> {
    return this.#frames.get(index, () => readFrameAt(this.source, this.info, index));
  }

  /** Whether frame `index`'s embedding is cached. */
  hasEmbedding(index: number): boolean {
    return this.#embeddings.has(index);
  }

  /**
   * The masks of `prompts` (objects prompted on frame `index`): each object's prompt decoded on
   * the frame's embedding, the output chosen as the tracker chooses it for a user's prompt.
   */
  async decode(
    index: number,
    prompts: readonly FramePrompt[],
  ): Promise<{ masks: PickedMask[]; timing: Timing }> {
    return await this.#withModel(async (segmenter) => {
      const began = performance.now();
      const embedding = await this.#embedding(segmenter, index);
      const embedded = performance.now();
      const sets = prompts.map(promptSet);
      const decoded = sets.length > 0 ? await segmenter.decode(embedding, sets) : [];
      const masks = decoded.map((answer, i) => {
        const choice = chooseFreshOutput(sets[i], answer);
        const logits = segmenter.upscaleLogits(embedding, outputLogits(answer, choice.output));
        const mask = maskFromLogits(logits, embedding.frameWidth, embedding.frameHeight);
        const rle = encodeRle(mask);
        return { id: prompts[i].id, rle, score: choice.score, area: areaOf(mask.data) };
      });
      return {
        masks,
        timing: { embedMs: embedded - began, decodeMs: performance.now() - embedded },
      };
    });
  }

  /** The everything pass (sparse grid first, dense points where nothing was found) on a frame. */
  async everything(index: number): Promise<{ found: FoundMask[]; timing: Timing }> {
    return await this.#withModel(async (segmenter) => {
      const began = performance.now();
      const embedding = await this.#embedding(segmenter, index);
      const embedded = performance.now();
      const { masks } = await everythingPass("hierarchical")(segmenter, embedding);
      const found = masks.flatMap((found): FoundMask[] => {
        const [x, y, w, h] = found.bbox;
        const mask = decodeRle(found.rle);
        const inner = innerPoint(
          (px, py) => mask.data[py * mask.width + px] !== 0,
          { x0: x, y0: y, x1: x + w, y1: y + h },
        );
        if (!inner) return [];
        return [{
          rle: found.rle,
          score: Math.min(1, Math.max(0, found.predictedIou)),
          area: found.area,
          prompt: { points: [[inner.x, inner.y]], box: [x, y, x + w, y + h] },
        }];
      });
      return {
        found,
        timing: { embedMs: embedded - began, decodeMs: performance.now() - embedded },
      };
    });
  }

  /**
   * Lends the segmenter to `use` (a tracking run) once the calls before have finished; prompts
   * asked for meanwhile fail with {@link ModelBusyError}. The embeddings are kept.
   */
  async lend<T>(use: (segmenter: Segmenter) => Promise<T>): Promise<T> {
    if (this.#lent) throw new ModelBusyError("the model is busy with a tracking run");
    this.#lent = true;
    try {
      return await this.#queued(() => use(this.segmenter));
    } finally {
      this.#lent = false;
    }
  }

  /** Whether a tracking run has the model. */
  get lent(): boolean {
    return this.#lent;
  }

  async #withModel<T>(use: (segmenter: Segmenter) => Promise<T>): Promise<T> {
    if (this.#lent) throw new ModelBusyError("the model is busy with a tracking run");
    return await this.#queued(() => use(this.segmenter));
  }

  #queued<T>(use: () => Promise<T>): Promise<T> {
    const run = this.#turn.then(use, use);
    this.#turn = run.catch(() => {});
    return run;
  }

  #embedding(segmenter: Segmenter, index: number): Promise<FrameEmbedding> {
    return this.#embeddings.get(index, async () => segmenter.embed(await this.frame(index)));
  }
}

function promptSet(prompt: FramePrompt): PromptSet {
  const points: PointPrompt[] = [
    ...prompt.points.map(([x, y]) => ({ x, y, positive: true })),
    ...prompt.negativePoints.map(([x, y]) => ({ x, y, positive: false })),
  ];
  return { points, ...(prompt.box ? { box: prompt.box } : {}) };
}

function areaOf(data: Uint8Array): number {
  let area = 0;
  for (let i = 0; i < data.length; i++) area += data[i];
  return area;
}

/**
 * Values by key, computed once and kept while among the `capacity` most recently asked for. A
 * computation that fails is forgotten (asking again retries it).
 */
class Bounded<T> {
  readonly #values = new Map<number, Promise<T>>();

  constructor(readonly capacity: number) {}

  has(key: number): boolean {
    return this.#values.has(key);
  }

  get(key: number, compute: () => Promise<T>): Promise<T> {
    let value = this.#values.get(key);
    if (value) {
      this.#values.delete(key);
    } else {
      value = compute();
      value.catch(() => {
        if (this.#values.get(key) === value) this.#values.delete(key);
      });
    }
    this.#values.set(key, value);
    while (this.#values.size > this.capacity) {
      this.#values.delete(this.#values.keys().next().value!);
    }
    return value;
  }
}
