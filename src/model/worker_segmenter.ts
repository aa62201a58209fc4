/**
 * TinySAM in worker threads: onnxruntime-node runs a session synchronously on the calling thread,
 * so a model run on the pipeline's thread stalls everything else for its duration (decoding input,
 * motion, drawing, writing output). Here image encoders and the prompt decoder each live in a
 * worker of their own: the pipeline's thread only hands frames over and gets embeddings and
 * logits back, several frames can be encoded at once (one worker each), and a decode never waits
 * behind an encode. Preprocessing runs in the encoder workers.
 * @module
 */
import type { PixelWindow } from "../segment/geometry/pixel_window.ts";
import type { Frame } from "../frame.ts";
import type { DecodedPrompt, FrameEmbedding, PromptSet, Segmenter } from "../segment/segmenter.ts";
import type { TinySamEmbedding } from "./onnx_segmenter.ts";
import { pooledEmbedding } from "./pooled_embedding.ts";
import { upscaleMaskLogits } from "./postprocess.ts";
import type { WorkerReply, WorkerRequest } from "./segmenter_worker.ts";

/** Where the graphs are and how the work is spread over workers. */
export interface WorkerSegmenterOptions {
  /** ONNX model files. */
  readonly encoder: string;
  readonly decoder: string;
  /** Encoder workers, each encoding one frame at a time (default 1). */
  readonly encoderWorkers?: number;
  /** Intra-op threads of each encoder session (default: all cores). */
  readonly encoderThreads?: number;
  /** Intra-op threads of the decoder session (default 1). */
  readonly decoderThreads?: number;
  /**
   * Niceness (0..19) of the workers' threads: above 0 the model yields the CPU to the pipeline's
   * own work (decoding, motion, drawing, encoding), for refinements that run in the background.
   */
  readonly nice?: number;
}

type Request = WorkerRequest extends infer R ? R extends { id: number } ? Omit<R, "id"> : never
  : never;

/** One worker and its outstanding requests. */
class ModelWorker {
  readonly #worker: Worker;
  readonly #waiting = new Map<
    number,
    { resolve: (value: unknown) => void; reject: (error: Error) => void }
  >();
  #nextId = 0;
  #failed: Error | undefined;

  constructor() {
    this.#worker = new Worker(new URL("./segmenter_worker.ts", import.meta.url).href, {
      type: "module",
    });
    this.#worker.onmessage = (event: MessageEvent<WorkerReply>) => {
      const reply = event.data;
      const waiter = this.#waiting.get(reply.id);
      if (!waiter) return;
      this.#waiting.delete(reply.id);
      if (reply.ok) waiter.resolve(reply.value);
      else waiter.reject(new Error(reply.error));
    };
    this.#worker.onerror = (event: ErrorEvent) => {
      event.preventDefault();
      this.#fail(new Error(`model worker failed: ${event.message}`));
    };
  }

  /** Requests under way. */
  get busy(): number {
    return this.#waiting.size;
  }

  request<T>(request: Request, transfer: Transferable[] = []): Promise<T> {
    if (this.#failed) return Promise.reject(this.#failed);
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      this.#waiting.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.#worker.postMessage({ ...request, id }, transfer);
    });
  }

  /** Closes the session once the requests under way are answered, then ends the worker. */
  async close(): Promise<void> {
    try {
      await this.request({ kind: "close" });
    } catch {
      // A failed worker has nothing left to close.
    }
    this.#worker.terminate();
  }

  #fail(error: Error): void {
    this.#failed = error;
    for (const waiter of this.#waiting.values()) waiter.reject(error);
    this.#waiting.clear();
  }
}

/**
 * A {@link Segmenter} whose model runs in worker threads.
 *
 * @example
 * ```ts
 * const segmenter = await WorkerSegmenter.create({
 *   encoder: "encoder.int8.onnx", decoder: "decoder.fp32.onnx", encoderWorkers: 2, encoderThreads: 1,
 * });
 * const [a, b] = await Promise.all([segmenter.embed(frame1), segmenter.embed(frame2)]); // in parallel
 * await segmenter.dispose();
 * ```
 */
export class WorkerSegmenter implements Segmenter {
  readonly #encoders: readonly ModelWorker[];
  readonly #decoder: ModelWorker;
  readonly #options: WorkerSegmenterOptions;
  /** The background decoder, opened on its first request. */
  #backgroundDecoder: Promise<ModelWorker> | undefined;
  #background: Segmenter | undefined;
  #disposed = false;

  private constructor(
    encoders: readonly ModelWorker[],
    decoder: ModelWorker,
    options: WorkerSegmenterOptions,
  ) {
    this.#encoders = encoders;
    this.#decoder = decoder;
    this.#options = options;
  }

  /** Starts the workers and opens a session set in each. */
  static async create(options: WorkerSegmenterOptions): Promise<WorkerSegmenter> {
    const count = options.encoderWorkers ?? 1;
    if (!Number.isInteger(count) || count < 1) {
      throw new RangeError(`encoderWorkers must be a positive integer, got ${count}`);
    }
    const encoders = Array.from({ length: count }, () => new ModelWorker());
    const decoder = new ModelWorker();
    const all = [...encoders, decoder];
    try {
      await Promise.all([
        ...encoders.map((w) =>
          w.request(openRequest(options, "encoder", options.encoderThreads, options.nice))
        ),
        decoder.request(openRequest(options, "decoder", options.decoderThreads ?? 1, options.nice)),
      ]);
    } catch (error) {
      await Promise.all(all.map((w) => w.close()));
      throw error;
    }
    return new WorkerSegmenter(encoders, decoder, options);
  }

  /** Embeddings under way. */
  get embedding(): number {
    return this.#encoders.reduce((n, w) => n + w.busy, 0);
  }

  /** Preprocesses and encodes `frame` in the least busy encoder worker (the frame is copied). */
  embed(frame: Frame): Promise<TinySamEmbedding> {
    if (this.#disposed) return Promise.reject(new Error("the segmenter has been disposed"));
    let worker = this.#encoders[0];
    for (const w of this.#encoders) if (w.busy < worker.busy) worker = w;
    const data = frame.data.slice();
    return worker.request<TinySamEmbedding>({
      kind: "embed",
      frame: {
        index: frame.index,
        ptsSeconds: frame.ptsSeconds,
        width: frame.width,
        height: frame.height,
        data,
      },
    }, [data.buffer]);
  }

  /** Decodes the prompt sets in the decoder worker (the embedding is copied there). */
  decode(embedding: FrameEmbedding, prompts: readonly PromptSet[]): Promise<DecodedPrompt[]> {
    if (this.#disposed) return Promise.reject(new Error("the segmenter has been disposed"));
    return decodeIn(this.#decoder, embedding, prompts);
  }

  /**
   * This model with a decoder of its own at the lowest priority (niceness
   * {@link BACKGROUND_DECODER_NICE}), opened on first use: a long run of decodes there (a
   * discovery pass) neither queues ahead of the tracking decodes nor takes their CPU. Embeddings
   * go to the same encoder workers.
   */
  get background(): Segmenter {
    return this.#background ??= {
      embed: (frame) => this.embed(frame),
      decode: async (embedding, prompts) => {
        if (this.#disposed) throw new Error("the segmenter has been disposed");
        return await decodeIn(await this.#openBackgroundDecoder(), embedding, prompts);
      },
      upscaleLogits: (embedding, logits, window) => this.upscaleLogits(embedding, logits, window),
      describe: (embedding, logits, within) => this.describe(embedding, logits, within),
      // Released with this segmenter.
      dispose: () => Promise.resolve(),
    };
  }

  #openBackgroundDecoder(): Promise<ModelWorker> {
    return this.#backgroundDecoder ??= (async () => {
      const worker = new ModelWorker();
      try {
        await worker.request(openRequest(this.#options, "decoder", 1, BACKGROUND_DECODER_NICE));
      } catch (error) {
        await worker.close();
        throw error;
      }
      return worker;
    })();
  }

  /** The image embedding averaged under the region (see `pooled_embedding.ts`), in this thread. */
  describe(
    embedding: FrameEmbedding,
    lowResLogits: Float32Array,
    within?: PixelWindow,
  ): Float32Array {
    return pooledEmbedding((embedding as TinySamEmbedding).imageEmbeddings, lowResLogits, within);
  }

  upscaleLogits(
    embedding: FrameEmbedding,
    lowResLogits: Float32Array,
    window?: PixelWindow,
  ): Float32Array {
    return upscaleMaskLogits(lowResLogits, embedding.frameWidth, embedding.frameHeight, window);
  }

  /** Ends the workers once their requests under way are answered (idempotent). */
  async dispose(): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    const background = await this.#backgroundDecoder?.catch(() => undefined);
    await Promise.all(
      [...this.#encoders, this.#decoder, ...(background ? [background] : [])].map((w) => w.close()),
    );
  }
}

/** Niceness of the background decoder: the lowest, below the pipeline and the model's other work. */
export const BACKGROUND_DECODER_NICE = 19;

/** The request that opens a worker's session for `role`. */
function openRequest(
  options: WorkerSegmenterOptions,
  role: "encoder" | "decoder",
  threads: number | undefined,
  nice: number | undefined,
): Request {
  return { kind: "open", encoder: options.encoder, decoder: options.decoder, threads, role, nice };
}

function decodeIn(
  worker: ModelWorker,
  embedding: FrameEmbedding,
  prompts: readonly PromptSet[],
): Promise<DecodedPrompt[]> {
  return worker.request<DecodedPrompt[]>({
    kind: "decode",
    embedding: embedding as TinySamEmbedding,
    prompts: prompts.map((p) => ({ ...p })),
  });
}
