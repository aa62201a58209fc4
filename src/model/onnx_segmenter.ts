/**
 * The real {@link Segmenter}: TinySAM's encoder and batched decoder in ONNX Runtime on the CPU.
 * @module
 */
import * as ort from "onnxruntime-node";
import type { PixelWindow } from "../segment/geometry/pixel_window.ts";
import type { Frame } from "../frame.ts";
import type { DecodedPrompt, FrameEmbedding, PromptSet, Segmenter } from "../segment/segmenter.ts";
import { DECODER_OUTPUTS, LOW_RES_SIDE } from "../segment/segmenter.ts";
import { decoderBatch, tokenCount } from "./decoder_inputs.ts";
import { pooledEmbedding } from "./pooled_embedding.ts";
import { upscaleMaskLogits } from "./postprocess.ts";
import { encoderInput } from "./preprocess.ts";
import { EMBEDDING_DIM, EMBEDDING_SIDE, IMAGE_SIZE } from "./tinysam/architecture.ts";
import { DECODER_IO, ENCODER_IO } from "./tinysam/graphs.ts";

/** A TinySAM image embedding of one frame. */
export interface TinySamEmbedding extends FrameEmbedding {
  /** `[1, 256, 64, 64]` */
  readonly imageEmbeddings: Float32Array;
}

/** Where the graphs are and how to run them. */
export interface OnnxSegmenterOptions {
  /** ONNX model files, or their bytes. */
  readonly encoder: string | Uint8Array;
  readonly decoder: string | Uint8Array;
  /** Intra-op threads per session (default: all cores). */
  readonly threads?: number;
  /** Largest number of prompt sets decoded in one session run (default {@link DEFAULT_MAX_BATCH}). */
  readonly maxBatch?: number;
  /**
   * Which sessions to open (default both): a worker that only encodes, or only decodes, spares
   * the other session's weights and buffers.
   */
  readonly sessions?: "both" | "encoder" | "decoder";
}

/**
 * Prompt sets per decoder run unless told otherwise. Each prompt of a run carries its own copy of
 * the image embedding through the two-way transformer, so a larger run saves no arithmetic and
 * costs memory in proportion: per prompt, 1 thread, 64.1 ms at 1, 65.4 at 2, 129 at 64; resident
 * 356 MB at 1, 429 at 2, 3.7 GB at 64 (`tests/bench/decoder_batch_bench.ts`, BENCHMARKS.md).
 */
export const DEFAULT_MAX_BATCH = 2;

/**
 * Session options of both graphs. Their thread pools do not spin-wait for work after a run: the
 * encoder and the decoder take turns, and one session's spinning threads took the cores from the
 * other's (a 1-point decode alternating with another session ran 1.7x slower,
 * `tests/bench/encoder_graphs.ts`).
 */
export function sessionOptions(threads?: number): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: ["cpu"],
    graphOptimizationLevel: "all",
    executionMode: "sequential",
    interOpNumThreads: 1,
    // All cores unless told otherwise. Left to itself, ONNX Runtime ran the encoder on one
    // thread of two cores here (CPU time equal to wall time; two threads: 1.6x faster).
    intraOpNumThreads: threads ?? navigator.hardwareConcurrency,
    extra: { session: { intra_op: { allow_spinning: "0" } } },
  };
}

/**
 * TinySAM in ONNX Runtime: one encoder session and one decoder session.
 *
 * @example
 * ```ts
 * const segmenter = await OnnxSegmenter.create({ encoder: "encoder.onnx", decoder: "decoder.onnx", threads: 2 });
 * const embedding = await segmenter.embed(frame);
 * const [decoded] = await segmenter.decode(embedding, [{ points: [{ x: 100, y: 80, positive: true }] }]);
 * await segmenter.dispose();
 * ```
 */
export class OnnxSegmenter implements Segmenter {
  readonly #encoder: ort.InferenceSession | undefined;
  readonly #decoder: ort.InferenceSession | undefined;
  readonly #maxBatch: number;
  /** The encoder's input buffer, allocated on first use. */
  #pixels: Float32Array | undefined;
  /** Session runs under way; sessions are released only after they settle. */
  readonly #running = new Set<Promise<unknown>>();
  #disposed = false;

  private constructor(
    encoder: ort.InferenceSession | undefined,
    decoder: ort.InferenceSession | undefined,
    maxBatch: number,
  ) {
    this.#encoder = encoder;
    this.#decoder = decoder;
    this.#maxBatch = maxBatch;
  }

  /** Opens the sessions (both by default, see `OnnxSegmenterOptions.sessions`). */
  static async create(options: OnnxSegmenterOptions): Promise<OnnxSegmenter> {
    const opts = sessionOptions(options.threads);
    const sessions = options.sessions ?? "both";
    // deno-lint-ignore no-explicit-any -- the overloads take a path or bytes; both are passed through
    const open = (model: string | Uint8Array) => ort.InferenceSession.create(model as any, opts);
    const encoder = sessions === "decoder" ? undefined : await open(options.encoder);
    try {
      const decoder = sessions === "encoder" ? undefined : await open(options.decoder);
      return new OnnxSegmenter(encoder, decoder, options.maxBatch ?? DEFAULT_MAX_BATCH);
    } catch (error) {
      await encoder?.release();
      throw error;
    }
  }

  /** Runs the encoder on one frame. */
  async embed(frame: Frame): Promise<TinySamEmbedding> {
    return {
      frameWidth: frame.width,
      frameHeight: frame.height,
      imageEmbeddings: await this.embedPixels(
        encoderInput(frame, this.#pixels ??= new Float32Array(3 * IMAGE_SIZE * IMAGE_SIZE)),
      ),
    };
  }

  /** Runs the encoder on an already preprocessed `[3, 1024, 1024]` input. */
  async embedPixels(pixels: Float32Array): Promise<Float32Array> {
    const input = new ort.Tensor("float32", pixels, [1, 3, IMAGE_SIZE, IMAGE_SIZE]);
    const out = await this.#run(this.#opened(this.#encoder, "encoder"), {
      [ENCODER_IO.input]: input,
    });
    return (out[ENCODER_IO.output].data as Float32Array).slice();
  }

  /**
   * Decodes all prompt sets against one embedding. Prompt sets are grouped by token count (each
   * group is decoded exactly as it would be alone) and split into runs of at most `maxBatch`.
   */
  async decode(embedding: FrameEmbedding, prompts: readonly PromptSet[]): Promise<DecodedPrompt[]> {
    const { imageEmbeddings, frameWidth, frameHeight } = embedding as TinySamEmbedding;
    const results: DecodedPrompt[] = new Array(prompts.length);
    const groups = new Map<number, number[]>();
    prompts.forEach((p, i) => {
      const n = tokenCount(p);
      groups.set(n, [...(groups.get(n) ?? []), i]);
    });
    const embeddingTensor = new ort.Tensor("float32", imageEmbeddings, [
      1,
      EMBEDDING_DIM,
      EMBEDDING_SIDE,
      EMBEDDING_SIDE,
    ]);
    for (const indices of groups.values()) {
      for (let start = 0; start < indices.length; start += this.#maxBatch) {
        const chunk = indices.slice(start, start + this.#maxBatch);
        const batch = decoderBatch(chunk.map((i) => prompts[i]), frameWidth, frameHeight);
        const b = batch.batch;
        const out = await this.#run(this.#opened(this.#decoder, "decoder"), {
          [DECODER_IO.imageEmbeddings]: embeddingTensor,
          [DECODER_IO.pointCoords]: new ort.Tensor("float32", batch.pointCoords, [
            b,
            batch.points,
            2,
          ]),
          [DECODER_IO.pointLabels]: new ort.Tensor("float32", batch.pointLabels, [b, batch.points]),
          [DECODER_IO.maskInput]: new ort.Tensor("float32", batch.maskInput, [
            b,
            1,
            LOW_RES_SIDE,
            LOW_RES_SIDE,
          ]),
          [DECODER_IO.hasMaskInput]: new ort.Tensor("float32", batch.hasMaskInput, [b]),
        });
        const logits = out[DECODER_IO.lowResMasks].data as Float32Array;
        const iou = out[DECODER_IO.iouPredictions].data as Float32Array;
        const perPrompt = DECODER_OUTPUTS * LOW_RES_SIDE * LOW_RES_SIDE;
        chunk.forEach((promptIndex, k) => {
          results[promptIndex] = {
            lowResLogits: logits.slice(k * perPrompt, (k + 1) * perPrompt),
            iouPredictions: iou.slice(k * DECODER_OUTPUTS, (k + 1) * DECODER_OUTPUTS),
          };
        });
      }
    }
    return results;
  }

  /** Upscales one output's low-res logits to the frame (bilinear to 1024, crop, bilinear to frame). */
  upscaleLogits(
    embedding: FrameEmbedding,
    lowResLogits: Float32Array,
    window?: PixelWindow,
  ): Float32Array {
    return upscaleMaskLogits(lowResLogits, embedding.frameWidth, embedding.frameHeight, window);
  }

  /** The image embedding averaged under the region (see `pooled_embedding.ts`). */
  describe(
    embedding: FrameEmbedding,
    lowResLogits: Float32Array,
    within?: PixelWindow,
  ): Float32Array {
    return pooledEmbedding((embedding as TinySamEmbedding).imageEmbeddings, lowResLogits, within);
  }

  #opened(
    session: ort.InferenceSession | undefined,
    kind: "encoder" | "decoder",
  ): ort.InferenceSession {
    if (!session) throw new Error(`this segmenter was opened without its ${kind} session`);
    return session;
  }

  #run(
    session: ort.InferenceSession,
    feeds: ort.InferenceSession.FeedsType,
  ): Promise<ort.InferenceSession.ReturnType> {
    if (this.#disposed) return Promise.reject(new Error("the segmenter has been disposed"));
    const run = session.run(feeds);
    this.#running.add(run);
    const forget = () => this.#running.delete(run);
    run.then(forget, forget);
    return run;
  }

  /** Releases the sessions once the runs under way have finished (idempotent). */
  async dispose(): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    await Promise.allSettled([...this.#running]);
    await this.#encoder?.release();
    await this.#decoder?.release();
  }
}
