/**
 * From a checkpoint file to ONNX graph files: read, validate, build, write atomically.
 * @module
 */
import { readCheckpoint } from "./checkpoint/read_checkpoint.ts";
import { validateStateDict } from "./checkpoint/validate.ts";
import type { StateDict } from "./tensor.ts";
import { expectedParameterShapes } from "./tinysam/architecture.ts";
import { buildDecoderModel, buildEncoderModel } from "./tinysam/graphs.ts";

/**
 * Version of the graph builder; part of every cache manifest, so changing how graphs are
 * built (bump it) rebuilds cached models.
 */
export const BUILDER_VERSION = "1";

/** Paths of one built model's graphs. */
export interface GraphFiles {
  readonly encoder: string;
  readonly decoder: string;
}

/** Reads `checkpointPath` and checks it holds every parameter of the architecture. */
export async function loadValidatedStateDict(checkpointPath: string): Promise<StateDict> {
  const dict = await readCheckpoint(checkpointPath);
  validateStateDict(dict, expectedParameterShapes(), checkpointPath);
  return dict;
}

/** Writes `bytes` to `path` through a temporary file renamed into place. */
export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const temporary = `${path}.${Deno.pid}.partial`;
  try {
    await Deno.writeFile(temporary, bytes);
    await Deno.rename(temporary, path);
  } catch (error) {
    await Deno.remove(temporary).catch(() => {});
    throw error;
  }
}

/**
 * Builds the float32 encoder and decoder graphs from a checkpoint into `outDir`
 * (`encoder.fp32.onnx`, `decoder.fp32.onnx`).
 *
 * @example
 * ```ts
 * const files = await buildFloatGraphs("tinysam_42.3.pth", "models/cache/tinysam-42.3");
 * ```
 */
export async function buildFloatGraphs(
  checkpointPath: string,
  outDir: string,
): Promise<GraphFiles> {
  const dict = await loadValidatedStateDict(checkpointPath);
  await Deno.mkdir(outDir, { recursive: true });
  const files = { encoder: `${outDir}/encoder.fp32.onnx`, decoder: `${outDir}/decoder.fp32.onnx` };
  await writeFileAtomic(files.encoder, buildEncoderModel(dict));
  await writeFileAtomic(files.decoder, buildDecoderModel(dict));
  return files;
}
