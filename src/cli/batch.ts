/**
 * `deno task batch`: many videos on many machines, on a BullMQ queue in Redis.
 * - `submit` enqueues one job per video;
 * - `worker` runs jobs (on any number of machines) until stopped;
 * - `status` prints counts, progress and failures.
 *
 * Exit codes: 0 done, 1 runtime error (queue server unreachable, ...), 2 usage error.
 * @module
 */
import type { Queue } from "bullmq";
import { connectQueueServer, displayUrl, QueueServerError } from "../batch/connection.ts";
import { BatchInputError, batchVideos } from "../batch/inputs.ts";
import { JOB_DATA_VERSION, type JobResult, QUEUE_NAME, type SegmentJob } from "../batch/jobs.ts";
import { type BatchJobStatus, type BatchStatus, readBatchStatus } from "../batch/status.ts";
import { submitJobs } from "../batch/submit.ts";
import { parsePromptsJson, PromptError } from "../segment/prompts.ts";
import { UsageError } from "./args.ts";
import { type BatchStatusArgs, type BatchSubmitArgs, parseBatchArgs } from "./batch_args.ts";
import { batchHelp } from "./batch_help.ts";
import { type BatchWorkerOptions, runBatchWorker } from "./batch_worker.ts";
import { formatProgressLine } from "./progress.ts";
import { EXIT_FAILURE, EXIT_USAGE, oneLine } from "./segment.ts";

const encoder = new TextEncoder();

/**
 * Runs `batch` with `argv` (the subcommand first) and returns the exit code.
 *
 * @example
 * ```ts
 * const code = await runBatch(["status", "--queue", "redis://127.0.0.1:6379"]);
 * ```
 */
export async function runBatch(
  argv: readonly string[],
  options: BatchWorkerOptions = {},
): Promise<number> {
  const say = (line: string) => Deno.stderr.writeSync(encoder.encode(`batch: ${line}\n`));
  let args: ReturnType<typeof parseBatchArgs>;
  try {
    args = parseBatchArgs(argv);
  } catch (error) {
    say(oneLine(error));
    return EXIT_USAGE;
  }
  if ("help" in args) {
    await Deno.stdout.write(encoder.encode(batchHelp(args.command)));
    return 0;
  }
  try {
    switch (args.command) {
      case "submit":
        return await submit(args);
      case "status":
        return await status(args);
      case "worker":
        return await runBatchWorker(args, options);
    }
  } catch (error) {
    say(`${args.command}: ${oneLine(error)}`);
    return error instanceof UsageError || error instanceof BatchInputError ||
        error instanceof PromptError
      ? EXIT_USAGE
      : EXIT_FAILURE;
  }
}

/** Builds every job (all inputs checked first), then enqueues them in one transaction. */
async function submit(args: BatchSubmitArgs): Promise<number> {
  const jobs = await plannedJobs(args);
  return await withQueue(args.queue, async (queue) => {
    let report;
    try {
      report = await submitJobs(queue, jobs, { force: args.force, attempts: args.attempts });
    } catch (error) {
      if (error instanceof QueueServerError) throw error;
      throw new QueueServerError(`nothing was enqueued: ${oneLine(error)}`);
    }
    const lines = [
      ...report.queued.map(({ name, id }) => `queued   ${name} (${id})`),
      ...report.skipped.map(({ name, id, reason }) => `skipped  ${name} (${id}): ${reason}`),
    ];
    const skippedComplete = report.skipped.filter((s) => s.reason === "outputs complete").length;
    lines.push(
      `${report.queued.length} queued, ${report.skipped.length} skipped on ${
        displayUrl(args.queue)
      }${skippedComplete > 0 && !args.force ? " (--force runs complete videos again)" : ""}`,
    );
    await Deno.stdout.write(encoder.encode(lines.join("\n") + "\n"));
    return 0;
  });
}

/**
 * One job per video of the submission. Each video's prompts come from `NAME.prompts.json` beside
 * it, else from `--prompts`; a video with neither, in a batch without `--everything-every`, would
 * only be copied, so that is an error (before anything is enqueued).
 */
async function plannedJobs(args: BatchSubmitArgs): Promise<SegmentJob[]> {
  const videos = batchVideos(args.inputs, args.outputDir);
  const shared = args.promptsFile ? await readPrompts(args.promptsFile) : undefined;
  const discovers = args.segmentArgs.includes("--everything-every");
  const jobs: SegmentJob[] = [];
  for (const video of videos) {
    const prompts = video.promptsFile ? await readPrompts(video.promptsFile) : shared;
    if (!prompts && !discovers) {
      throw new UsageError(
        `${video.input} has no prompts (no ${video.name}.prompts.json beside it, no --prompts) and there is no --everything-every`,
      );
    }
    jobs.push({
      version: JOB_DATA_VERSION,
      name: video.name,
      input: video.input,
      outputDir: video.outputDir,
      ...(prompts ? { prompts } : {}),
      masksJson: args.masksJson,
      masksDir: args.masksDir,
      segmentArgs: [...args.segmentArgs],
    });
  }
  return jobs;
}

/** A prompts file's text, checked as `segment --prompts` checks it (but for the frame size). */
async function readPrompts(path: string): Promise<{ source: string; text: string }> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    const reason = error instanceof Deno.errors.NotFound ? "does not exist" : oneLine(error);
    throw new PromptError(`prompts file ${path} ${reason}`);
  }
  parsePromptsJson(text, path);
  return { source: path, text };
}

async function status(args: BatchStatusArgs): Promise<number> {
  return await withQueue(args.queue, async (queue) => {
    const current = await readBatchStatus(queue);
    const text = args.json ? JSON.stringify(current) + "\n" : formatBatchStatus(current);
    await Deno.stdout.write(encoder.encode(text));
    return 0;
  });
}

/**
 * Runs `body` with the batch queue on the server at `url` (one line and an error when it cannot
 * be reached), then closes the queue and its client.
 */
async function withQueue<T>(
  url: string,
  body: (queue: Queue<SegmentJob, JobResult>) => Promise<T>,
): Promise<T> {
  const [{ Queue }, client] = await Promise.all([import("bullmq"), connectQueueServer(url)]);
  const queue = new Queue<SegmentJob, JobResult>(QUEUE_NAME, { connection: client });
  queue.on("error", () => {/* the command that failed reports it */});
  try {
    return await body(queue);
  } finally {
    await queue.close().catch(() => {});
    // BullMQ leaves a client it was given open.
    client.disconnect();
  }
}

/**
 * `batch status` as text: a counts line, then one line per job (active, queued, failed, done).
 *
 * @example
 * ```ts
 * formatBatchStatus(status);
 * // queued 1, active 1, done 1, failed 1
 * // active  cups     frame 40/72 (55%)  6.1 fps  ETA 0:05
 * // queued  juggle   retry 2/3 after: decoding ffmpeg was killed by SIGKILL after 10 frames
 * // failed  broken   input "/data/broken.mp4" is not a video
 * // done    bedroom  72 frames in 11.8 s (6.1 fps)
 * ```
 */
export function formatBatchStatus(status: BatchStatus): string {
  const { counts } = status;
  const lines = [
    `queued ${counts.queued}, active ${counts.active}, done ${counts.done}, failed ${counts.failed}`,
  ];
  const width = Math.max(0, ...status.jobs.map((job) => job.name.length));
  for (const job of status.jobs) {
    lines.push(`${job.state.padEnd(6)}  ${job.name.padEnd(width)}  ${jobDetail(job)}`.trimEnd());
  }
  return lines.join("\n") + "\n";
}

function jobDetail(job: BatchJobStatus): string {
  switch (job.state) {
    case "active":
      return job.progress
        ? formatProgressLine({ event: "progress", elapsedSeconds: 0, ...job.progress })
        : "starting";
    case "queued":
      return job.attempts > 0 && job.reason
        ? `retry ${job.attempts + 1}/${job.maxAttempts} after: ${job.reason}`
        : "";
    case "failed":
      return job.reason ?? "failed";
    case "done": {
      const r = job.result;
      return r ? `${r.frames} frames in ${r.seconds.toFixed(1)} s (${r.fps.toFixed(1)} fps)` : "";
    }
  }
}

if (import.meta.main) {
  // `deno task` runs in the repository root; relative paths mean the caller's directory.
  const callerDirectory = Deno.env.get("INIT_CWD");
  if (callerDirectory) Deno.chdir(callerDirectory);
  Deno.exit(await runBatch(Deno.args));
}
