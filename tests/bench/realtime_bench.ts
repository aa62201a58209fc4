/**
 * Real-time benchmark: the real `segment` command on ../shared/clips/02_cups.mp4 (1280x720,
 * 29.97 fps) with the fixture checkpoint, read as a file (pulled as fast as the pipeline goes)
 * and as a live stream paced in real time (`ffmpeg -re -i 02_cups.mp4 -f nut - | segment --input -
 * --live`), for 1 and 5 objects, fp32 and int8, every frame encoded (stride 1) against the chosen
 * keyframes (auto; refined synchronously for files, asynchronously live), all in one run. Per run:
 * frames out and dropped, steady fps, capture-to-output latency p50/p95, frames encoded, the busy
 * share of each core (/proc/stat), and for keyframe runs the mean mask IoU against the stride-1
 * run of the same source where both drew the object, and how often both drew it (random weights:
 * reported, not tuned to).
 *
 * Not a `Deno.bench` file (it prints its own table and takes minutes): run it with
 * `deno run -A tests/bench/realtime_bench.ts [--frames 90] [--live-frames 300] [--only file|live]`
 * on a quiet machine; `--only quality` compares stride 1 with auto keyframes on each real clip
 * instead (mask IoU where both drew the object).
 * Skipped (exit 0) without ../shared.
 * @module
 */
import { parseArgs } from "node:util";
import { readMasksJsonl } from "../../src/export/masks_jsonl.ts";
import { ensureModel } from "../../src/model/model_cache.ts";
import type { BinaryMask } from "../../src/segment/mask.ts";
import { CLIPS_DIR, FIXTURE_DIR, sharedAvailable } from "../helpers/shared.ts";
import { REPO_DIR, SEGMENT_CLI } from "../helpers/video.ts";

const CLIP = `${CLIPS_DIR}/02_cups.mp4`;
const CHECKPOINT = `${FIXTURE_DIR}/tinysam_random.pth`;
/** The first second of a live run is start-up, counted apart. */
const STARTUP_SECONDS = 1;
/** Prompt points for 5 objects spread over the 1280x720 frame (the first one alone for 1). */
const POINTS = ["640,360", "320,240", "960,240", "400,560", "880,560"];

interface Run {
  /** A clip of ../shared/clips (default 02_cups.mp4). */
  readonly clip?: string;
  readonly source: "file" | "live";
  readonly objects: 1 | 5;
  readonly precision: "fp32" | "int8";
  readonly stride: "1" | "auto";
}

interface Result extends Run {
  readonly framesRead: number;
  readonly framesOutput: number;
  readonly framesDropped: number;
  /** Frames dropped after the first second (start-up: probing, loading the model, spawning). */
  readonly droppedAfterStart: number;
  readonly fps: number;
  readonly latencyP50Ms?: number;
  readonly latencyP95Ms?: number;
  readonly encoded?: number;
  readonly refine?: string;
  readonly minInterval?: number;
  readonly cpuBusy: readonly number[];
  readonly masks: string;
  comparison?: Comparison;
}

/** How a keyframe run's masks compare with the stride-1 run's on the frames both output. */
interface Comparison {
  /** Mean IoU over (frame, object) pairs where both runs drew the object. */
  readonly iouBothDrawn: number;
  /** Share of (frame, object) pairs, drawn by either run, that both drew. */
  readonly bothDrawnShare: number;
}

/** Busy and total jiffies per core from /proc/stat. */
function coreTimes(): { busy: number; total: number }[] {
  return Deno.readTextFileSync("/proc/stat").split("\n")
    .filter((line) => /^cpu\d+ /.test(line))
    .map((line) => {
      const v = line.trim().split(/\s+/).slice(1).map(Number);
      const total = v.reduce((a, b) => a + b, 0);
      return { busy: total - v[3] - v[4], total };
    });
}

function commandFor(run: Run, frames: number, outDir: string, masks: string): string[] {
  const clip = run.clip ? `${CLIPS_DIR}/${run.clip}` : CLIP;
  const points = run.clip
    ? ["--point", "W/2,H/2"]
    : POINTS.slice(0, run.objects).flatMap((p) => ["--point", p]);
  const common = [
    "--checkpoint",
    CHECKPOINT,
    "--precision",
    run.precision,
    ...points,
    "--stride",
    run.stride,
    "--masks-json",
    masks,
    "--output",
    `${outDir}/out.mkv`,
    "--progress",
    "json",
  ];
  const deno = `"${Deno.execPath()}" run -A "${SEGMENT_CLI}"`;
  if (run.source === "file") {
    return [`${deno} --input "${clip}" --max-frames ${frames} ${common.join(" ")}`];
  }
  // 02_cups is 29.97 fps: `-t` covers `frames` frames.
  const seconds = (frames / 29.97).toFixed(3);
  return [
    `ffmpeg -hide_banner -loglevel error -nostdin -re -i "${CLIP}" -t ${seconds} -an -f nut - |`,
    `${deno} --input - --live ${common.join(" ")}`,
  ];
}

async function measure(
  run: Run,
  frames: number,
  outDir: string,
  centre?: string,
): Promise<Result> {
  const masks = `${outDir}/${
    run.clip ?? "cups"
  }-${run.source}-${run.objects}-${run.precision}-${run.stride}.jsonl`;
  const before = coreTimes();
  const output = await new Deno.Command("bash", {
    args: [
      "-o",
      "pipefail",
      "-c",
      commandFor(run, frames, outDir, masks).join(" ").replace("W/2,H/2", centre ?? ""),
    ],
    cwd: REPO_DIR,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output();
  const after = coreTimes();
  const stderr = new TextDecoder().decode(output.stderr);
  if (!output.success) throw new Error(`run ${JSON.stringify(run)} failed:\n${stderr}`);
  const records = stderr.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
  const stats = records.find((r) => r.event === "stats");
  const keyframes = records.find((r) => r.event === "keyframes");
  // Steady fps: from the first progress record with frames out to the end (model loading and the
  // first frame's start-up are left out).
  const progress = records.filter((r) => r.event === "progress" || r.event === "end");
  const first = progress.find((r) => r.frames > 0);
  const last = progress.at(-1);
  const fps = first && last && last.elapsedSeconds > first.elapsedSeconds
    ? (last.frames - first.frames) / (last.elapsedSeconds - first.elapsedSeconds)
    : stats.framesOutput / stats.seconds;
  const indices: number[] = [];
  for await (const frame of readMasksJsonl(masks)) indices.push(frame.frameIndex);
  const start = Math.round(STARTUP_SECONDS * 29.97);
  let droppedAfterStart = 0;
  for (let k = 1; k < indices.length; k++) {
    if (indices[k] > start) droppedAfterStart += indices[k] - Math.max(indices[k - 1], start) - 1;
  }
  if (indices.length > 0) droppedAfterStart += stats.framesRead - 1 - indices.at(-1)!;
  return {
    ...run,
    droppedAfterStart,
    framesRead: stats.framesRead,
    framesOutput: stats.framesOutput,
    framesDropped: stats.framesDropped,
    fps,
    latencyP50Ms: stats.latencyP50Ms,
    latencyP95Ms: stats.latencyP95Ms,
    encoded: keyframes?.encoded,
    refine: keyframes?.refine,
    minInterval: keyframes?.minInterval,
    cpuBusy: after.map((t, i) =>
      (t.busy - before[i].busy) / Math.max(1, t.total - before[i].total)
    ),
    masks,
  };
}

async function framesOf(path: string): Promise<Map<number, Map<number, BinaryMask>>> {
  const frames = new Map<number, Map<number, BinaryMask>>();
  for await (const masks of readMasksJsonl(path)) {
    frames.set(masks.frameIndex, new Map(masks.objects.map((o) => [o.id, o.mask])));
  }
  return frames;
}

function iou(a: BinaryMask | undefined, b: BinaryMask | undefined): number {
  if (!a && !b) return 1;
  if (!a || !b) return 0;
  let inter = 0, union = 0;
  for (let i = 0; i < a.data.length; i++) {
    const p = a.data[i] !== 0, q = b.data[i] !== 0;
    if (p && q) inter++;
    if (p || q) union++;
  }
  return union > 0 ? inter / union : 1;
}

/** Compares the masks of the frames both runs output. */
async function compare(reference: string, other: string): Promise<Comparison> {
  const a = await framesOf(reference), b = await framesOf(other);
  let sum = 0, both = 0, either = 0;
  for (const [frame, objects] of b) {
    const ref = a.get(frame);
    if (!ref) continue;
    for (const id of new Set([...ref.keys(), ...objects.keys()])) {
      either++;
      if (!ref.has(id) || !objects.has(id)) continue;
      sum += iou(ref.get(id), objects.get(id));
      both++;
    }
  }
  return {
    iouBothDrawn: both > 0 ? sum / both : NaN,
    bothDrawnShare: either > 0 ? both / either : NaN,
  };
}

function cell(value: number | undefined, digits = 0): string {
  return value === undefined || Number.isNaN(value) ? "-" : value.toFixed(digits);
}

function table(results: readonly Result[]): string {
  const header = [
    "source",
    "obj",
    "prec",
    "stride",
    "refine",
    "out",
    "dropped (after 1 s)",
    "fps",
    "lat p50 ms",
    "lat p95 ms",
    "encoded",
    "cpu0 %",
    "cpu1 %",
    "IoU vs stride 1",
    "both drawn",
  ];
  const rows = results.map((r) => [
    r.source === "file" ? "file" : "live 30p",
    String(r.objects),
    r.precision,
    r.stride === "1" ? "1" : `auto${r.minInterval !== undefined ? ` (min ${r.minInterval})` : ""}`,
    r.refine ?? "-",
    String(r.framesOutput),
    r.source === "live" ? `${r.framesDropped} (${r.droppedAfterStart})` : String(r.framesDropped),
    cell(r.fps, 2),
    cell(r.latencyP50Ms),
    cell(r.latencyP95Ms),
    r.encoded !== undefined ? `${r.encoded}/${r.framesOutput}` : "-",
    ...r.cpuBusy.slice(0, 2).map((v) => cell(100 * v)),
    r.comparison ? cell(r.comparison.iouBothDrawn, 3) : "-",
    r.comparison ? `${cell(100 * r.comparison.bothDrawnShare)}%` : "-",
  ]);
  const lines = [header, header.map(() => "---"), ...rows].map((cols) => `| ${cols.join(" | ")} |`);
  return lines.join("\n");
}

/** Clips compared in `--only quality` runs, with their frame size. */
const QUALITY_CLIPS = [
  ["02_cups.mp4", 1280, 720],
  ["05_default_juggle.mp4", 1280, 720],
  ["bedroom.mp4", 960, 540],
] as const;

/**
 * Mask agreement between every frame encoded and auto keyframes on each real clip (file runs,
 * int8, one object prompted at the frame centre).
 */
async function quality(frames: number, outDir: string): Promise<void> {
  const rows = [
    "| clip | frames | auto encoded | IoU vs stride 1 (both drawn) | both drawn |",
    "| --- | --- | --- | --- | --- |",
  ];
  for (const [clip, width, height] of QUALITY_CLIPS) {
    const run = (stride: "1" | "auto") =>
      measure(
        { clip, source: "file", objects: 1, precision: "int8", stride },
        frames,
        outDir,
        `${Math.floor(width / 2)},${Math.floor(height / 2)}`,
      );
    const every = await run("1");
    const auto = await run("auto");
    const c = await compare(every.masks, auto.masks);
    rows.push(
      `| ${clip} | ${frames} | ${auto.encoded}/${auto.framesOutput} | ${
        cell(c.iouBothDrawn, 3)
      } | ${cell(100 * c.bothDrawnShare)}% |`,
    );
    console.error(rows.at(-1));
  }
  console.log(`\nmask agreement, int8, one object at the centre, file runs\n\n${rows.join("\n")}`);
}

async function main(): Promise<void> {
  if (!sharedAvailable) {
    console.log("realtime bench skipped: ../shared (clips, fixture checkpoint) is absent");
    return;
  }
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      frames: { type: "string" },
      "live-frames": { type: "string" },
      only: { type: "string" },
    },
  });
  const frames = Number(values.frames ?? 90);
  // Live runs last longer: their first second (probing, loading the model) is not steady state.
  const liveFrames = Number(values["live-frames"] ?? 300);
  // Build the graphs first so that no run includes a build.
  for (const precision of ["fp32", "int8"] as const) {
    await ensureModel({ checkpoint: CHECKPOINT }, { precision });
  }
  const outDir = await Deno.makeTempDir({ prefix: "realtime_bench_" });
  const results: Result[] = [];
  const started = new Date();
  if (values.only === "quality") {
    try {
      await quality(frames, outDir);
    } finally {
      await Deno.remove(outDir, { recursive: true });
    }
    return;
  }
  try {
    for (const source of ["file", "live"] as const) {
      if (values.only && values.only !== source) continue;
      for (const objects of [1, 5] as const) {
        for (const precision of ["fp32", "int8"] as const) {
          let reference: Result | undefined;
          for (const stride of ["1", "auto"] as const) {
            const result = await measure(
              { source, objects, precision, stride },
              source === "live" ? liveFrames : frames,
              outDir,
            );
            if (stride === "1") reference = result;
            else if (reference) result.comparison = await compare(reference.masks, result.masks);
            results.push(result);
            console.error(table([result]).split("\n").at(-1));
          }
        }
      }
    }
  } finally {
    await Deno.remove(outDir, { recursive: true });
  }
  const cores = coreTimes().length;
  const memory = Deno.systemMemoryInfo();
  console.log(
    `\nrealtime bench, ${started.toISOString()}: ${cores} cores, ${
      (memory.total / 2 ** 30).toFixed(0)
    } GiB; 02_cups.mp4 (1280x720, 29.97 fps): files ${frames} frames per run, live ${liveFrames} frames (${
      (liveFrames / 29.97).toFixed(1)
    } s) per run; fixture checkpoint (random weights)\n`,
  );
  console.log(table(results));
}

if (import.meta.main) await main();
