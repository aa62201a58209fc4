/**
 * `deno task model:eval-quant [--model NAME | --checkpoint FILE] [--clip FILE]`: how far the int8
 * model is from the fp32 one on your own footage, and how much faster its encoder is.
 * @module
 */
import { z } from "zod";
import { DEFAULT_MODEL } from "../../models/registry.ts";
import { ensureModel } from "../model/model_cache.ts";
import { isValidModelName } from "../model/model_name.ts";
import {
  calibrationFiles,
  defaultCalibrationFiles,
  sampleCalibrationFrames,
} from "../model/quant/calibration_frames.ts";
import {
  evaluateQuantization,
  type QuantizationReport,
} from "../model/quant/evaluate_quantization.ts";
import { terminalProgress } from "../model/terminal_progress.ts";
import { type ModelCommand, ModelUsageError, parseCommandLine } from "./model_command.ts";

const FLAGS = {
  help: { type: "boolean", short: "h" },
  model: { type: "string" },
  checkpoint: { type: "string" },
  clip: { type: "string" },
  frames: { type: "string" },
  threads: { type: "string" },
  json: { type: "string" },
} as const;

const positiveInteger = (flag: string) =>
  z.string().regex(/^[1-9]\d*$/, `${flag} must be a positive integer`).transform(Number);

const optionsSchema = z.object({
  help: z.boolean().default(false),
  model: z.string().refine(isValidModelName, "must be a model name such as tinysam-42.3")
    .optional(),
  checkpoint: z.string().min(1, "needs a file path").optional(),
  clip: z.string().min(1, "needs a video, an image or a directory").optional(),
  frames: positiveInteger("--frames").default(20),
  threads: positiveInteger("--threads").optional(),
  json: z.string().min(1, "needs a file path").optional(),
});

const HELP = `Usage: deno task model:eval-quant [--model NAME | --checkpoint FILE] [--clip SRC]
                                  [--frames N] [--threads N] [--json FILE]

Measures the int8 model against the fp32 model on frames of SRC (a video, an image or a
directory of them; default: the sample clips): image-embedding cosine similarity, IoU between
the int8 and fp32 masks of a 4x4 grid of point prompts per frame, predicted-IoU differences,
and the encoder speed-up (both timed alternately in the same run). Builds what is missing.

  --model NAME       a known or cached model (default ${DEFAULT_MODEL})
  --checkpoint FILE  a local checkpoint instead
  --clip SRC         frames to measure on (use footage like yours)
  --frames N         frames spread over SRC (default 20)
  --threads N        threads per session (default: all cores)
  --json FILE        also write the full report as JSON
`;

function formatReport(report: QuantizationReport): string {
  const f = (v: number, digits = 4) => v.toFixed(digits);
  return [
    `frames                      ${report.frames.length}`,
    `embedding cosine            median ${f(report.embeddingCosine.median)}  worst ${
      f(report.embeddingCosine.min)
    }`,
    `mask IoU int8 vs fp32       median ${f(report.maskIou.median)}  mean ${
      f(report.maskIou.mean)
    }  10th pct ${f(report.maskIou.p10)}`,
    `predicted IoU |difference|  median ${f(report.iouPredictionDiff.median)}  max ${
      f(report.iouPredictionDiff.max)
    }`,
    `encoder per frame           fp32 ${f(report.encoderMs.fp32, 0)} ms  int8 ${
      f(report.encoderMs.int8, 0)
    } ms  speed-up ${f(report.encoderMs.speedup, 2)}x`,
  ].join("\n");
}

/** The `eval-quant` subcommand. */
export const evalQuantCommand: ModelCommand = {
  summary: "measure the int8 model against fp32 (fidelity and speed) on a clip",
  help: HELP,
  async run(argv) {
    const { options, positionals } = parseCommandLine(argv, FLAGS, optionsSchema);
    if (options.help) {
      console.log(HELP.trimEnd());
      return 0;
    }
    if (positionals.length > 0) {
      throw new ModelUsageError(`unexpected argument '${positionals[0]}'`);
    }
    if (options.model && options.checkpoint) {
      throw new ModelUsageError("give --model or --checkpoint, not both");
    }
    const source = options.checkpoint
      ? { checkpoint: options.checkpoint }
      : { model: options.model ?? DEFAULT_MODEL };
    const progress = terminalProgress();
    const fp32 = await ensureModel(source, { precision: "fp32", ...progress });
    const int8 = await ensureModel(source, { precision: "int8", ...progress });
    const files = options.clip
      ? await calibrationFiles(options.clip)
      : await defaultCalibrationFiles();
    const frames = await sampleCalibrationFrames(files, options.frames);
    const report = await evaluateQuantization({
      fp32,
      int8,
      frames,
      threads: options.threads,
      onFrame: (i) => progress.onProgress(`frame ${i + 1} of ${frames.length}`),
    });
    console.log(formatReport(report));
    if (options.json) {
      await Deno.writeTextFile(options.json, JSON.stringify(report, null, 2) + "\n");
    }
    return 0;
  },
};
