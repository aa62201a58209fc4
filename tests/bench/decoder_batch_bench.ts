/**
 * Decoder batch size: time per prompt and resident memory when `n` prompts are decoded in one
 * session run, on 1 and 2 threads, fp32 decoder of the fixture checkpoint. Each (threads, batch)
 * pair runs in its own process, so each resident-memory figure is that configuration's alone.
 *
 *   deno run -A tests/bench/decoder_batch_bench.ts [--prompts 128]
 *
 * Every prompt of a batch carries its own copy of the 256x64x64 image embedding through the
 * two-way transformer, so a batch costs memory in proportion and saves no arithmetic; this table
 * is how the segmenter's default `maxBatch` was chosen. Skipped (exit 0) without ../shared.
 * @module
 */
import { parseArgs } from "node:util";
import { ensureModel } from "../../src/model/model_cache.ts";
import { OnnxSegmenter } from "../../src/model/onnx_segmenter.ts";
import type { PromptSet } from "../../src/segment/segmenter.ts";
import { FIXTURE_DIR, sharedAvailable } from "../helpers/shared.ts";

const BATCHES = [1, 2, 4, 16, 64];
const THREADS = [1, 2];

const { values } = parseArgs({
  args: Deno.args,
  options: {
    prompts: { type: "string", default: "128" },
    // Internal: run one configuration and print its figures as JSON.
    one: { type: "string" },
  },
});
const promptCount = Number(values.prompts);

function prompts(count: number): PromptSet[] {
  return Array.from({ length: count }, (_, i) => ({
    points: [{ x: (i * 37) % 1280, y: (i * 91) % 720, positive: true }],
  }));
}

async function measureOne(threads: number, batch: number): Promise<void> {
  const { decoder, encoder } = await ensureModel({
    checkpoint: `${FIXTURE_DIR}/tinysam_random.pth`,
  }, { precision: "fp32" });
  const segmenter = await OnnxSegmenter.create({
    encoder,
    decoder,
    threads,
    maxBatch: batch,
    sessions: "decoder",
  });
  const embedding = {
    frameWidth: 1280,
    frameHeight: 720,
    imageEmbeddings: new Float32Array(256 * 64 * 64).map((_, i) => Math.sin(i * 1e-3)),
  };
  const all = prompts(promptCount);
  await segmenter.decode(embedding, all.slice(0, batch));
  const start = performance.now();
  await segmenter.decode(embedding, all);
  const msPerPrompt = (performance.now() - start) / all.length;
  console.log(JSON.stringify({ msPerPrompt, rssMb: Deno.memoryUsage().rss / 2 ** 20 }));
  await segmenter.dispose();
}

if (!sharedAvailable) {
  console.log("decoder batch bench skipped: ../shared is absent");
} else if (values.one) {
  const [threads, batch] = values.one.split(",").map(Number);
  await measureOne(threads, batch);
} else {
  console.log(`| threads | batch | ms per prompt (${promptCount} prompts) | resident MB |`);
  console.log("| --- | --- | --- | --- |");
  for (const threads of THREADS) {
    for (const batch of BATCHES) {
      const output = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          import.meta.filename!,
          "--prompts",
          String(promptCount),
          "--one",
          `${threads},${batch}`,
        ],
        stdout: "piped",
        stderr: "inherit",
      }).output();
      const { msPerPrompt, rssMb } = JSON.parse(new TextDecoder().decode(output.stdout));
      console.log(`| ${threads} | ${batch} | ${msPerPrompt.toFixed(1)} | ${rssMb.toFixed(0)} |`);
    }
  }
}
