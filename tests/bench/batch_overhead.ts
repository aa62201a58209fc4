/**
 * What the job queue costs: `batch` jobs against plain `segment` runs of the same clip with the same
 * options, on one machine, with 1 and 2 workers (a real redis-server on 127.0.0.1, real processes).
 *
 * For each segmenter (the region-growing test segmenter, where a job is short and the queue's own
 * cost shows; the fixture checkpoint, fp32, where the model dominates):
 * - plain: `segment` as a fresh process, median wall time of `--rounds` runs;
 * - 1 worker (all cores) and 2 workers (`--threads 1` each), started and ready before the submit;
 *   `--jobs` jobs of the same clip, submitted at once by one `batch submit` (its wall time, a
 *   fresh process). From BullMQ's own timestamps: pick-up latency (job start minus the later of
 *   its submission and the end of that worker's previous job), job time (start to finish, as the
 *   worker runs it), and the batch's wall time per job (first submission to last finish, over the
 *   jobs).
 *
 * `deno run -A tests/bench/batch_overhead.ts [--jobs 4] [--frames 8] [--rounds 2] [--only region|fixture]`
 * @module
 */
import { Queue, QueueEvents } from "bullmq";
import { parseArgs } from "node:util";
import { QUEUE_NAME } from "../../src/batch/jobs.ts";
import type { JobResult, SegmentJob } from "../../src/batch/jobs.ts";
import { BATCH_CLI, runScript, startWorker, TEST_CLI } from "../helpers/batch.ts";
import { redisAvailable, startRedis } from "../helpers/redis_server.ts";
import { SAMPLES_DIR } from "../helpers/sample_frames.ts";
import { FIXTURE_DIR, sharedAvailable } from "../helpers/shared.ts";
import { SEGMENT_CLI } from "../helpers/video.ts";

const SAMPLE = "crossing";

interface Segmenter {
  readonly name: string;
  /** `segment` as a process: script and leading arguments. */
  readonly segment: readonly string[];
  /** `batch` as a process. */
  readonly batch: readonly string[];
  /** Model flags for `segment` and for the worker. */
  readonly modelFlags: readonly string[];
}

const SEGMENTERS: Record<string, Segmenter> = {
  region: {
    name: "region-growing test segmenter",
    segment: [TEST_CLI, "segment"],
    batch: [TEST_CLI, "batch"],
    modelFlags: [],
  },
  fixture: {
    name: "fixture checkpoint, fp32",
    segment: [SEGMENT_CLI],
    batch: [BATCH_CLI],
    modelFlags: ["--checkpoint", `${FIXTURE_DIR}/tinysam_random.pth`, "--precision", "fp32"],
  },
};

/** One configuration's figures, in milliseconds. */
interface Row {
  readonly setup: string;
  readonly submit: number;
  readonly pickupMedian: number;
  readonly pickupMax: number;
  readonly jobMedian: number;
  readonly wallPerJob: number;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Runs `script ...args` to completion and returns its wall time (ms); throws if it failed. */
async function timed(command: readonly string[]): Promise<number> {
  const began = performance.now();
  const [script, ...args] = command;
  const result = await runScript(script, args);
  if (result.code !== 0) {
    throw new Error(`${command.join(" ")} failed:\n${result.stderrLines.join("\n")}`);
  }
  return performance.now() - began;
}

/** `jobs` copies of the sample clip (with its prompts) in `dir`. */
async function inputs(dir: string, jobs: number): Promise<string[]> {
  await Deno.mkdir(dir, { recursive: true });
  return await Promise.all(Array.from({ length: jobs }, async (_, i) => {
    const video = `${dir}/clip${i}.mp4`;
    await Deno.copyFile(`${SAMPLES_DIR}/${SAMPLE}/video.mp4`, video);
    await Deno.copyFile(`${SAMPLES_DIR}/${SAMPLE}/prompts.json`, `${dir}/clip${i}.prompts.json`);
    return video;
  }));
}

async function plainRuns(
  segmenter: Segmenter,
  video: string,
  out: string,
  frames: number,
  rounds: number,
): Promise<number> {
  const times: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const dir = `${out}/plain${round}`;
    await Deno.mkdir(dir, { recursive: true });
    times.push(
      await timed([
        ...segmenter.segment,
        "--input",
        video,
        "--prompts",
        video.replace(/\.mp4$/, ".prompts.json"),
        "--output",
        `${dir}/overlay.mp4`,
        "--masks-json",
        `${dir}/masks.jsonl`,
        "--max-frames",
        String(frames),
        "--quiet",
        ...segmenter.modelFlags,
      ]),
    );
    console.error(`  plain run ${round + 1}: ${(times.at(-1)! / 1000).toFixed(2)} s`);
  }
  return median(times);
}

async function batchRun(
  segmenter: Segmenter,
  videos: readonly string[],
  out: string,
  frames: number,
  workers: number,
): Promise<Row> {
  const redis = await startRedis();
  const started = workers === 1
    ? [startWorker(redis.url, [...segmenter.modelFlags], { script: segmenter.batch[0] })]
    : Array.from(
      { length: workers },
      () =>
        startWorker(redis.url, [...segmenter.modelFlags, "--threads", "1"], {
          script: segmenter.batch[0],
        }),
    );
  const connection = { url: redis.url };
  const queue = new Queue<SegmentJob, JobResult>(QUEUE_NAME, { connection });
  const events = new QueueEvents(QUEUE_NAME, { connection });
  try {
    await Promise.all(started.map((worker) => worker.ready()));
    await events.waitUntilReady();
    let finished = 0;
    const allFinished = new Promise<void>((resolve, reject) => {
      events.on("completed", () => ++finished === videos.length && resolve());
      events.on("failed", ({ jobId, failedReason }) => {
        reject(new Error(`job ${jobId} failed: ${failedReason}`));
      });
    });
    const submit = await timed([
      ...segmenter.batch,
      "submit",
      "--queue",
      redis.url,
      "--output-dir",
      out,
      "--masks-json",
      "--max-frames",
      String(frames),
      ...videos.flatMap((video) => ["--input", video]),
    ]);
    await allFinished;
    const jobs = (await queue.getJobs(["completed"])).filter((job) => job !== undefined);
    const byWorker = Map.groupBy(jobs, (job) => job.returnvalue.worker);
    const pickups: number[] = [];
    for (const own of byWorker.values()) {
      own.sort((a, b) => a.processedOn! - b.processedOn!);
      own.forEach((job, i) => {
        const free = Math.max(job.timestamp, i > 0 ? own[i - 1].finishedOn! : 0);
        pickups.push(job.processedOn! - free);
      });
    }
    const first = Math.min(...jobs.map((job) => job.timestamp));
    const last = Math.max(...jobs.map((job) => job.finishedOn!));
    return {
      setup: workers === 1 ? "1 worker" : `${workers} workers, 1 thread each`,
      submit,
      pickupMedian: median(pickups),
      pickupMax: Math.max(...pickups),
      jobMedian: median(jobs.map((job) => job.finishedOn! - job.processedOn!)),
      wallPerJob: (last - first) / jobs.length,
    };
  } finally {
    await events.close();
    await queue.close();
    await Promise.all(started.map((worker) => worker.stop()));
    await redis.stop();
  }
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

if (import.meta.main) {
  if (!redisAvailable) {
    console.error("skipped: redis-server is not on PATH (apt-get install redis-server)");
    Deno.exit(0);
  }
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      jobs: { type: "string", default: "4" },
      frames: { type: "string", default: "8" },
      rounds: { type: "string", default: "2" },
      only: { type: "string" },
    },
  });
  const jobs = Number(values.jobs), frames = Number(values.frames), rounds = Number(values.rounds);
  const names = values.only ? [values.only] : Object.keys(SEGMENTERS);
  const dir = await Deno.makeTempDir({ prefix: "batch-overhead-" });
  try {
    const videos = await inputs(`${dir}/in`, jobs);
    for (const key of names) {
      const segmenter = SEGMENTERS[key];
      if (!segmenter) throw new Error(`--only: region or fixture, not ${key}`);
      if (key === "fixture" && !sharedAvailable) {
        console.error("fixture rows skipped: ../shared is not beside this checkout");
        continue;
      }
      console.error(`${segmenter.name}:`);
      const plain = await plainRuns(segmenter, videos[0], `${dir}/${key}`, frames, rounds);
      const rows: Row[] = [];
      for (const workers of [1, 2]) {
        rows.push(await batchRun(segmenter, videos, `${dir}/${key}/w${workers}`, frames, workers));
        console.error(`  ${rows.at(-1)!.setup}: done`);
      }
      console.log(
        `\n${segmenter.name}; ${jobs} jobs of ${frames} frames of samples/${SAMPLE}; ` +
          `plain segment (fresh process, median of ${rounds}): ${seconds(plain)}\n`,
      );
      console.log(
        "| setup | submit command | pick-up median | pick-up max | job time median | job / plain | " +
          "batch wall per job | wall per job / plain |",
      );
      console.log("| --- | --- | --- | --- | --- | --- | --- | --- |");
      for (const row of rows) {
        console.log(
          `| ${row.setup} | ${seconds(row.submit)} | ${row.pickupMedian.toFixed(0)} ms | ${
            row.pickupMax.toFixed(0)
          } ms | ` +
            `${seconds(row.jobMedian)} | ${(row.jobMedian / plain).toFixed(2)} | ` +
            `${seconds(row.wallPerJob)} | ${(row.wallPerJob / plain).toFixed(2)} |`,
        );
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
