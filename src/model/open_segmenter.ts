/**
 * Opens the TinySAM segmenter a run asked for: make the model ready in the cache (download and
 * build on first use), then open its ONNX Runtime sessions.
 * @module
 */
import { DEFAULT_MODEL } from "../../models/registry.ts";
import { ensureModel, type ResolvedModel } from "./model_cache.ts";
import { OnnxSegmenter } from "./onnx_segmenter.ts";
import type { Precision } from "./precision.ts";
import { type ModelProgressReporters, terminalProgress } from "./terminal_progress.ts";

/** Which model, at which precision, on how many threads. */
export interface ModelChoice {
  /** A registry or cached model name (default: the registry's default model). */
  readonly model?: string;
  /** A local checkpoint file instead of a named model. */
  readonly checkpoint?: string;
  readonly precision: Precision;
  /** Intra-op threads per session (default: all cores). */
  readonly threads?: number;
  /** Calibration source for int8 graphs built on first use. */
  readonly calibration?: string;
}

/**
 * Makes the chosen model ready in the cache (downloading and building what is missing), telling
 * `progress` what it does (default: status lines on a terminal, nothing otherwise).
 */
export function readyModel(
  choice: ModelChoice,
  progress: ModelProgressReporters = terminalProgress(),
): Promise<ResolvedModel> {
  const source = choice.checkpoint
    ? { checkpoint: choice.checkpoint }
    : { model: choice.model ?? DEFAULT_MODEL };
  return ensureModel(source, {
    precision: choice.precision,
    calibration: choice.calibration,
    ...progress,
  });
}

/**
 * Makes the chosen model ready and opens it.
 *
 * @example
 * ```ts
 * const segmenter = await openSegmenter({ model: "tinysam-42.3", precision: "int8", threads: 2 });
 * ```
 */
export async function openSegmenter(
  choice: ModelChoice,
  progress?: ModelProgressReporters,
): Promise<OnnxSegmenter> {
  const model = await readyModel(choice, progress);
  return await OnnxSegmenter.create({
    encoder: model.encoder,
    decoder: model.decoder,
    threads: choice.threads,
  });
}
