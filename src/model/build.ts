/**
 * From a checkpoint file to ONNX graph files: read, validate, build, write atomically.
 * @module
 */
import { writeFileAtomic } from "../fs/write_file_atomic.ts";
import { readCheckpoint } from "./checkpoint/read_checkpoint.ts";
import {
  calibrationFiles,
  calibrationFingerprint,
  defaultCalibrationFiles,
  sampleCalibrationFrames,
} from "./quant/calibration_frames.ts";
import { weightLevelsForThisCpu } from "./quant/cpu_features.ts";
import { buildInt8Encoder } from "./quant/quantize_model.ts";
import { validateStateDict } from "./checkpoint/validate.ts";
import type { StateDict } from "./tensor.ts";
import { expectedParameterShapes } from "./tinysam/architecture.ts";
import { buildDecoderModel, buildEncoderModel } from "./tinysam/graphs.ts";

/**
 * Version of the graph builder; part of every cache manifest, so changing how graphs are
 * built (bump it) rebuilds cached models.
 */
export const BUILDER_VERSION = "6";

/** Frames the int8 encoder is calibrated on. */
export const CALIBRATION_FRAMES = 8;

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

/** Options of {@link buildInt8Graphs}. */
export interface Int8GraphOptions {
  /** A video, an image or a directory of them (default: the committed sample clips). */
  readonly calibration?: string;
  readonly onProgress?: (line: string) => void;
}

/** The int8 model's graphs and how they were made. */
export interface Int8GraphFiles {
  readonly files: GraphFiles;
  readonly calibrationFingerprint: string;
  readonly details: Readonly<Record<string, unknown>>;
}

/**
 * Builds the int8 encoder into `outDir` (`encoder.int8.onnx`), calibrated on frames of the
 * calibration source; the int8 model uses the float decoder `float.decoder`.
 *
 * @example
 * ```ts
 * const fp32 = await buildFloatGraphs("tinysam_42.3.pth", dir);
 * const int8 = await buildInt8Graphs("tinysam_42.3.pth", dir, fp32, { calibration: "clip.mp4" });
 * ```
 */
export async function buildInt8Graphs(
  checkpointPath: string,
  outDir: string,
  float: GraphFiles,
  options: Int8GraphOptions = {},
): Promise<Int8GraphFiles> {
  const sources = options.calibration
    ? await calibrationFiles(options.calibration)
    : await defaultCalibrationFiles();
  const fingerprint = await calibrationFingerprint(sources);
  options.onProgress?.(
    `decoding ${CALIBRATION_FRAMES} calibration frames from ${sources.length} file(s)`,
  );
  const frames = await sampleCalibrationFrames(sources, CALIBRATION_FRAMES);
  const dict = await loadValidatedStateDict(checkpointPath);
  const weightLevels = weightLevelsForThisCpu();
  const int8 = await buildInt8Encoder(dict, {
    calibrationFrames: frames,
    weightLevels,
    onProgress: options.onProgress,
  });
  const encoder = `${outDir}/encoder.int8.onnx`;
  await writeFileAtomic(encoder, int8.model);
  return {
    files: { encoder, decoder: float.decoder },
    calibrationFingerprint: fingerprint,
    details: {
      calibration: {
        source: options.calibration ?? "samples/*/video.mp4",
        files: sources.map((file) => file.split("/").slice(-2).join("/")),
        frames: int8.calibrationFrames,
      },
      weightLevels,
      quantizedLayers: int8.quantizedLayers.length,
    },
  };
}
