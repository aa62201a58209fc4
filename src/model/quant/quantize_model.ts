/**
 * Post-training static quantization of the TinySAM encoder: calibrate on real frames, search
 * every activation range by the error it causes, quantize weights per output channel with a
 * Hessian-weighted clipping search, emit a QDQ/integer graph that ONNX Runtime runs on VNNI.
 * @module
 */
import * as ort from "onnxruntime-node";
import type { Frame } from "../../frame.ts";
import { encoderInput } from "../preprocess.ts";
import type { StateDict } from "../tensor.ts";
import { IMAGE_SIZE } from "../tinysam/architecture.ts";
import { buildEncoderModel, ENCODER_IO } from "../tinysam/graphs.ts";
import type { WeightLevels } from "./affine.ts";
import {
  accumulateRun,
  emptyStatistics,
  exposeTaps,
  type LayerStatistics,
  type LayerTap,
  type RunOutput,
  TappingLayers,
} from "./calibration.ts";
import { type LayerQuant, QdqLayers, type QuantizationPlan } from "./qdq_layers.ts";
import { searchActivationRange, searchChannelRanges } from "./range_search.ts";

/** Which layers to quantize, by tap. */
export type LayerSelection = (tap: LayerTap) => boolean;

/**
 * The layers quantized by default, chosen by measurement (BENCHMARKS.md, "Which layers are
 * int8"): the linear layers of the attention blocks (qkv, proj, fc1, fc2), with per-channel
 * input ranges. The 1x1 convolutions of patch merging and of the neck run as linear layers on
 * tokens too, but stay float: quantizing any one of them cost more of the embedding's fidelity
 * than all 40 block layers together, for a few milliseconds. ONNX Runtime's integer
 * convolutions ran slower than its float NCHWc kernels and the early convolutions are where
 * quantization error is amplified most.
 */
export const defaultEncoderSelection: LayerSelection = (tap) =>
  tap.kind === "linear" && !isPatchMergingOrNeck(tap);

/** Layers of a patch merging (`…downsample.conv1`, `…conv3`) or of the neck. */
export function isPatchMergingOrNeck(tap: LayerTap): boolean {
  return /\.downsample\.|\.neck\./.test(tap.name);
}

/**
 * Which linear layers get per-channel input ranges: every one; only those with a LayerNorm in
 * front, where the channel scales fold into its affine terms and cost nothing at run time (the
 * others would need a multiplication over the whole input); or none.
 */
export type ChannelInputs = "all" | "pre-norm" | "none";

/** The default {@link ChannelInputs}, chosen by measurement (BENCHMARKS.md, "Which layers are int8"). */
export const DEFAULT_CHANNEL_INPUTS: ChannelInputs = "all";

/** Options of {@link buildInt8Encoder}. */
export interface Int8BuildOptions {
  /** Real frames the float graph runs on to observe activation ranges. */
  readonly calibrationFrames: readonly Frame[];
  readonly weightLevels: WeightLevels;
  readonly threads?: number;
  readonly selection?: LayerSelection;
  /** Rows sampled per tensor per frame for the range search (default 256). */
  readonly rowsPerRun?: number;
  /** Which linear layers get per-channel input ranges (default {@link DEFAULT_CHANNEL_INPUTS}). */
  readonly channelInputs?: ChannelInputs;
  readonly onProgress?: (message: string) => void;
}

/** The int8 encoder and what it was built from. */
export interface Int8Encoder {
  readonly model: Uint8Array;
  readonly quantizedLayers: readonly string[];
  readonly calibrationFrames: number;
}

function runOutputs(result: ort.InferenceSession.OnnxValueMapType): Record<string, RunOutput> {
  const outputs: Record<string, RunOutput> = {};
  for (const [name, tensor] of Object.entries(result)) {
    outputs[name] = { data: tensor.data as Float32Array, dims: tensor.dims };
  }
  return outputs;
}

/**
 * Turns calibration statistics into a quantization plan. The linear layers `channelInputs`
 * names get per-channel input ranges; every other layer one range per tensor.
 */
export function planFromStatistics(
  statistics: readonly LayerStatistics[],
  channelInputs: ChannelInputs = DEFAULT_CHANNEL_INPUTS,
): QuantizationPlan {
  const perChannel = (tap: LayerTap) =>
    tap.kind === "linear" &&
    (channelInputs === "all" || (channelInputs === "pre-norm" && tap.preNorm === true));
  const plan = new Map<string, LayerQuant>();
  for (const s of statistics) {
    const range = (t: LayerStatistics["input"], importance?: Float32Array) =>
      searchActivationRange(t.samples(), t.channels, t.min, t.max, importance);
    const input = s.input;
    plan.set(s.tap.name, {
      input: range(input, s.tap.inputImportance),
      inputChannels: perChannel(s.tap)
        ? searchChannelRanges(
          input.samples(),
          input.channels,
          input.channelMin,
          input.channelMax,
          s.tap.inputImportance,
        )
        : undefined,
      inputB: s.inputB ? range(s.inputB) : undefined,
      output: s.output ? range(s.output) : undefined,
      inputChannelPower: s.tap.kind === "matmul" ? undefined : s.input.meanChannelPower(),
    });
  }
  return plan;
}

/**
 * Calibrates the encoder on `calibrationFrames` and builds its int8 graph.
 *
 * @example
 * ```ts
 * const int8 = await buildInt8Encoder(stateDict, { calibrationFrames: frames, weightLevels: 127 });
 * await Deno.writeFile("encoder.int8.onnx", int8.model);
 * ```
 */
export async function buildInt8Encoder(
  dict: StateDict,
  options: Int8BuildOptions,
): Promise<Int8Encoder> {
  if (options.calibrationFrames.length === 0) {
    throw new Error("calibration needs at least one frame");
  }
  const select = options.selection ?? defaultEncoderSelection;
  const tapper = new TappingLayers();
  const tapped = buildEncoderModel(dict, tapper, (g) => exposeTaps(g, tapper.taps.filter(select)));
  const statistics = emptyStatistics(tapper.taps.filter(select), options.rowsPerRun ?? 256);
  const session = await ort.InferenceSession.create(tapped, {
    graphOptimizationLevel: "all",
    ...(options.threads ? { intraOpNumThreads: options.threads } : {}),
  });
  try {
    const pixels = new Float32Array(3 * IMAGE_SIZE * IMAGE_SIZE);
    for (const [run, frame] of options.calibrationFrames.entries()) {
      options.onProgress?.(
        `calibrating the encoder on frame ${run + 1} of ${options.calibrationFrames.length}`,
      );
      const input = new ort.Tensor("float32", encoderInput(frame, pixels), [
        1,
        3,
        IMAGE_SIZE,
        IMAGE_SIZE,
      ]);
      accumulateRun(statistics, runOutputs(await session.run({ [ENCODER_IO.input]: input })), run);
    }
  } finally {
    await session.release();
  }
  options.onProgress?.("searching quantization ranges");
  const plan = planFromStatistics(statistics, options.channelInputs);
  return {
    model: buildEncoderModel(dict, new QdqLayers(plan, options.weightLevels)),
    quantizedLayers: [...plan.keys()],
    calibrationFrames: options.calibrationFrames.length,
  };
}
