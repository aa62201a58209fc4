/**
 * The worker side of {@link WorkerSegmenter}: one ONNX Runtime session set (TinySAM's encoder and
 * decoder) in its own thread, so a session run (synchronous in onnxruntime-node) blocks this
 * worker, not the pipeline's event loop. Messages are requests with an id; each gets one reply.
 * @module
 */
/// <reference lib="deno.worker" />
import { setPriority } from "node:os";
import type { Frame } from "../frame.ts";
import type { PromptSet } from "../segment/segmenter.ts";
import { OnnxSegmenter, type TinySamEmbedding } from "./onnx_segmenter.ts";

/** A request to the worker. */
export type WorkerRequest =
  | {
    readonly kind: "open";
    readonly id: number;
    readonly encoder: string;
    readonly decoder: string;
    readonly threads?: number;
    /** The session this worker runs: an encoder worker embeds, the decoder worker decodes. */
    readonly role: "encoder" | "decoder";
    /** Niceness of this worker's thread (and the session threads it starts), 0..19. */
    readonly nice?: number;
  }
  | {
    readonly kind: "embed";
    readonly id: number;
    readonly frame: Omit<Frame, "capturedAtMs">;
  }
  | {
    readonly kind: "decode";
    readonly id: number;
    readonly embedding: TinySamEmbedding;
    readonly prompts: readonly PromptSet[];
  }
  | { readonly kind: "close"; readonly id: number };

/** The worker's reply to request `id`. */
export type WorkerReply =
  | { readonly id: number; readonly ok: true; readonly value?: unknown }
  | { readonly id: number; readonly ok: false; readonly error: string };

let segmenter: OnnxSegmenter | undefined;

async function handle(
  request: WorkerRequest,
): Promise<{ value?: unknown; transfer?: Transferable[] }> {
  switch (request.kind) {
    case "open":
      // On Linux a thread's niceness is its own: this lowers the worker (and the session's
      // threads, created next, inherit it), not the pipeline's thread.
      if (request.nice) setPriority(0, request.nice);
      segmenter = await OnnxSegmenter.create({
        encoder: request.encoder,
        decoder: request.decoder,
        threads: request.threads,
        sessions: request.role,
      });
      return {};
    case "embed": {
      const embedding = await requireOpen().embed(request.frame);
      return { value: embedding, transfer: [embedding.imageEmbeddings.buffer as ArrayBuffer] };
    }
    case "decode": {
      const decoded = await requireOpen().decode(request.embedding, request.prompts);
      return {
        value: decoded,
        transfer: decoded.flatMap((d) => [
          d.lowResLogits.buffer as ArrayBuffer,
          d.iouPredictions.buffer as ArrayBuffer,
        ]),
      };
    }
    case "close":
      await segmenter?.dispose();
      segmenter = undefined;
      return {};
  }
}

function requireOpen(): OnnxSegmenter {
  if (!segmenter) throw new Error("the model worker has no open session");
  return segmenter;
}

// Requests are handled one at a time, in order: a session runs one request at a time anyway.
let queue: Promise<void> = Promise.resolve();
self.onmessage = (event: MessageEvent<WorkerRequest>) => {
  const request = event.data;
  queue = queue.then(async () => {
    try {
      const { value, transfer } = await handle(request);
      self.postMessage({ id: request.id, ok: true, value } satisfies WorkerReply, {
        transfer: transfer ?? [],
      });
    } catch (error) {
      self.postMessage(
        {
          id: request.id,
          ok: false,
          error: error instanceof Error ? error.message : String(error),
        } satisfies WorkerReply,
      );
    }
  });
};
