/**
 * TinySAM in ONNX Runtime on this machine, built from the fixture checkpoint: graph build time,
 * encoder latency per 1024x1024 frame (fp32 against int8, 1 and 2 threads, each group compared
 * to its fp32 baseline in the same run), decoder latency per prompt and per batch of 64.
 * Skipped without ../shared.
 * @module
 */
import { readCheckpoint } from "../../src/model/checkpoint/read_checkpoint.ts";
import { ensureModel } from "../../src/model/model_cache.ts";
import { OnnxSegmenter } from "../../src/model/onnx_segmenter.ts";
import { buildDecoderModel, buildEncoderModel } from "../../src/model/tinysam/graphs.ts";
import type { PromptSet } from "../../src/segment/segmenter.ts";
import { FIXTURE_DIR, sharedAvailable } from "../helpers/shared.ts";

const CHECKPOINT = `${FIXTURE_DIR}/tinysam_random.pth`;

async function openModels(threads: number) {
  const fp32 = await ensureModel({ checkpoint: CHECKPOINT }, { precision: "fp32" });
  const int8 = await ensureModel({ checkpoint: CHECKPOINT }, { precision: "int8" });
  return {
    fp32: await OnnxSegmenter.create({ encoder: fp32.encoder, decoder: fp32.decoder, threads }),
    int8: await OnnxSegmenter.create({ encoder: int8.encoder, decoder: int8.decoder, threads }),
  };
}

const pixels = new Float32Array(3 * 1024 * 1024).map((_, i) => Math.sin(i * 1e-3));
const models = sharedAvailable ? { 1: await openModels(1), 2: await openModels(2) } : undefined;
const embedding = models
  ? {
    frameWidth: 1280,
    frameHeight: 720,
    imageEmbeddings: await models[2].fp32.embedPixels(pixels),
  }
  : undefined;

function grid(count: number): PromptSet[] {
  const side = Math.ceil(Math.sqrt(count));
  return Array.from({ length: count }, (_, i) => ({
    points: [{
      x: ((i % side) + 0.5) * (1280 / side),
      y: (Math.floor(i / side) + 0.5) * (720 / side),
      positive: true,
    }],
  }));
}

Deno.bench({
  name: "build fp32 encoder + decoder graphs from the checkpoint",
  group: "build",
  ignore: !sharedAvailable,
  n: 3,
  warmup: 1,
  fn: async () => {
    const dict = await readCheckpoint(CHECKPOINT);
    buildEncoderModel(dict);
    buildDecoderModel(dict);
  },
});

for (const threads of [2, 1] as const) {
  for (const precision of ["fp32", "int8"] as const) {
    Deno.bench({
      name: `encoder ${precision}, ${threads} thread${threads > 1 ? "s" : ""}`,
      group: `encoder, ${threads} thread${threads > 1 ? "s" : ""}`,
      baseline: precision === "fp32",
      ignore: !sharedAvailable,
      n: threads === 2 ? 12 : 6,
      warmup: 2,
      fn: async () => {
        await models![threads][precision].embedPixels(pixels);
      },
    });
  }
  for (const prompts of [1, 64]) {
    Deno.bench({
      name: `decoder, ${prompts} prompt${prompts > 1 ? "s" : ""} in one call, ${threads} thread${
        threads > 1 ? "s" : ""
      }`,
      group: `decoder, ${prompts} prompt${prompts > 1 ? "s" : ""}`,
      baseline: threads === 2,
      ignore: !sharedAvailable,
      n: prompts === 1 ? 20 : 2,
      warmup: 1,
      fn: async () => {
        await models![threads].fp32.decode(embedding!, grid(prompts));
      },
    });
  }
}
