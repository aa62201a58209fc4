/**
 * `deno task batch` on a real Redis server (Debian's redis-server on 127.0.0.1, started and stopped
 * by each test) with real worker processes: jobs match plain `segment` runs, a worker killed with
 * -9 or stopped with SIGTERM loses no job, bad input fails at once, transient failures are retried,
 * resubmitting skips finished videos, and an unreachable server is one line and an exit.
 * The workers run the region-growing test segmenter (one test runs the fixture checkpoint).
 */
import assert from "node:assert/strict";
import {
  BATCH_CLI,
  batchStatus,
  filesUnder,
  hiddenEntries,
  runScript,
  startWorker,
  TEST_CLI,
  waitForStatus,
  type WorkerProcess,
} from "./helpers/batch.ts";
import { freePort, redisAvailable, type RedisServer, startRedis } from "./helpers/redis_server.ts";
import { SAMPLES_DIR } from "./helpers/sample_frames.ts";
import { FIXTURE_DIR, sharedAvailable } from "./helpers/shared.ts";
import { childProcesses, countDecodableFrames, exists, SEGMENT_CLI } from "./helpers/video.ts";

/** Frames each test job runs (enough to be mid-job when held at embedding 5). */
const FRAMES = 24;
const SAMPLE_NAMES = ["crossing", "occlusion", "exit_enter"] as const;

/** Copies sample videos (with their prompts) into `dir` as NAME.mp4 and NAME.prompts.json. */
async function sampleInputs(dir: string, names: readonly string[]): Promise<string[]> {
  await Deno.mkdir(dir, { recursive: true });
  const paths: string[] = [];
  for (const [i, name] of names.entries()) {
    const sample = SAMPLE_NAMES[i % SAMPLE_NAMES.length];
    await Deno.copyFile(`${SAMPLES_DIR}/${sample}/video.mp4`, `${dir}/${name}.mp4`);
    await Deno.copyFile(`${SAMPLES_DIR}/${sample}/prompts.json`, `${dir}/${name}.prompts.json`);
    paths.push(`${dir}/${name}.mp4`);
  }
  return paths;
}

/**
 * `segment` on `video` as a job of these tests runs it: with the test segmenter, or with the real
 * command and `checkpoint`.
 */
async function plainSegment(
  video: string,
  out: string,
  options: { checkpoint?: string; frames?: number } = {},
): Promise<void> {
  await Deno.mkdir(out, { recursive: true });
  const args = [
    "--input",
    video,
    "--output",
    `${out}/overlay.mp4`,
    "--prompts",
    video.replace(/\.mp4$/, ".prompts.json"),
    "--masks-json",
    `${out}/masks.jsonl`,
    "--masks-dir",
    `${out}/masks`,
    "--max-frames",
    String(options.frames ?? FRAMES),
    "--quiet",
  ];
  const result = options.checkpoint
    ? await runScript(SEGMENT_CLI, [...args, "--checkpoint", options.checkpoint])
    : await runScript(TEST_CLI, ["segment", ...args]);
  assert.equal(result.code, 0, result.stderrLines.join("\n"));
}

/** Asserts that a job's masks (JSON lines and PNGs) are byte for byte those of `plain`. */
async function assertSameMasks(jobDir: string, plain: string): Promise<void> {
  const [job, reference] = await Promise.all([filesUnder(jobDir), filesUnder(plain)]);
  const masks = (files: Map<string, Uint8Array>) =>
    [...files].filter(([path]) => path === "masks.jsonl" || path.startsWith("masks/"));
  assert.ok(masks(reference).length > FRAMES, "the plain run wrote its masks");
  assert.deepEqual(masks(job), masks(reference), `${jobDir} differs from plain segment`);
  assert.equal(await countDecodableFrames(`${jobDir}/overlay.mp4`), FRAMES);
}

function submitArgs(url: string, outputDir: string, inputs: readonly string[]): string[] {
  return [
    "submit",
    "--queue",
    url,
    "--output-dir",
    outputDir,
    "--masks-json",
    "--masks-dir",
    "--max-frames",
    String(FRAMES),
    ...inputs.flatMap((input) => ["--input", input]),
  ];
}

/** Runs `body` with a Redis server and a temporary directory, stopping workers it registers. */
function batchTest(name: string, body: (context: BatchContext) => Promise<void>): void {
  Deno.test({
    name,
    ignore: !redisAvailable,
    fn: async () => {
      const redis = await startRedis();
      const dir = await Deno.makeTempDir({ prefix: "batch_" });
      const workers: WorkerProcess[] = [];
      try {
        await body({
          redis,
          dir,
          worker: (args = [], env) => {
            const worker = startWorker(redis.url, args, env ? { env } : {});
            workers.push(worker);
            return worker;
          },
        });
      } finally {
        await Promise.all(workers.map((worker) => worker.stop()));
        await redis.stop();
        await Deno.remove(dir, { recursive: true });
      }
    },
  });
}

interface BatchContext {
  readonly redis: RedisServer;
  readonly dir: string;
  worker(args?: readonly string[], env?: Record<string, string>): WorkerProcess;
}

batchTest("two workers run six jobs; every job's masks equal a plain segment run's", async (t) => {
  const names = ["a", "b", "c", "d", "e", "f"];
  const videos = await sampleInputs(`${t.dir}/in`, names);
  const workers = [t.worker(), t.worker()];
  await Promise.all(workers.map((worker) => worker.ready()));
  const submitted = await runScript(BATCH_CLI, submitArgs(t.redis.url, `${t.dir}/out`, videos));
  assert.equal(submitted.code, 0, submitted.stderrLines.join("\n"));
  assert.match(submitted.stdout, /6 queued, 0 skipped/);
  const status = await waitForStatus(t.redis.url, (s) => s.counts.done + s.counts.failed === 6);
  assert.deepEqual(status.counts, { queued: 0, active: 0, done: 6, failed: 0 });
  for (const job of status.jobs) {
    assert.equal(job.state, "done");
    assert.equal(job.progress?.frames, FRAMES, "the last progress report counts every frame");
    assert.equal(job.result?.frames, FRAMES);
    assert.ok((job.result?.fps ?? 0) > 0);
  }
  for (const [i, name] of names.entries()) {
    await plainSegment(videos[i], `${t.dir}/plain/${name}`);
    await assertSameMasks(`${t.dir}/out/${name}`, `${t.dir}/plain/${name}`);
    const manifest = JSON.parse(await Deno.readTextFile(`${t.dir}/out/${name}/job.json`));
    assert.equal(manifest.frames, FRAMES);
    assert.deepEqual(manifest.outputs, ["overlay.mp4", "masks.jsonl", "masks"]);
  }
  assert.deepEqual(hiddenEntries(`${t.dir}/out`), []);
  // Text status: a counts line and one line per job.
  const text = await runScript(BATCH_CLI, ["status", "--queue", t.redis.url]);
  assert.equal(text.code, 0);
  assert.match(text.stdout, /^queued 0, active 0, done 6, failed 0\n/);
  assert.equal(text.stdout.trim().split("\n").length, 7);
});

batchTest(
  "a worker killed with -9 mid-job: the job completes on the other worker, nothing half-written is left",
  async (t) => {
    const [video] = await sampleInputs(`${t.dir}/in`, ["clip"]);
    const gate = `${t.dir}/gate`;
    const held = t.worker(["--lock-seconds", "2"], { HOLD_AT_EMBED: "5", GATE: gate });
    await held.ready();
    const submitted = await runScript(BATCH_CLI, submitArgs(t.redis.url, `${t.dir}/out`, [video]));
    assert.equal(submitted.code, 0, submitted.stderrLines.join("\n"));
    await held.stdout.waitFor((line) => line === "held 5", "the held line");
    assert.equal((await batchStatus(t.redis.url)).jobs[0].state, "active");
    const other = t.worker(["--lock-seconds", "2"]);
    await other.ready();
    held.child.kill("SIGKILL");
    await held.child.status;
    const status = await waitForStatus(t.redis.url, (s) => s.counts.done === 1);
    assert.equal(status.jobs[0].result?.worker.endsWith(`:${other.child.pid}`), true);
    await plainSegment(video, `${t.dir}/plain`);
    await assertSameMasks(`${t.dir}/out/clip`, `${t.dir}/plain`);
    assert.deepEqual(hiddenEntries(`${t.dir}/out`), [], "the killed attempt's directory is gone");
  },
);

batchTest("SIGTERM to a busy worker gives its job back; another worker completes it", async (t) => {
  const [video] = await sampleInputs(`${t.dir}/in`, ["clip"]);
  const gate = `${t.dir}/gate`;
  const busy = t.worker([], { HOLD_AT_EMBED: "5", GATE: gate });
  await busy.ready();
  await runScript(BATCH_CLI, submitArgs(t.redis.url, `${t.dir}/out`, [video]));
  await busy.stdout.waitFor((line) => line === "held 5", "the held line");
  busy.child.kill("SIGTERM");
  await busy.stderr.waitFor((line) => line.includes("stopping: giving back 1 job"), "stopping");
  await Deno.writeTextFile(gate, "");
  assert.equal((await busy.child.status).code, 0, busy.stderr.lines.join("\n"));
  assert.ok(busy.stderr.lines.some((line) => line.includes("given back to the queue")));
  const back = await batchStatus(t.redis.url);
  assert.deepEqual(back.counts, { queued: 1, active: 0, done: 0, failed: 0 });
  assert.equal(back.jobs[0].attempts, 0, "a job given back does not use up an attempt");
  assert.deepEqual(hiddenEntries(`${t.dir}/out`), []);
  const other = t.worker();
  await other.ready();
  await waitForStatus(t.redis.url, (s) => s.counts.done === 1);
  await plainSegment(video, `${t.dir}/plain`);
  await assertSameMasks(`${t.dir}/out/clip`, `${t.dir}/plain`);
});

batchTest(
  "a corrupt video fails after one try with segment's reason; the others complete; resubmitting skips them",
  async (t) => {
    const videos = await sampleInputs(`${t.dir}/in`, ["good1", "good2"]);
    const broken = `${t.dir}/in/broken.mp4`;
    await Deno.writeFile(broken, crypto.getRandomValues(new Uint8Array(4096)));
    await Deno.copyFile(`${t.dir}/in/good1.prompts.json`, `${t.dir}/in/broken.prompts.json`);
    t.worker();
    const input = `${t.dir}/in/*.mp4`;
    const first = await runScript(BATCH_CLI, submitArgs(t.redis.url, `${t.dir}/out`, [input]));
    assert.match(first.stdout, /3 queued, 0 skipped/);
    const status = await waitForStatus(t.redis.url, (s) => s.counts.done + s.counts.failed === 3);
    assert.deepEqual(status.counts, { queued: 0, active: 0, done: 2, failed: 1 });
    const failed = status.jobs.find((job) => job.state === "failed")!;
    assert.equal(failed.name, "broken");
    assert.equal(failed.attempts, 1, "bad input is not retried");
    const segment = await runScript(TEST_CLI, [
      "segment",
      "--input",
      broken,
      "--output",
      `${t.dir}/broken_out.mp4`,
      "--point",
      "10,10",
    ]);
    assert.equal(segment.stderrLines.length, 1);
    assert.equal(segment.stderrLines[0], `segment: error: ${failed.reason}`);
    assert.ok(!exists(`${t.dir}/out/broken`));
    const again = await runScript(BATCH_CLI, submitArgs(t.redis.url, `${t.dir}/out`, [input]));
    assert.equal(again.code, 0);
    assert.match(again.stdout, /skipped +good1 .*: outputs complete/);
    assert.match(again.stdout, /skipped +good2 .*: outputs complete/);
    assert.match(again.stdout, /queued +broken/);
    assert.match(again.stdout, /1 queued, 2 skipped/);
    const forced = await runScript(BATCH_CLI, [
      ...submitArgs(t.redis.url, `${t.dir}/out`, [videos[0]]),
      "--force",
    ]);
    assert.match(forced.stdout, /1 queued, 0 skipped/);
    await waitForStatus(t.redis.url, (s) => s.counts.done === 2 && s.counts.active === 0);
    assert.ok(exists(`${t.dir}/out/good1/job.json`));
  },
);

batchTest("a job whose ffmpeg is killed is retried with backoff and completes", async (t) => {
  const [video] = await sampleInputs(`${t.dir}/in`, ["clip"]);
  const gate = `${t.dir}/gate`;
  const worker = t.worker([], { HOLD_AT_EMBED: "5", GATE: gate });
  await worker.ready();
  await runScript(BATCH_CLI, submitArgs(t.redis.url, `${t.dir}/out`, [video]));
  await worker.stdout.waitFor((line) => line === "held 5", "the held line");
  const decoder = childProcesses(worker.child.pid).find((child) =>
    /ffmpeg/.test(child.command) && child.command.includes(video)
  );
  assert.ok(decoder, "the job's decoding ffmpeg is running");
  Deno.kill(decoder.pid, "SIGKILL");
  await Deno.writeTextFile(gate, "");
  await worker.stderr.waitFor((line) => /failed, 2 retries left: .*ffmpeg/.test(line), "a retry");
  const status = await waitForStatus(t.redis.url, (s) => s.counts.done === 1);
  assert.equal(status.jobs[0].attempts >= 1, true);
  await plainSegment(video, `${t.dir}/plain`);
  await assertSameMasks(`${t.dir}/out/clip`, `${t.dir}/plain`);
});

batchTest(
  "a worker that loses the server says so, reconnects with backoff, and runs the next job",
  async (t) => {
    const worker = t.worker();
    await worker.ready();
    await t.redis.stop();
    await worker.stderr.waitFor((line) => line.includes("lost the queue server"), "the lost line");
    const restarted = await startRedis(t.redis.port);
    try {
      await worker.stderr.waitFor((line) => line.includes("reconnected"), "the reconnected line");
      const [video] = await sampleInputs(`${t.dir}/in`, ["clip"]);
      await runScript(BATCH_CLI, submitArgs(restarted.url, `${t.dir}/out`, [video]));
      await waitForStatus(restarted.url, (s) => s.counts.done === 1).catch((error) => {
        throw new Error(`${error.message}\nworker: ${worker.stderr.lines.join("\n")}`);
      });
    } finally {
      await worker.stop();
      await restarted.stop();
    }
  },
);

Deno.test("without a server, submit, worker and status print one line and exit non-zero", async () => {
  const url = `redis://127.0.0.1:${freePort()}`;
  const dir = await Deno.makeTempDir({ prefix: "batch_down_" });
  try {
    const [video] = await sampleInputs(dir, ["clip"]);
    for (
      const args of [
        submitArgs(url, `${dir}/out`, [video]),
        ["worker", "--queue", url],
        ["status", "--queue", url],
      ]
    ) {
      const started = performance.now();
      const result = await runScript(BATCH_CLI, args);
      const seconds = (performance.now() - started) / 1000;
      assert.equal(result.code, 1, `${args[0]}: ${result.stderrLines.join("\n")}`);
      assert.equal(result.stderrLines.length, 1, result.stderrLines.join("\n"));
      assert.match(result.stderrLines[0], /unreachable: connection refused/);
      assert.ok(seconds < 10, `${args[0]} took ${seconds} s`);
    }
    assert.ok(!exists(`${dir}/out`));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("batch usage errors are one line and exit 2, before anything is enqueued", async () => {
  const dir = await Deno.makeTempDir({ prefix: "batch_usage_" });
  const url = `redis://127.0.0.1:${freePort()}`;
  try {
    const [video] = await sampleInputs(`${dir}/a`, ["clip"]);
    await sampleInputs(`${dir}/b`, ["clip"]);
    await Deno.copyFile(video, `${dir}/bare.mp4`);
    const cases: [string[], RegExp][] = [
      [[], /name a subcommand/],
      [["launch"], /unknown subcommand "launch"/],
      [["status"], /--queue is required/],
      [["status", "--queue", "nats://127.0.0.1:4222"], /redis:\/\/ or rediss:\/\//],
      [["worker", "--queue", url, "--concurrency", "0"], /--concurrency must be a positive/],
      [["worker", "--queue", url, "--precision", "fp8"], /--precision must be one of/],
      [["submit", "--queue", url, "--input", video], /--output-dir is required/],
      [submitArgs(url, `${dir}/out`, [`${dir}/none/*.mp4`]), /matches no file/],
      [[...submitArgs(url, `${dir}/out`, [video]), "--stride", "0"], /--stride/],
      [submitArgs(url, `${dir}/out`, [video, `${dir}/b/clip.mp4`]), /would both write to/],
      [submitArgs(url, `${dir}/out`, [`${dir}/bare.mp4`]), /has no prompts .*--everything-every/],
    ];
    for (const [args, message] of cases) {
      const result = await runScript(BATCH_CLI, args);
      assert.equal(result.code, 2, `${args.join(" ")}: ${result.stderrLines.join("\n")}`);
      assert.equal(result.stderrLines.length, 1, result.stderrLines.join("\n"));
      assert.match(result.stderrLines[0], message);
    }
    const help = await runScript(BATCH_CLI, ["submit", "--help"]);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /--output-dir DIR/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "a batch job with the fixture checkpoint writes the masks of segment --checkpoint",
  ignore: !redisAvailable || !sharedAvailable,
  fn: async () => {
    const redis = await startRedis();
    const dir = await Deno.makeTempDir({ prefix: "batch_model_" });
    const checkpoint = `${FIXTURE_DIR}/tinysam_random.pth`;
    const worker = startWorker(redis.url, ["--checkpoint", checkpoint], { script: BATCH_CLI });
    try {
      const [video] = await sampleInputs(`${dir}/in`, ["clip"]);
      await worker.ready();
      const frames = "3";
      const submitted = await runScript(BATCH_CLI, [
        "submit",
        "--queue",
        redis.url,
        "--output-dir",
        `${dir}/out`,
        "--input",
        video,
        "--masks-json",
        "--max-frames",
        frames,
      ]);
      assert.equal(submitted.code, 0, submitted.stderrLines.join("\n"));
      const status = await waitForStatus(redis.url, (s) => s.counts.done + s.counts.failed === 1);
      assert.equal(status.counts.done, 1, JSON.stringify(status));
      await plainSegment(video, `${dir}/plain`, { checkpoint, frames: Number(frames) });
      assert.equal(
        await Deno.readTextFile(`${dir}/out/clip/masks.jsonl`),
        await Deno.readTextFile(`${dir}/plain/masks.jsonl`),
      );
    } finally {
      await worker.stop();
      await redis.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
