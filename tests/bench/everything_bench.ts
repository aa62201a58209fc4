/**
 * Dense against hierarchical "everything" per frame: decoder prompts and wall time of both passes
 * on the same frame, as ratios.
 *
 * - The samples with the region-growing test segmenter (whose confident regions are real: the
 *   background and the objects), one frame of each sample. `deno bench` times these (each
 *   hierarchical pass against its dense baseline) and prints the prompt counts.
 * - One frame of `../shared/clips/02_cups.mp4` (1280x720) with TinySAM graphs built from the
 *   random-weight fixture checkpoint, fp32 and int8 (skipped without ../shared). With random
 *   weights the masks are meaningless and the number of skipped points is arbitrary: it is
 *   reported, not tuned. The real decoder costs tens of ms per prompt here (about a minute per
 *   dense pass), too slow for `deno bench`'s repeated runs, so these are measured once each by
 *   `deno run`, which also measures the samples once and prints one table:
 *
 *   deno bench -A tests/bench/everything_bench.ts     # samples, timed by deno bench
 *   deno run -A tests/bench/everything_bench.ts       # samples and clip, one run each
 *
 * Passes are timed on an already computed embedding (the encoder is the same for both).
 */
import { lastValueFrom, take } from "rxjs";
import type { Frame } from "../../src/frame.ts";
import { ensureModel } from "../../src/model/model_cache.ts";
import { OnnxSegmenter } from "../../src/model/onnx_segmenter.ts";
import { PRECISIONS } from "../../src/model/precision.ts";
import type { EverythingResult } from "../../src/segment/everything/everything_mask.ts";
import { everythingPass, type EverythingStrategy } from "../../src/segment/everything/strategy.ts";
import type { FrameEmbedding, Segmenter } from "../../src/segment/segmenter.ts";
import { decodeVideo } from "../../src/video/decode.ts";
import { parseInputSource } from "../../src/video/input_source.ts";
import { probeVideo } from "../../src/video/probe.ts";
import { RegionGrowingSegmenter } from "../helpers/region_growing_segmenter.ts";
import { sampleFrames } from "../helpers/sample_frames.ts";
import { CLIPS_DIR, FIXTURE_DIR, sharedAvailable } from "../helpers/shared.ts";
import { WholeFramePoints } from "../helpers/whole_frame_points.ts";

const STRATEGIES: readonly EverythingStrategy[] = ["dense", "hierarchical"];
const SAMPLE_FRAMES = [["occlusion", 0], ["exit_enter", 45], ["crossing", 50]] as const;
const CLIP = `${CLIPS_DIR}/02_cups.mp4`;
const CHECKPOINT = `${FIXTURE_DIR}/tinysam_random.pth`;

/** One frame ready for everything passes. */
interface Case {
  readonly label: string;
  readonly segmenter: Segmenter;
  readonly embedding: FrameEmbedding;
}

function describe(result: EverythingResult, ms: number): string {
  const { promptsDecoded, decodeCalls, pointsSkipped, upscaled, kept } = result.stats;
  return `${promptsDecoded} prompts in ${decodeCalls} decode calls, ${pointsSkipped} points skipped, ${upscaled} masks upscaled, ${kept} kept, ${
    (ms / 1000).toFixed(2)
  } s`;
}

async function timedPass(c: Case, strategy: EverythingStrategy) {
  const started = performance.now();
  const result = await everythingPass(strategy)(c.segmenter, c.embedding);
  return { result, ms: performance.now() - started };
}

async function sampleCases(): Promise<Case[]> {
  const segmenter = new WholeFramePoints(new RegionGrowingSegmenter());
  const cases: Case[] = [];
  for (const [name, index] of SAMPLE_FRAMES) {
    const [frame] = await sampleFrames(name, [index]);
    cases.push({
      label: `${name}#${index}, test segmenter`,
      segmenter,
      embedding: await segmenter.embed(frame),
    });
  }
  return cases;
}

async function clipCases(): Promise<Case[]> {
  const source = parseInputSource(CLIP);
  const info = await probeVideo(source);
  const frame: Frame = await lastValueFrom(
    decodeVideo(source, info, { maxFrames: 1 }).pipe(take(1)),
  );
  const cases: Case[] = [];
  for (const precision of PRECISIONS) {
    const model = await ensureModel({ checkpoint: CHECKPOINT }, { precision });
    const segmenter = await OnnxSegmenter.create({
      encoder: model.encoder,
      decoder: model.decoder,
      threads: 2,
    });
    const embedding = await segmenter.embed(frame);
    // The decoder session's first runs allocate and tune; keep them out of the timings.
    await everythingPass("dense")(segmenter, embedding, { pointsPerSide: 8 });
    cases.push({ label: `02_cups#0, fixture ${precision}`, segmenter, embedding });
  }
  return cases;
}

if (import.meta.main) {
  // One run of each pass per frame, printed as a table.
  const cases = [...await sampleCases(), ...(sharedAvailable ? await clipCases() : [])];
  if (!sharedAvailable) console.log("../shared is absent: the clip rows are skipped");
  console.log(
    "| frame, model | dense prompts | hierarchical prompts (skipped) | prompt ratio | dense s | hierarchical s | time ratio | masks kept d/h |",
  );
  console.log("|---|---|---|---|---|---|---|---|");
  for (const c of cases) {
    const dense = await timedPass(c, "dense");
    const hierarchical = await timedPass(c, "hierarchical");
    const d = dense.result.stats, h = hierarchical.result.stats;
    console.log(
      `| ${c.label} | ${d.promptsDecoded} | ${h.promptsDecoded} (${h.pointsSkipped}) | ${
        (h.promptsDecoded / d.promptsDecoded).toFixed(3)
      } | ${(dense.ms / 1000).toFixed(2)} | ${(hierarchical.ms / 1000).toFixed(2)} | ${
        (hierarchical.ms / dense.ms).toFixed(3)
      } | ${d.kept}/${h.kept} |`,
    );
  }
  for (const c of cases) await c.segmenter.dispose();
} else {
  for (const c of await sampleCases()) {
    for (const strategy of STRATEGIES) {
      Deno.bench({
        name: `${c.label}: ${strategy}`,
        group: c.label,
        baseline: strategy === "dense",
        n: 1,
        warmup: 1,
        fn: async (b) => {
          b.start();
          const { result, ms } = await timedPass(c, strategy);
          b.end();
          console.log(describe(result, ms));
        },
      });
    }
  }
}
