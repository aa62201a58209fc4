/**
 * Opens the TinySAM segmenter a run asked for in worker threads (see `WorkerSegmenter`): make the
 * model ready in the cache, then start the workers.
 * @module
 */
import { type ModelChoice, readyModel } from "./open_segmenter.ts";
import type { ModelProgressReporters } from "./terminal_progress.ts";
import { WorkerSegmenter } from "./worker_segmenter.ts";

/** How the model's work is spread over threads. */
export interface WorkerLayout {
  /** Encoder workers (frames encoded at once; default 1). */
  readonly encoderWorkers?: number;
  /** Threads per encoder session (default: `choice.threads`, else all cores). */
  readonly encoderThreads?: number;
  /** Threads of the decoder session (default 1). */
  readonly decoderThreads?: number;
  /** Niceness of the workers (see `WorkerSegmenterOptions.nice`). */
  readonly nice?: number;
}

/**
 * Makes the chosen model ready and opens it in workers.
 *
 * @example
 * ```ts
 * const segmenter = await openWorkerSegmenter({ precision: "int8" }, { encoderWorkers: 2, encoderThreads: 1 });
 * ```
 */
export async function openWorkerSegmenter(
  choice: ModelChoice,
  layout: WorkerLayout = {},
  progress?: ModelProgressReporters,
): Promise<WorkerSegmenter> {
  const model = await readyModel(choice, progress);
  return await WorkerSegmenter.create({
    encoder: model.encoder,
    decoder: model.decoder,
    encoderWorkers: layout.encoderWorkers,
    encoderThreads: layout.encoderThreads ?? choice.threads,
    decoderThreads: layout.decoderThreads,
    nice: layout.nice,
  });
}
