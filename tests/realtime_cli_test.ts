/**
 * The real-time flags of `deno task segment`: parsing and their one-line usage errors, the
 * defaults for files and live inputs, and runs with keyframes on the fixture model (a file with
 * `--stride auto`, and a real-time-paced live pipe) reporting the keyframes they chose.
 */
import assert from "node:assert/strict";
import { parseSegmentArgs, type SegmentArgs, UsageError } from "../src/cli/args.ts";
import { resolveRealtime } from "../src/cli/realtime_args.ts";
import { CACHE_DIR_ENV, localModelName } from "../src/model/model_cache.ts";
import { sha256File } from "../src/model/sha256_file.ts";
import { isRecord, LineWatcher } from "./helpers/lines.ts";
import { FIXTURE_DIR, sharedAvailable } from "./helpers/shared.ts";
import {
  countDecodableFrames,
  exists,
  REPO_DIR,
  runSegmentCli,
  SEGMENT_CLI,
} from "./helpers/video.ts";

const CHECKPOINT = `${FIXTURE_DIR}/tinysam_random.pth`;
const SAMPLE = `${REPO_DIR}/samples/occlusion`;
const base = ["--input", "in.mp4", "--output", "out.mp4", "--point", "10,10"];

function realtimeOf(argv: string[]) {
  return (parseSegmentArgs([...base, ...argv]) as SegmentArgs).realtime;
}

Deno.test("--stride, --refine, --latency-target, --encoder-workers and --preset are parsed", () => {
  assert.deepEqual(realtimeOf([]), {});
  assert.deepEqual(realtimeOf(["--stride", "auto"]), { stride: "auto" });
  assert.deepEqual(realtimeOf(["--stride", "4", "--refine", "async"]), {
    stride: 4,
    refine: "async",
  });
  assert.deepEqual(
    realtimeOf(["--latency-target", "200", "--encoder-workers", "2", "--preset", "ultrafast"]),
    { latencyTargetMs: 200, encoderWorkers: 2, preset: "ultrafast" },
  );
});

for (
  const [argv, message] of [
    [["--stride", "0"], /^--stride must be a positive integer or "auto" \(got "0"\)$/],
    [["--stride", "fast"], /^--stride must be a positive integer or "auto"/],
    [["--refine", "later"], /^--refine must be sync or async/],
    [["--refine", "async", "--stride", "1"], /^--refine async needs keyframes/],
    [["--latency-target", "-5"], /--latency-target/],
    [["--encoder-workers", "0"], /^--encoder-workers must be a positive integer/],
    [["--preset", "warp"], /^--preset must be one of ultrafast, /],
  ] as const
) {
  Deno.test(`usage error for ${argv.join(" ")} names the flag in one line`, () => {
    assert.throws(
      () => parseSegmentArgs([...base, ...argv]),
      (error: unknown) =>
        error instanceof UsageError && message.test(error.message) && !error.message.includes("\n"),
    );
  });
}

Deno.test("defaults: files encode every frame synchronously; live inputs use auto keyframes, async, 250 ms, ultrafast", () => {
  assert.deepEqual(resolveRealtime({}, false), { stride: 1, refine: "sync", encoderWorkers: 0 });
  assert.equal(resolveRealtime({ encoderWorkers: 2 }, false).encoderWorkers, 2);
  assert.deepEqual(resolveRealtime({}, true), {
    stride: "auto",
    refine: "async",
    latencyTargetMs: 250,
    encoderWorkers: 1,
    preset: "ultrafast",
  });
  assert.deepEqual(resolveRealtime({ stride: 1 }, true).refine, "sync");
  assert.equal(resolveRealtime({ stride: 1 }, true).encoderWorkers, 1, "live: never in-thread");
  assert.deepEqual(resolveRealtime({ stride: "auto", refine: "sync" }, true).refine, "sync");
  assert.throws(() => resolveRealtime({ latencyTargetMs: 100 }, false), /applies to live inputs/);
});

Deno.test("--latency-target on a file input is a usage error: one line, exit 2, no output", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const result = await runSegmentCli([
      "--input",
      `${SAMPLE}/video.mp4`,
      "--point",
      "150,153",
      "--latency-target",
      "200",
      "--output",
      `${dir}/out.mp4`,
    ]);
    assert.equal(result.code, 2, result.stderr);
    assert.equal(result.stderrLines.length, 1, result.stderr);
    assert.match(result.stderrLines[0], /--latency-target applies to live inputs/);
    assert.equal(await exists(`${dir}/out.mp4`), false);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "a file with --stride auto on the fixture model encodes some frames only and reports them",
  ignore: !sharedAvailable,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      const result = await runSegmentCli([
        "--input",
        `${SAMPLE}/video.mp4`,
        "--point",
        "150,153",
        "--max-frames",
        "30",
        "--checkpoint",
        CHECKPOINT,
        "--stride",
        "auto",
        "--masks-json",
        `${dir}/masks.jsonl`,
        "--output",
        `${dir}/out.mp4`,
        "--progress",
        "json",
      ]);
      assert.equal(result.code, 0, result.stderr);
      const records = result.stderrLines.map((line) => JSON.parse(line));
      const keyframes = records.find((r) => r.event === "keyframes");
      assert.ok(keyframes, result.stderr);
      assert.equal(keyframes.policy, "auto");
      assert.equal(keyframes.refine, "sync");
      assert.equal(keyframes.frames, 30);
      assert.ok(keyframes.encoded >= 1 && keyframes.encoded < 30, result.stderr);
      assert.equal(records.at(-1).event, "stats");
      assert.equal(await countDecodableFrames(`${dir}/out.mp4`), 30);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

/** A 480x270 30 fps test pattern as a NUT stream of `frames` frames, made ahead (not paced). */
async function testPatternStream(frames: number): Promise<Uint8Array> {
  const output = await new Deno.Command("ffmpeg", {
    args: [
      ...["-hide_banner", "-loglevel", "error", "-nostdin", "-f", "lavfi"],
      ...["-i", `testsrc2=size=480x270:rate=30:duration=${frames / 30}`, "-f", "nut", "pipe:1"],
    ],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  assert.ok(output.success, "ffmpeg made the test pattern");
  return output.stdout;
}

/** Starts `segment` on a live stdin, with `--progress json`, watching its stderr. */
function spawnLiveSegment(args: readonly string[], env: Record<string, string> = {}) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", SEGMENT_CLI, "--input", "-", "--live", "--progress", "json", ...args],
    cwd: REPO_DIR,
    env,
    stdin: "piped",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  return { child, stderr: new LineWatcher(child.stderr) };
}

function records(lines: readonly string[]): Record<string, unknown>[] {
  return lines.filter((line) => line.startsWith("{")).map((line) => JSON.parse(line));
}

Deno.test({
  name:
    "a live pipe runs auto keyframes refined asynchronously; unmasked and keyframe counts agree",
  ignore: !sharedAvailable,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      const stream = await testPatternStream(120);
      const { child, stderr } = spawnLiveSegment([
        ...["--checkpoint", CHECKPOINT, "--point", "240,135", "--output", `${dir}/live.mkv`],
      ]);
      const stdin = child.stdin.getWriter();
      // The first half may go out without masks (the model is still opening); the second half is
      // sent once the model is open, paced, so some frames are surely tracked.
      const half = Math.floor(stream.length / 2);
      await stdin.write(stream.subarray(0, half));
      await stderr.waitFor((line) => isRecord(line, "model-open"), "a model-open record");
      const chunk = Math.ceil((stream.length - half) / 20);
      for (let offset = half; offset < stream.length; offset += chunk) {
        await stdin.write(stream.subarray(offset, Math.min(stream.length, offset + chunk)));
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await stdin.close();
      const status = await child.status;
      await stderr.ended;
      const all = records(stderr.lines);
      assert.equal(status.code, 0, stderr.lines.join("\n"));
      const keyframes = all.find((r) => r.event === "keyframes")!;
      assert.ok(keyframes, stderr.lines.join("\n"));
      assert.equal(keyframes.policy, "auto (latency target 250 ms)");
      assert.equal(keyframes.refine, "async");
      assert.ok((keyframes.encoded as number) >= 1, "frames came after the model was open");
      assert.ok((keyframes.encodedPerSecond as number) > 0);
      assert.ok(Number.isInteger(keyframes.minInterval));
      const stats = all.at(-1)!;
      assert.equal(stats.event, "stats");
      assert.equal(stats.framesRead, 120);
      assert.equal((stats.framesOutput as number) + (stats.framesDropped as number), 120);
      const open = all.find((r) => r.event === "model-open")!;
      assert.equal(stats.framesUnmasked, open.framesBefore);
      assert.equal(
        (keyframes.frames as number) + (stats.framesUnmasked as number),
        stats.framesOutput,
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "Ctrl-C on a live run while its model is still loading: the run waits for it, exit 130",
  ignore: !sharedAvailable,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      // The model is held in preparation: its cache entry is locked, as by another process building
      // it, until the test removes the lock. The interrupt lands while the run waits there.
      const cache = `${dir}/cache`;
      await Deno.mkdir(cache);
      const lock = `${cache}/${localModelName(await sha256File(CHECKPOINT))}.lock`;
      const owner = { pid: Deno.pid, hostname: Deno.hostname(), since: new Date().toISOString() };
      await Deno.writeTextFile(lock, JSON.stringify(owner));
      const output = `${dir}/live.mkv`;
      const { child, stderr } = spawnLiveSegment(
        [
          "--checkpoint",
          CHECKPOINT,
          "--precision",
          "fp32",
          "--point",
          "240,135",
          "--output",
          output,
        ],
        { [CACHE_DIR_ENV]: cache },
      );
      const source = new Deno.Command("ffmpeg", {
        args: [
          ...["-hide_banner", "-loglevel", "error", "-nostdin", "-re", "-f", "lavfi", "-i"],
          ...["testsrc2=size=480x270:rate=30:duration=60", "-f", "nut", "pipe:1"],
        ],
        stdout: "piped",
        stderr: "null",
      }).spawn();
      const feeding = source.stdout.pipeTo(child.stdin).catch(
        () => {/* the run stopped reading */},
      );
      await stderr.waitFor(
        (line) => isRecord(line, "model", (r) => /^waiting for process /.test(String(r.message))),
        "the model waiting for the locked cache entry",
      );
      child.kill("SIGINT");
      await stderr.waitFor(
        (line) => /waiting for the model to finish loading/.test(line),
        "the run waiting for its model after the interrupt",
      );
      await Deno.remove(lock);
      const status = await child.status;
      source.kill("SIGKILL");
      await Promise.all([source.status, feeding, stderr.ended]);
      assert.equal(status.code, 130, stderr.lines.join("\n"));
      assert.ok(stderr.lines.some((line) => /interrupted: outputs finalized/.test(line)));
      assert.ok(!stderr.lines.some((line) => isRecord(line, "model-open")));
      if (await exists(output)) assert.ok(await countDecodableFrames(output) >= 1);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
