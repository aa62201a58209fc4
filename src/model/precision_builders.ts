/**
 * How each precision's graphs are built from a checkpoint. The cache calls these; a new
 * precision (int8: quantized graphs calibrated on real frames) is one more entry in
 * {@link PRECISION_BUILDERS}, with its extra inputs and a record of how it was built.
 * @module
 */
import type { Precision } from "./precision.ts";
import { buildFloatGraphs, buildInt8Graphs, type GraphFiles } from "./build.ts";
import { calibrationFiles, calibrationFingerprint } from "./quant/calibration_frames.ts";

/** Per-request build options (from the command line). */
export interface PrecisionBuildOptions {
  /** Calibration frames source for quantized graphs: a video, an image or a directory. */
  readonly calibration?: string;
}

/** What a builder gets to work with. */
export interface BuildContext {
  /** The validated-on-read checkpoint file. */
  readonly checkpointPath: string;
  /** The cache entry directory the graphs go into. */
  readonly outDir: string;
  /** Graphs of the precisions listed in `dependsOn`, already built and up to date. */
  readonly dependencies: Readonly<Partial<Record<Precision, GraphFiles>>>;
  /** Status lines for people. */
  readonly onProgress: (line: string) => void;
  readonly options: PrecisionBuildOptions;
}

/** A finished build. */
export interface BuiltGraphs {
  /** Absolute paths of the written graphs; each inside `outDir`. */
  readonly files: GraphFiles;
  /** Anything worth recording in the manifest about this build (e.g. calibration frames). */
  readonly details: Readonly<Record<string, unknown>>;
  /** The inputs actually used, when they differ from the requested ones (defaults resolved). */
  readonly inputs?: Readonly<Record<string, string>>;
}

/** Builds one precision's graphs. */
export interface PrecisionBuilder {
  /** Precisions whose graphs must be built first (int8 may quantize the fp32 graphs). */
  readonly dependsOn: readonly Precision[];
  /**
   * Fingerprints of the build inputs a request pins down, other than the checkpoint and
   * `BUILDER_VERSION` (e.g. `{ calibration: "<sha256 of the frames>" }`): graphs are rebuilt
   * when a pinned input differs from the one they were built with.
   */
  inputs(options: PrecisionBuildOptions): Promise<Readonly<Record<string, string>>>;
  /** Writes the graphs into `context.outDir` (atomically, file by file). */
  build(context: BuildContext): Promise<BuiltGraphs>;
}

/**
 * The builder of every precision, by name.
 *
 * @example
 * ```ts ignore
 * import { PRECISION_BUILDERS } from "./precision_builders.ts";
 *
 * const built = await PRECISION_BUILDERS.fp32.build({
 *   checkpointPath: "tinysam_42.3.pth",
 *   outDir: "/tmp/tinysam",
 *   dependencies: {},
 *   onProgress: console.error,
 * });
 * console.log(built.files.encoder); // "/tmp/tinysam/encoder.fp32.onnx"
 * ```
 */
export const PRECISION_BUILDERS: { readonly [P in Precision]: PrecisionBuilder } = {
  fp32: {
    dependsOn: [],
    inputs: () => Promise.resolve({}),
    build: async ({ checkpointPath, outDir }) => ({
      files: await buildFloatGraphs(checkpointPath, outDir),
      details: {},
    }),
  },
  int8: {
    // The int8 model pairs a quantized encoder with the float decoder (int8 did not pay there).
    dependsOn: ["fp32"],
    inputs: async ({ calibration }): Promise<Record<string, string>> =>
      calibration
        ? { calibration: await calibrationFingerprint(await calibrationFiles(calibration)) }
        : {},
    build: async ({ checkpointPath, outDir, dependencies, onProgress, options }) => {
      const built = await buildInt8Graphs(checkpointPath, outDir, dependencies.fp32!, {
        calibration: options.calibration,
        onProgress,
      });
      return {
        files: built.files,
        details: built.details,
        inputs: { calibration: built.calibrationFingerprint },
      };
    },
  },
};
