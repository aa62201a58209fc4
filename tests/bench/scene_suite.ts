/**
 * The tracker's measure: seeded scenes it was never tuned on (see `src/samples/procedural.ts`),
 * each tracked with the region-growing test segmenter through the real pipeline (ffmpeg decodes
 * the scene's video, the tracker follows the prompted objects, the masks are written as a masks
 * directory beside an overlay video) and scored against the ground truth, once with every frame
 * encoded and once with `--stride auto`. It prints mean J&F, J&F per scene category, the
 * distribution of re-acquisition delays, identity switches and what the search cost in decoder
 * prompts per frame.
 *
 *   deno task suite [--seeds 1-32] [--scene DIR]... [--out DIR] [--cache DIR] [--modes every,auto]
 *
 * `--scene DIR` (repeatable) scores any directory in the samples' layout (`video.mp4`, `gt/`,
 * `prompts.json`, optionally `truth.json`) instead of the seeds (add `--seeds` to run both).
 * `--out DIR` keeps each scene's masks in `DIR/<scene>/masks/` (`masks_stride_auto/` for the second
 * mode) and its overlay videos. Generated scenes are kept in `--cache DIR` (default: a directory
 * under the system's temporary directory) and made again only when the generator changed.
 */
import { parseArgs } from "node:util";
import { lastValueFrom } from "rxjs";
import { segmentVideo } from "../../pipelines/segment_video.ts";
import { evaluateMasks, type EvaluationReport } from "../../src/eval/evaluate.ts";
import {
  categoryMeans,
  type Disappearance,
  disappearances,
  objectCategories,
  type ObjectSeries,
  SCENE_CATEGORIES,
  type SceneCategory,
  seriesFromTruth,
} from "../../src/eval/scene_events.ts";
import { parseSceneTruth } from "../../src/eval/scene_truth.ts";
import { readGroundTruth } from "../../src/eval/sources.ts";
import { generateSample, seededScene } from "../../src/samples/generate.ts";
import { readPromptsFile, resolvePrompts } from "../../src/segment/prompts.ts";
import { adaptiveKeyframes } from "../../src/segment/tracker/keyframe_policy.ts";
import { trackObjects } from "../../src/segment/tracker/track_objects.ts";
import { parseInputSource } from "../../src/video/input_source.ts";
import { parseOutputTarget } from "../../src/video/output_target.ts";
import { probeVideo } from "../../src/video/probe.ts";
import { StreamStats } from "../../src/video/stream_stats.ts";
import { RegionGrowingSegmenter } from "../helpers/region_growing_segmenter.ts";

/** The suite's seeds: fixed, so that runs compare. */
const DEFAULT_SEEDS = "1-32";
/** Re-acquisition delay buckets, in frames (the last one is open). */
const DELAY_BUCKETS: readonly [number, number][] = [[0, 0], [1, 2], [3, 5], [6, 10], [
  11,
  Infinity,
]];
/** The must-show: occlusions longer than this many frames are re-acquired within `QUICK`. */
const LONG_OCCLUSION = 2;
const QUICK = 5;

type Mode = "every" | "auto";

interface SceneResult {
  readonly name: string;
  readonly report: EvaluationReport;
  readonly categories: ReadonlyMap<number, Set<SceneCategory>>;
  readonly gone: readonly Disappearance[];
  readonly encodedFrames: number;
  readonly promptsPerFrame: number;
  /** Search prompts (local and whole-frame scan) per frame, and the most on one frame. */
  readonly search: { readonly local: number; readonly scan: number; readonly most: number };
}

const { values } = parseArgs({
  args: Deno.args,
  options: {
    seeds: { type: "string" },
    scene: { type: "string", multiple: true, default: [] },
    out: { type: "string" },
    cache: { type: "string" },
    modes: { type: "string", default: "every,auto" },
    concurrency: { type: "string", default: "2" },
  },
});

/** `1-4,9` -> [1, 2, 3, 4, 9]. */
function parseSeeds(spec: string): number[] {
  return spec.split(",").flatMap((part) => {
    const [a, b] = part.split("-").map(Number);
    if (!Number.isInteger(a) || (b !== undefined && !Number.isInteger(b))) {
      throw new Error(`--seeds: "${part}" is not a seed or a range`);
    }
    return b === undefined ? [a] : Array.from({ length: b - a + 1 }, (_, k) => a + k);
  });
}

/** The directory of seed `seed`'s scene, made (or made again, if the generator changed). */
async function sceneOfSeed(seed: number, cache: string): Promise<string> {
  const scene = seededScene(seed);
  const dir = `${cache}/${scene.name}`;
  const description = JSON.stringify(scene);
  const made = await Deno.readTextFile(`${dir}/scene.json`).catch(() => "");
  if (made !== description) {
    await generateSample(scene, cache);
    await Deno.writeTextFile(`${dir}/scene.json`, description);
  }
  return dir;
}

/** Per-object series of a scene directory: from `truth.json`, or from its label maps. */
async function sceneSeries(
  dir: string,
  promptFrames: ReadonlyMap<number, number>,
): Promise<ObjectSeries[]> {
  const text = await Deno.readTextFile(`${dir}/truth.json`).catch(() => undefined);
  if (text !== undefined) {
    const truth = parseSceneTruth(text, `${dir}/truth.json`);
    return truth.objects.map((o) => seriesFromTruth(o, promptFrames.get(o.id) ?? 0));
  }
  const visible = new Map<number, number[]>();
  const centre = new Map<number, [number, number][]>();
  let frames = 0;
  for await (const gt of readGroundTruth(`${dir}/gt`)) {
    frames = gt.frameIndex + 1;
    for (const [id, mask] of gt.masks) {
      let n = 0, sx = 0, sy = 0;
      mask.forEach((v, i) => {
        if (v === 0) return;
        n++;
        sx += i % gt.width;
        sy += Math.floor(i / gt.width);
      });
      if (!visible.has(id)) visible.set(id, []), centre.set(id, []);
      visible.get(id)![gt.frameIndex] = n;
      centre.get(id)![gt.frameIndex] = [sx / n, sy / n];
    }
  }
  return [...visible.keys()].map((id) => {
    const areas = Array.from({ length: frames }, (_, t) => visible.get(id)![t] ?? 0);
    const largest = Math.max(...areas);
    return {
      id,
      visibleArea: areas,
      area: areas.map(() => largest),
      centre: Array.from({ length: frames }, (_, t) => centre.get(id)![t] ?? [NaN, NaN]),
      promptFrame: promptFrames.get(id) ?? 0,
    };
  });
}

/** Tracks one scene in one mode through the real pipeline and scores it. */
async function trackScene(dir: string, mode: Mode, keep: string | undefined): Promise<SceneResult> {
  const name = dir.replace(/\/+$/, "").split("/").pop()!;
  const source = parseInputSource(`${dir}/video.mp4`);
  const info = await probeVideo(source);
  const prompts = resolvePrompts(await readPromptsFile(`${dir}/prompts.json`), info);
  const out = keep ? `${keep}/${name}` : await Deno.makeTempDir({ prefix: `suite_${name}_` });
  const masksDir = `${out}/${mode === "every" ? "masks" : "masks_stride_auto"}`;
  await Deno.mkdir(out, { recursive: true });
  await Deno.remove(masksDir, { recursive: true }).catch(() => {});
  const segmenter = new RegionGrowingSegmenter();
  let encodedFrames = info.frameCount ?? 0;
  const search = { local: 0, scan: 0, most: 0 };
  const onSearch = (_frame: number, spent: { local: number; scan: number }) => {
    search.local += spent.local;
    search.scan += spent.scan;
    search.most = Math.max(search.most, spent.local + spent.scan);
  };
  try {
    await lastValueFrom(
      segmentVideo({
        source,
        info,
        segmentation: trackObjects(
          segmenter,
          prompts,
          mode === "auto"
            ? {
              keyframes: { policy: adaptiveKeyframes(), refine: "sync" },
              onKeyframeCounts: (counts) => encodedFrames = counts.encoded,
              onSearch,
            }
            : { onSearch },
        ),
        target: parseOutputTarget(
          `${out}/${mode === "every" ? "overlay.mp4" : "overlay_stride_auto.mp4"}`,
        ),
        preset: "ultrafast",
        masksDir,
        stats: new StreamStats(),
      }),
      { defaultValue: undefined },
    );
    const report = await evaluateMasks(masksDir, `${dir}/gt`);
    const promptFrames = new Map<number, number>();
    for (const p of prompts) {
      const frame = "frame" in p.at ? p.at.frame : 0;
      promptFrames.set(p.objectId, Math.min(frame, promptFrames.get(p.objectId) ?? Infinity));
    }
    const series = await sceneSeries(dir, promptFrames);
    const categories = new Map<number, Set<SceneCategory>>();
    const gone: Disappearance[] = [];
    for (const s of series) {
      const scores = report.objects.find((o) => o.id === s.id);
      const j = Array.from({ length: report.frames }, () => 0);
      for (const f of scores?.perFrame ?? []) j[f.frame] = f.j;
      const own = disappearances(s, j);
      gone.push(...own);
      categories.set(s.id, objectCategories(s, own, series.filter((o) => o !== s)));
    }
    return {
      name,
      report,
      categories,
      gone,
      encodedFrames,
      promptsPerFrame: segmenter.calls.prompts / report.frames,
      search: {
        local: search.local / report.frames,
        scan: search.scan / report.frames,
        most: search.most,
      },
    };
  } finally {
    if (!keep) await Deno.remove(out, { recursive: true });
  }
}

/** Runs `work` over `items`, `concurrency` at a time, keeping the items' order in the results. */
async function pooled<T, R>(
  items: readonly T[],
  concurrency: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const runner = async () => {
    while (next < items.length) {
      const k = next++;
      results[k] = await work(items[k]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, runner));
  return results;
}

function bucketLine(delays: readonly (number | undefined)[]): string {
  const cells = DELAY_BUCKETS.map(([lo, hi]) => {
    const n = delays.filter((d) => d !== undefined && d >= lo && d <= hi).length;
    return `${hi === Infinity ? `>${lo - 1}` : lo === hi ? `${lo}` : `${lo}-${hi}`}: ${n}`;
  });
  cells.push(`never: ${delays.filter((d) => d === undefined).length}`);
  return cells.join(", ");
}

function summary(mode: Mode, results: readonly SceneResult[]): string {
  const lines: string[] = [];
  const label = mode === "every" ? "every frame encoded" : "--stride auto";
  const mean = results.reduce((s, r) => s + r.report.jfMean, 0) / results.length;
  lines.push(`## ${label}: mean J&F ${mean.toFixed(3)} over ${results.length} scenes`, "");
  lines.push("| scene | objects | J&F | id switches | encoded frames | prompts/frame |");
  lines.push("|---|---|---|---|---|---|");
  for (const r of results) {
    lines.push(
      `| ${r.name} | ${r.report.objects.length} | ${
        r.report.jfMean.toFixed(3)
      } | ${r.report.idSwitches} | ` +
        `${r.encodedFrames}/${r.report.frames} | ${r.promptsPerFrame.toFixed(1)} |`,
    );
  }
  const objects = results.flatMap((r) =>
    r.report.objects.map((scores) => ({
      scores,
      categories: r.categories.get(scores.id) ?? new Set<SceneCategory>(),
    }))
  );
  const means = categoryMeans(objects);
  lines.push("", "| category | objects | J&F |", "|---|---|---|");
  lines.push(
    `| all objects | ${objects.length} | ${
      (objects.reduce((s, o) => s + o.scores.jfMean, 0) / objects.length).toFixed(3)
    } |`,
  );
  for (const category of SCENE_CATEGORIES) {
    const m = means.get(category);
    if (m) lines.push(`| ${category} | ${m.objects} | ${m.mean.toFixed(3)} |`);
  }
  const gone = results.flatMap((r) => r.gone.filter((d) => d.halfVisibleAt !== undefined));
  const occlusions = gone.filter((d) => d.kind !== "exit" && d.hiddenFrames > LONG_OCCLUSION);
  const quick = occlusions.filter((d) => d.delay !== undefined && d.delay <= QUICK).length;
  const exits = gone.filter((d) => d.kind === "exit");
  lines.push(
    "",
    `Re-acquisition delay (frames after the object is half visible again):`,
    `- occlusions longer than ${LONG_OCCLUSION} frames (${occlusions.length}): ${
      bucketLine(occlusions.map((d) => d.delay))
    }; within ${QUICK} frames: ${
      occlusions.length ? ((100 * quick) / occlusions.length).toFixed(0) : "-"
    }%`,
    `- exits and re-entries (${exits.length}): ${bucketLine(exits.map((d) => d.delay))}`,
  );
  const slow = results.flatMap((r) =>
    r.gone.filter((d) =>
      d.halfVisibleAt !== undefined && d.hiddenFrames > LONG_OCCLUSION &&
      (d.delay === undefined || d.delay > QUICK)
    ).map((d) =>
      `${r.name} object ${d.objectId} (${d.kind}, ${d.hiddenFrames} frames hidden, half visible ` +
      `at ${d.halfVisibleAt}: ${d.delay === undefined ? "never" : `${d.delay} frames`})`
    )
  );
  lines.push(`- re-acquired later than ${QUICK} frames or never: ${slow.join("; ") || "none"}`);
  const switches = results.filter((r) => r.report.idSwitches > 0);
  lines.push(
    `- identity switches: ${
      switches.length === 0
        ? "none"
        : switches.map((r) =>
          `${r.name} (${
            r.report.objects.filter((o) => o.idSwitches > 0).map((o) =>
              `object ${o.id}: ${o.idSwitches}`
            ).join(", ")
          })`
        ).join("; ")
    }`,
  );
  const perFrame = (f: (r: SceneResult) => number) =>
    (results.reduce((s, r) => s + f(r), 0) / results.length).toFixed(1);
  lines.push(
    `- decoder prompts per frame (mean over scenes): ${
      perFrame((r) => r.promptsPerFrame)
    } in all, ` +
      `of which searching for lost objects ${
        perFrame((r) => r.search.local)
      } near where they were ` +
      `expected and ${
        perFrame((r) => r.search.scan)
      } in the whole-frame scan; most search prompts ` +
      `on one frame: ${Math.max(...results.map((r) => r.search.most))}`,
    "",
  );
  return lines.join("\n");
}

if (import.meta.main) {
  try {
    const modes = values.modes.split(",").map((m) => {
      if (m !== "every" && m !== "auto") throw new Error(`--modes: "${m}" is not every or auto`);
      return m as Mode;
    });
    const seeds = values.seeds !== undefined || values.scene.length === 0
      ? parseSeeds(values.seeds ?? DEFAULT_SEEDS)
      : [];
    const cache = values.cache ??
      `${Deno.env.get("TMPDIR") ?? "/tmp"}/tinysam-scene-suite`;
    await Deno.mkdir(cache, { recursive: true });
    const started = performance.now();
    const dirs = [
      ...(await pooled(seeds, Number(values.concurrency), (seed) => sceneOfSeed(seed, cache))),
      ...values.scene,
    ];
    console.error(
      `${dirs.length} scenes ready in ${((performance.now() - started) / 1000).toFixed(0)} s`,
    );
    for (const mode of modes) {
      const t0 = performance.now();
      const results = await pooled(
        dirs,
        Number(values.concurrency),
        (dir) => trackScene(dir, mode, values.out),
      );
      console.log(summary(mode, results));
      console.error(`${mode}: ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    }
  } catch (error) {
    console.error(`suite: ${(error as Error).message.split("\n")[0]}`);
    Deno.exit(1);
  }
}
