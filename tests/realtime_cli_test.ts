/**
 * The real-time flags of `deno task segment`: parsing and their one-line usage errors, the
 * defaults for files and live inputs, and runs with keyframes on the fixture model (a file with
 * `--stride auto`, and a real-time-paced live pipe) reporting the keyframes they chose.
 */
import assert from "node:assert/strict";
import { parseSegmentArgs, type SegmentArgs, UsageError } from "../src/cli/args.ts";
import { resolveRealtime } from "../src/cli/realtime_args.ts";
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

Deno.test({
  name: "a live pipe paced in real time runs auto keyframes refined asynchronously and says so",
  ignore: !sharedAvailable,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      const command = [
        `ffmpeg -hide_banner -loglevel error -re -f lavfi -i testsrc2=size=480x270:rate=30:duration=4`,
        `-f nut - | "${Deno.execPath()}" run -A "${SEGMENT_CLI}" --input - --live`,
        `--checkpoint "${CHECKPOINT}" --point 240,135 --output "${dir}/live.mkv" --progress json`,
      ].join(" ");
      const output = await new Deno.Command("bash", {
        args: ["-o", "pipefail", "-c", command],
        cwd: REPO_DIR,
        stdout: "null",
        stderr: "piped",
      }).output();
      const stderr = new TextDecoder().decode(output.stderr);
      assert.equal(output.code, 0, stderr);
      const records = stderr.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
      const keyframes = records.find((r) => r.event === "keyframes");
      assert.ok(keyframes, stderr);
      assert.equal(keyframes.policy, "auto (latency target 250 ms)");
      assert.equal(keyframes.refine, "async");
      assert.ok(keyframes.encoded >= 1, stderr);
      assert.ok(Number.isInteger(keyframes.minInterval), stderr);
      const stats = records.at(-1);
      assert.equal(stats.event, "stats");
      assert.equal(stats.framesRead, 120);
      assert.equal(stats.framesOutput + stats.framesDropped, 120);
      assert.equal(keyframes.frames, stats.framesOutput);
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
      // Graphs built ahead: the run then spends about half a second starting the model's workers
      // (onnxruntime initializing its sessions) while frames already go out without masks. An
      // interrupt there must not let the process exit under the workers' feet.
      const env = { TINYSAM_CACHE_DIR: `${dir}/cache` };
      const build = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", `${REPO_DIR}/src/cli/model.ts`, "build", "--checkpoint", CHECKPOINT],
        env,
        stdout: "null",
        stderr: "piped",
      }).output();
      assert.equal(build.code, 0, new TextDecoder().decode(build.stderr));
      // When exactly the workers start varies from run to run: interrupt after several delays,
      // until one interrupt lands before the model is open.
      let landedWhileLoading = 0;
      for (const delayMs of [150, 250, 350, 450, 600]) {
        const output = `${dir}/live_${delayMs}.mkv`;
        const command = [
          `ffmpeg -hide_banner -loglevel error -re -f lavfi -i testsrc2=size=480x270:rate=30:duration=20`,
          `-f nut - | exec "${Deno.execPath()}" run -A "${SEGMENT_CLI}" --input - --live`,
          `--checkpoint "${CHECKPOINT}" --precision fp32 --point 240,135 --output "${output}"`,
          `--progress json`,
        ].join(" ");
        const child = new Deno.Command("bash", {
          args: ["-c", command],
          cwd: REPO_DIR,
          env,
          stdout: "null",
          stderr: "piped",
        }).spawn();
        const stderr = new Response(child.stderr).text();
        await new Promise((resolve) => setTimeout(resolve, delayMs));
        // The segment process: its command line starts with deno (bash's and the encoding
        // ffmpeg's name the output too).
        const pattern = `^${Deno.execPath()} run -A ${SEGMENT_CLI} .*${output}`;
        const pids = new TextDecoder().decode(
          (await new Deno.Command("pgrep", { args: ["-f", pattern] }).output()).stdout,
        ).trim().split("\n").map(Number).filter((pid) => pid > 0);
        assert.equal(pids.length, 1, `segment processes: ${pids}`);
        Deno.kill(pids[0], "SIGINT");
        const status = await child.status;
        const lines = (await stderr).split("\n");
        assert.equal(status.code, 130, `after ${delayMs} ms:\n${lines.join("\n")}`);
        assert.ok(lines.some((line) => /interrupted: outputs finalized/.test(line)));
        if (!lines.some((line) => line.includes('"event":"model-open"'))) landedWhileLoading++;
        if (exists(output)) assert.ok(await countDecodableFrames(output) >= 1);
        if (landedWhileLoading > 0 && delayMs >= 350) break;
      }
      assert.ok(landedWhileLoading > 0, "no interrupt landed while the model was loading");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
