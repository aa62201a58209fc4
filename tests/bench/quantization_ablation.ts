/**
 * Which layers are int8: the encoder quantized seven ways (by layer group), each timed against the fp32 encoder in
 * the same run (alternating, 2 threads) and compared with it on frames of the real clips
 * (embedding cosine). This is the measurement behind `defaultEncoderSelection`.
 *
 * Not a `Deno.bench` file (it builds four graphs and takes minutes): run it on a quiet machine,
 * `deno run -A tests/bench/quantization_ablation.ts`. Skipped (exit 0) without ../shared.
 * @module
 */
import * as ort from "onnxruntime-node";
import type { Frame } from "../../src/frame.ts";
import { readCheckpoint } from "../../src/model/checkpoint/read_checkpoint.ts";
import { encoderInput } from "../../src/model/preprocess.ts";
import {
  calibrationFiles,
  defaultCalibrationFiles,
  sampleCalibrationFrames,
} from "../../src/model/quant/calibration_frames.ts";
import type { LayerTap } from "../../src/model/quant/calibration.ts";
import { weightLevelsForThisCpu } from "../../src/model/quant/cpu_features.ts";
import { embeddingCosine } from "../../src/model/quant/evaluate_quantization.ts";
import {
  buildInt8Encoder,
  type ChannelInputs,
  defaultEncoderSelection,
  type LayerSelection,
} from "../../src/model/quant/quantize_model.ts";
import { buildEncoderModel } from "../../src/model/tinysam/graphs.ts";
import { CLIPS_DIR, FIXTURE_DIR, sharedAvailable } from "../helpers/shared.ts";

interface Variant {
  readonly name: string;
  readonly selection: LayerSelection;
  readonly channelInputs: ChannelInputs;
}

/** Layer groups of the encoder's convolutions, by checkpoint name. */
const isStage0Pointwise = (t: LayerTap) =>
  t.kind === "conv" && /layers\.0\..*conv[13]$/.test(t.name);
const isDepthwise = (t: LayerTap) => t.kind === "conv" && /conv2$|local_conv$/.test(t.name);
const isDense3x3 = (t: LayerTap) =>
  t.kind === "conv" && (t.name.includes("patch_embed") || t.name.includes(".neck."));

const VARIANTS: readonly Variant[] = [
  {
    name: "linear layers, per-tensor inputs",
    selection: defaultEncoderSelection,
    channelInputs: "none",
  },
  {
    name: "linear layers, per-channel inputs where they fold into a LayerNorm",
    selection: defaultEncoderSelection,
    channelInputs: "pre-norm",
  },
  {
    name: "linear layers, per-channel inputs (default)",
    selection: defaultEncoderSelection,
    channelInputs: "all",
  },
  {
    name: "+ patch merging and neck 1x1 (as linear layers)",
    selection: (t) => t.kind === "linear",
    channelInputs: "all",
  },
  {
    name: "+ stage-0 1x1 convolutions (QLinearConv)",
    selection: (t) => defaultEncoderSelection(t) || isStage0Pointwise(t),
    channelInputs: "all",
  },
  {
    name: "+ depthwise convolutions (QLinearConv)",
    selection: (t) => defaultEncoderSelection(t) || isDepthwise(t),
    channelInputs: "all",
  },
  {
    name: "+ patch embed and neck 3x3 (QLinearConv)",
    selection: (t) => defaultEncoderSelection(t) || isDense3x3(t),
    channelInputs: "all",
  },
];

const TIMED_RUNS = 5;

const median = (values: number[]) => values.slice().sort((a, b) => a - b)[values.length >> 1];

async function embed(session: ort.InferenceSession, frame: Frame): Promise<Float32Array> {
  const out = await session.run({
    pixels: new ort.Tensor("float32", encoderInput(frame), [1, 3, 1024, 1024]),
  });
  return out.image_embeddings.data as Float32Array;
}

async function main(): Promise<void> {
  if (!sharedAvailable) {
    console.log("skipped: ../shared is absent");
    return;
  }
  const dict = await readCheckpoint(`${FIXTURE_DIR}/tinysam_random.pth`);
  const calibration = await sampleCalibrationFrames(await defaultCalibrationFiles(), 8);
  const evaluation = await sampleCalibrationFrames(await calibrationFiles(CLIPS_DIR), 6);
  const options = {
    intraOpNumThreads: 2,
    interOpNumThreads: 1,
    graphOptimizationLevel: "all" as const,
  };
  const fp32 = await ort.InferenceSession.create(buildEncoderModel(dict), options);
  const references = [];
  for (const frame of evaluation) references.push((await embed(fp32, frame)).slice());
  const pixels = new ort.Tensor("float32", encoderInput(evaluation[0]), [1, 3, 1024, 1024]);
  const rows: string[] = [];
  for (const variant of VARIANTS) {
    const int8 = await buildInt8Encoder(dict, {
      calibrationFrames: calibration,
      weightLevels: weightLevelsForThisCpu(),
      selection: variant.selection,
      channelInputs: variant.channelInputs,
    });
    const session = await ort.InferenceSession.create(int8.model, options);
    const cosines = [];
    for (const [i, frame] of evaluation.entries()) {
      cosines.push(embeddingCosine(references[i], await embed(session, frame)));
    }
    await fp32.run({ pixels });
    await session.run({ pixels });
    const fp32Ms: number[] = [], int8Ms: number[] = [];
    for (let run = 0; run < TIMED_RUNS; run++) {
      let started = performance.now();
      await fp32.run({ pixels });
      fp32Ms.push(performance.now() - started);
      started = performance.now();
      await session.run({ pixels });
      int8Ms.push(performance.now() - started);
    }
    await session.release();
    const speedup = median(fp32Ms) / median(int8Ms);
    rows.push(
      `| ${variant.name} | ${int8.quantizedLayers.length} | ${median(fp32Ms).toFixed(0)} | ${
        median(int8Ms).toFixed(0)
      } | ${speedup.toFixed(2)}x | ${median(cosines).toFixed(5)} | ${
        Math.min(...cosines).toFixed(5)
      } |`,
    );
    console.error(rows[rows.length - 1]);
  }
  console.log(
    "| int8 layers | layers | fp32 ms | int8 ms | speed-up | cosine median | cosine worst |",
  );
  console.log("|---|---|---|---|---|---|---|");
  for (const row of rows) console.log(row);
}

if (import.meta.main) await main();
