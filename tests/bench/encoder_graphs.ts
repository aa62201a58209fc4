/**
 * The graphs of today against the graphs of the commit issue 15 started from, in one process.
 *
 * Builds the issue-start graphs from a temporary git worktree of that commit (its own builder
 * code, imported from the worktree), builds today's from this tree, calibrates both int8
 * encoders on the same frames, then times every graph interleaved (2 threads, one run of each
 * per round, median over the rounds after warm-up). Prints the table, each graph's ratio to the
 * issue-start fp32 encoder (or decoder), and ONNX Runtime's per-op-type profile of today's int8
 * encoder.
 *
 * `deno run -A tests/bench/encoder_graphs.ts [--rounds 12] [--start COMMIT]`
 * @module
 */
import { parseArgs } from "node:util";
import * as ort from "onnxruntime-node";
import { readCheckpoint } from "../../src/model/checkpoint/read_checkpoint.ts";
import { sessionOptions } from "../../src/model/onnx_segmenter.ts";
import type { StateDict } from "../../src/model/tensor.ts";
import { FIXTURE_DIR, sharedAvailable } from "../helpers/shared.ts";

/** The last commit before issue 15 changed any graph. */
const ISSUE_START = "d662b977a6ef7fdba3b38a8f5fb53c77895385bd";
const CHECKPOINT = `${FIXTURE_DIR}/tinysam_random.pth`;
const THREADS = 2;
const REPO = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");

/** What one tree's builder code offers (the same modules at the issue-start commit and now). */
interface Builders {
  encoder(dict: StateDict): Uint8Array;
  decoder(dict: StateDict): Uint8Array;
  int8Encoder(dict: StateDict): Promise<Uint8Array>;
}

async function buildersAt(root: string): Promise<Builders> {
  const graphs = await import(`${root}/src/model/tinysam/graphs.ts`);
  const quantize = await import(`${root}/src/model/quant/quantize_model.ts`);
  const frames = await import(`${root}/src/model/quant/calibration_frames.ts`);
  const cpu = await import(`${root}/src/model/quant/cpu_features.ts`);
  const build = await import(`${root}/src/model/build.ts`);
  return {
    encoder: (dict) => graphs.buildEncoderModel(dict),
    decoder: (dict) => graphs.buildDecoderModel(dict),
    int8Encoder: async (dict) => {
      const calibrationFrames = await frames.sampleCalibrationFrames(
        await frames.defaultCalibrationFiles(),
        build.CALIBRATION_FRAMES,
      );
      const built = await quantize.buildInt8Encoder(dict, {
        calibrationFrames,
        weightLevels: cpu.weightLevelsForThisCpu(),
        threads: THREADS,
      });
      return built.model;
    },
  };
}

async function run(command: string, args: string[]): Promise<void> {
  const { code, stderr } = await new Deno.Command(command, { args, stdout: "null" }).output();
  if (code !== 0) {
    throw new Error(`${command} ${args.join(" ")}: ${new TextDecoder().decode(stderr)}`);
  }
}

/** A detached worktree of `commit` for the duration of `body`. */
async function withWorktree<T>(commit: string, body: (root: string) => Promise<T>): Promise<T> {
  const root = await Deno.makeTempDir({ prefix: "tinysam-issue-start-" });
  await run("git", ["-C", REPO, "worktree", "add", "--detach", root, commit]);
  try {
    return await body(root);
  } finally {
    await run("git", ["-C", REPO, "worktree", "remove", "--force", root]);
  }
}

interface Timed {
  readonly name: string;
  readonly session: ort.InferenceSession;
  readonly feeds: Record<string, ort.Tensor>;
  readonly times: number[];
}

function encoderFeeds(): Record<string, ort.Tensor> {
  const pixels = new Float32Array(3 * 1024 * 1024).map((_, i) => Math.sin(i * 1e-3));
  return { pixels: new ort.Tensor("float32", pixels, [1, 3, 1024, 1024]) };
}

/** One positive point (padded with a "not a point", as the segmenter sends it), no mask input. */
function pointFeeds(session: ort.InferenceSession): Record<string, ort.Tensor> {
  const embedding = new Float32Array(256 * 64 * 64).map((_, i) => Math.sin(i * 1e-3));
  const feeds: Record<string, ort.Tensor> = {
    image_embeddings: new ort.Tensor("float32", embedding, [1, 256, 64, 64]),
    point_coords: new ort.Tensor("float32", Float32Array.of(500, 400, 0, 0), [1, 2, 2]),
    point_labels: new ort.Tensor("float32", Float32Array.of(1, -1), [1, 2]),
    mask_input: new ort.Tensor("float32", new Float32Array(256 * 256), [1, 1, 256, 256]),
    has_mask_input: new ort.Tensor("float32", Float32Array.of(0), [1]),
  };
  return Object.fromEntries(session.inputNames.map((name) => [name, feeds[name]]));
}

async function open(name: string, model: Uint8Array, kind: "encoder" | "decoder"): Promise<Timed> {
  // The segmenter's own options: without spinning threads, so interleaved sessions do not slow
  // each other down.
  const session = await ort.InferenceSession.create(model, sessionOptions(THREADS));
  const feeds = kind === "encoder" ? encoderFeeds() : pointFeeds(session);
  return { name, session, feeds, times: [] };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Kernel time per op type (ms per run) of `model`, from ONNX Runtime's own profiler. */
async function profileByOpType(model: Uint8Array, runs: number): Promise<Map<string, number>> {
  const dir = await Deno.makeTempDir({ prefix: "tinysam-profile-" });
  try {
    const session = await ort.InferenceSession.create(model, {
      ...sessionOptions(THREADS),
      enableProfiling: true,
      profileFilePrefix: `${dir}/encoder`,
    });
    const feeds = encoderFeeds();
    await session.run(feeds); // warm-up, left out below
    for (let i = 0; i < runs; i++) await session.run(feeds);
    session.endProfiling();
    await session.release();
    const [file] = [...Deno.readDirSync(dir)];
    const events = JSON.parse(await Deno.readTextFile(`${dir}/${file.name}`)) as {
      cat: string;
      name: string;
      dur: number;
      args: { op_name?: string };
    }[];
    const kernels = events.filter((e) => e.cat === "Node" && e.name.endsWith("_kernel_time"));
    const perRun = new Map<string, number>();
    const firstRun = new Map<string, number>();
    for (const e of kernels) {
      // The warm-up run is each node's first event.
      if (!firstRun.has(e.name)) {
        firstRun.set(e.name, e.dur);
        continue;
      }
      const op = e.args.op_name ?? "?";
      perRun.set(op, (perRun.get(op) ?? 0) + e.dur / 1000 / runs);
    }
    return perRun;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) {
  if (!sharedAvailable) {
    console.error("skipped: ../shared (the fixture checkpoint) is not beside this checkout");
    Deno.exit(0);
  }
  const { values } = parseArgs({
    args: Deno.args,
    options: { rounds: { type: "string", default: "12" }, start: { type: "string" } },
  });
  const rounds = Number(values.rounds);
  const dict = await readCheckpoint(CHECKPOINT);
  const log = (line: string) => console.error(line);

  log(`building the issue-start graphs (${values.start ?? ISSUE_START})`);
  const start = await withWorktree(values.start ?? ISSUE_START, async (root) => {
    const b = await buildersAt(root);
    return { encoder: b.encoder(dict), decoder: b.decoder(dict), int8: await b.int8Encoder(dict) };
  });
  log("building today's graphs");
  const now = await buildersAt(REPO);
  const today = {
    encoder: now.encoder(dict),
    decoder: now.decoder(dict),
    int8: await now.int8Encoder(dict),
  };

  const encoders = [
    await open("issue-start fp32 encoder", start.encoder, "encoder"),
    await open("issue-start int8 encoder", start.int8, "encoder"),
    await open("fp32 encoder", today.encoder, "encoder"),
    await open("int8 encoder", today.int8, "encoder"),
  ];
  const decoders = [
    await open("issue-start decoder, 1 point", start.decoder, "decoder"),
    await open("decoder, 1 point", today.decoder, "decoder"),
  ];
  const all = [...encoders, ...decoders];
  const interleaved = async (group: Timed[], count: number, what: string) => {
    for (const t of group) await t.session.run(t.feeds); // warm-up
    for (let round = 0; round < count; round++) {
      log(`${what}: round ${round + 1} of ${count}`);
      for (const t of group) {
        const began = performance.now();
        await t.session.run(t.feeds);
        t.times.push(performance.now() - began);
      }
    }
  };
  await interleaved(encoders, rounds, "encoders");
  // Decoders take a tenth of the time: ten times the rounds, in a loop of their own.
  await interleaved(decoders, 10 * rounds, "decoders");

  const table = (group: Timed[]) => {
    const base = median(group[0].times);
    for (const t of group) {
      const m = median(t.times);
      console.log(
        `| ${t.name.padEnd(28)} | ${m.toFixed(1).padStart(7)} ms | ${
          (m / base).toFixed(2).padStart(5)
        }x |`,
      );
    }
  };
  console.log(`\n${rounds} rounds, ${THREADS} threads, median; ratio to the issue-start graph\n`);
  console.log("| graph                        |    median | ratio |");
  console.log("| ---------------------------- | --------- | ----- |");
  table(encoders);
  table(decoders);
  for (const t of all) await t.session.release();

  const profile = await profileByOpType(today.int8, 4);
  const total = [...profile.values()].reduce((a, b) => a + b, 0);
  console.log(`\nint8 encoder, kernel time per run by op type (${total.toFixed(0)} ms in all)\n`);
  console.log("| op | ms | share |\n| --- | --- | --- |");
  for (const [op, ms] of [...profile].sort((a, b) => b[1] - a[1])) {
    if (ms < 0.5) continue;
    console.log(`| ${op} | ${ms.toFixed(1)} | ${(100 * ms / total).toFixed(0)}% |`);
  }
}
