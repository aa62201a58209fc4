/**
 * Live keep-up benchmark: the real `segment` command on paced live sources (ffmpeg `-re` into
 * `--input - --live`), int8 graphs of the fixture checkpoint, printing per run the frames out and
 * dropped, frames out before the model was open, the time to model open, encoder runs per second
 * once it was open, capture-to-output latency p95, everything passes (how late they started, how
 * many scheduled ones were skipped because the one before was still running, frames each took),
 * and the segment process's resident memory, sampled every 10 s (peak, and the samples).
 *
 * Scenarios (`--only NAME` picks one; `--repeat N` repeats each, default 1):
 * - `720p`: testsrc2 1280x720 at 30 fps for 20 s, one point;
 * - `720p-5`: the same with five points;
 * - `cups`: ../shared/clips/02_cups.mp4 paced with -re, one point;
 * - `cups-5`: the same with five points;
 * - `long`: testsrc2 640x360 at 30 fps for 180 s, one point, `--everything-every 90`.
 *
 *   deno run -A tests/bench/live_bench.ts [--only 720p] [--repeat 3]
 *
 * Not a `Deno.bench` file: each run takes as long as its stream. Skipped (exit 0) without
 * ../shared.
 * @module
 */
import { parseArgs } from "node:util";
import { ensureModel } from "../../src/model/model_cache.ts";
import { CLIPS_DIR, FIXTURE_DIR, sharedAvailable } from "../helpers/shared.ts";
import { REPO_DIR, SEGMENT_CLI } from "../helpers/video.ts";

const CHECKPOINT = `${FIXTURE_DIR}/tinysam_random.pth`;
const POINTS_720 = ["640,360", "320,240", "960,240", "400,560", "880,560"];
const RSS_SAMPLE_MS = 10_000;

interface Scenario {
  readonly name: string;
  /** ffmpeg input arguments of the paced source. */
  readonly source: readonly string[];
  readonly points: readonly string[];
  readonly extra?: readonly string[];
}

const SCENARIOS: readonly Scenario[] = [
  {
    name: "720p",
    source: ["-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30", "-t", "20"],
    points: POINTS_720.slice(0, 1),
  },
  {
    name: "720p-5",
    source: ["-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30", "-t", "20"],
    points: POINTS_720,
  },
  {
    name: "cups",
    source: ["-i", `${CLIPS_DIR}/02_cups.mp4`, "-an"],
    points: POINTS_720.slice(0, 1),
  },
  { name: "cups-5", source: ["-i", `${CLIPS_DIR}/02_cups.mp4`, "-an"], points: POINTS_720 },
  {
    name: "long",
    source: ["-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30", "-t", "180"],
    points: ["320,180"],
    extra: ["--everything-every", "90"],
  },
];

interface Result {
  readonly name: string;
  readonly framesRead: number;
  readonly framesOutput: number;
  readonly framesDropped: number;
  readonly framesUnmasked: number;
  readonly modelOpenSeconds?: number;
  readonly encoded: number;
  readonly encodedPerSecond: number;
  readonly latencyP95Ms?: number;
  readonly discoveryPasses: number;
  readonly maxDiscoveryDelay: number;
  readonly discoverySkipped: number;
  readonly meanDiscoveryFrames: number;
  readonly rssMb: readonly number[];
}

function rssMb(pid: number): number | undefined {
  try {
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]);
    return Number.isFinite(kb) ? Math.round(kb / 1024) : undefined;
  } catch {
    return undefined;
  }
}

async function measure(scenario: Scenario, dir: string): Promise<Result> {
  const source = new Deno.Command("ffmpeg", {
    args: [
      "-hide_banner",
      "-loglevel",
      "error",
      "-nostdin",
      "-re",
      ...scenario.source,
      "-f",
      "nut",
      "-",
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const segment = new Deno.Command(Deno.execPath(), {
    args: [
      ...["run", "-A", SEGMENT_CLI, "--input", "-", "--live", "--checkpoint", CHECKPOINT],
      ...["--precision", "int8", ...scenario.points.flatMap((p) => ["--point", p])],
      ...(scenario.extra ?? []),
      ...["--output", `${dir}/${scenario.name}.mkv`, "--progress", "json"],
    ],
    cwd: REPO_DIR,
    stdin: "piped",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const feeding = source.stdout.pipeTo(segment.stdin).catch(() => {});
  const samples: number[] = [];
  const sampler = setInterval(() => {
    const mb = rssMb(segment.pid);
    if (mb !== undefined) samples.push(mb);
  }, RSS_SAMPLE_MS);
  const stderr = new Response(segment.stderr).text();
  const status = await segment.status;
  clearInterval(sampler);
  await Promise.all([source.status, feeding]);
  const text = await stderr;
  if (!status.success) throw new Error(`${scenario.name} failed:\n${text}`);
  const records = text.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
  const stats = records.find((r) => r.event === "stats");
  const keyframes = records.find((r) => r.event === "keyframes") ?? {};
  const open = records.find((r) => r.event === "model-open");
  return {
    name: scenario.name,
    framesRead: stats.framesRead,
    framesOutput: stats.framesOutput,
    framesDropped: stats.framesDropped,
    framesUnmasked: stats.framesUnmasked,
    modelOpenSeconds: open?.seconds,
    encoded: keyframes.encoded ?? 0,
    encodedPerSecond: keyframes.encodedPerSecond ?? 0,
    latencyP95Ms: stats.latencyP95Ms,
    discoveryPasses: keyframes.discoveryPasses ?? 0,
    maxDiscoveryDelay: keyframes.maxDiscoveryDelay ?? 0,
    discoverySkipped: keyframes.discoverySkipped ?? 0,
    meanDiscoveryFrames: keyframes.meanDiscoveryFrames ?? 0,
    rssMb: samples,
  };
}

function row(r: Result): string {
  const cells = [
    r.name,
    `${r.framesOutput}/${r.framesRead}`,
    String(r.framesDropped),
    String(r.framesUnmasked),
    r.modelOpenSeconds?.toFixed(2) ?? "-",
    String(r.encoded),
    r.encodedPerSecond.toFixed(2),
    r.latencyP95Ms?.toFixed(0) ?? "-",
    r.discoveryPasses > 0
      ? `${r.discoveryPasses} (late <= ${r.maxDiscoveryDelay}, ${r.discoverySkipped} skipped, ` +
        `${r.meanDiscoveryFrames.toFixed(0)} frames each)`
      : "-",
    r.rssMb.length > 0 ? String(Math.max(...r.rssMb)) : "-",
    r.rssMb.join(" "),
  ];
  return `| ${cells.join(" | ")} |`;
}

if (import.meta.main) {
  if (!sharedAvailable) {
    console.log("live bench: ../shared is absent (fixture checkpoint, clips): skipped");
    Deno.exit(0);
  }
  const { values } = parseArgs({
    args: Deno.args,
    options: { only: { type: "string" }, repeat: { type: "string", default: "1" } },
  });
  const chosen = SCENARIOS.filter((s) => !values.only || s.name === values.only);
  if (chosen.length === 0) throw new Error(`unknown scenario ${values.only}`);
  // Graphs built ahead, so that no run pays for building them.
  await ensureModel({ checkpoint: CHECKPOINT }, { precision: "int8" });
  const dir = await Deno.makeTempDir();
  try {
    console.log(
      "| run | frames out/read | dropped | unmasked | model open s | encoder runs | runs/s open | p95 ms | everything passes | peak RSS MB | RSS every 10 s (MB) |",
    );
    console.log("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    for (const scenario of chosen) {
      for (let i = 0; i < Number(values.repeat); i++) {
        console.log(row(await measure(scenario, dir)));
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
