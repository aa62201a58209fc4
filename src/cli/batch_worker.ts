/**
 * `deno task batch worker`: takes jobs from the queue and runs each through `segment`'s own run,
 * with the models it keeps open across jobs. Outputs are committed by a rename once complete;
 * progress goes to the queue; bad input fails a job at once, anything else is retried with backoff
 * (BullMQ's attempts), and a job whose worker dies is taken up by another (BullMQ's stalled-job
 * check). SIGTERM or Ctrl-C gives the jobs under way back to the queue and exits.
 * @module
 */
import { type Job, UnrecoverableError, WaitingError, Worker } from "bullmq";
import { join } from "node:path";
import { connectQueueServer, displayUrl, reconnectingOptions } from "../batch/connection.ts";
import {
  commitOutputs,
  MASKS_DIR,
  MASKS_JSONL_FILE,
  OVERLAY_FILE,
  PROMPTS_FILE,
  requestedOutputs,
} from "../batch/job_outputs.ts";
import { discardPartial, startPartial } from "../fs/partial_dir.ts";
import {
  type JobProgress,
  type JobResult,
  QUEUE_NAME,
  readSegmentJob,
  type SegmentJob,
} from "../batch/jobs.ts";
import { ModelPool, type OpenModel } from "../batch/model_pool.ts";
import { CheckpointError } from "../model/checkpoint/errors.ts";
import { UnknownModelError } from "../model/model_error.ts";
import { PromptError } from "../segment/prompts.ts";
import { VideoInputError } from "../video/errors.ts";
import { StreamStats } from "../video/stream_stats.ts";
import { parseSegmentArgs, type SegmentArgs, UsageError } from "./args.ts";
import type { BatchWorkerArgs } from "./batch_args.ts";
import type { ProgressRecord } from "./progress.ts";
import { type OpenedModel, segmentRun } from "./segment_run.ts";
import { oneLine } from "./segment.ts";

/** Least time between two progress reports of a job to the queue. */
const PROGRESS_INTERVAL_MS = 1000;

/** How the worker command is run (the CLI; tests with a test segmenter). */
export interface BatchWorkerOptions {
  /** Opens a model (default: from the model cache, in the worker's thread). */
  readonly openModel?: OpenModel;
  /** Writes one line for the user (default: stderr, prefixed `batch worker: `). */
  readonly say?: (line: string) => void;
  /** Stops the worker as SIGTERM does (default: SIGTERM and SIGINT). */
  readonly stop?: AbortSignal;
}

const encoder = new TextEncoder();
const sayOnStderr = (line: string) =>
  Deno.stderr.writeSync(encoder.encode(`batch worker: ${line}\n`));

/**
 * Runs a worker until it is stopped. Returns 0 after a clean stop; throws a `QueueServerError` when
 * the server cannot be reached at start (a lost connection is retried, with backoff, and said).
 */
export async function runBatchWorker(
  args: BatchWorkerArgs,
  options: BatchWorkerOptions = {},
): Promise<number> {
  const say = options.say ?? sayOnStderr;
  // This client says when the server is lost and back; BullMQ's own reconnect alongside it.
  const client = await connectQueueServer(args.queue, {
    onRetry: (attempt, delayMs, reason) => {
      say(
        `lost the queue server (${reason}); reconnecting in ${
          (delayMs / 1000).toFixed(1)
        } s (attempt ${attempt})`,
      );
    },
    onReconnect: () => say("reconnected to the queue server"),
  });
  const pool = new ModelPool(options.openModel ?? openInThread);
  const stopping = new AbortController();
  const running = new Map<string, AbortController>();
  const workerName = `${Deno.hostname()}:${Deno.pid}`;
  const worker = new Worker<SegmentJob, JobResult>(
    QUEUE_NAME,
    (job, token) =>
      runJob(job, token, { args, pool, say, stopping: stopping.signal, running, workerName }),
    {
      // Clients of BullMQ's own: a duplicate of a lazily connected client did not come back when
      // the server returned at once (its connect() was rejected and never retried).
      connection: reconnectingOptions(args.queue),
      concurrency: args.concurrency,
      lockDuration: args.lockSeconds * 1000,
      stalledInterval: args.lockSeconds * 1000,
      // A job whose worker died is run again; a job that keeps killing its workers fails.
      maxStalledCount: 2,
      autorun: false,
    },
  );
  // Connection errors are said by the reconnection; anything else once.
  worker.on("error", (error) => {
    if (!/ECONNREFUSED|Connection is closed|ECONNRESET|ETIMEDOUT/.test(error.message)) {
      say(`queue error: ${oneLine(error)}`);
    }
  });
  const stop = () => {
    if (stopping.signal.aborted) Deno.exit(EXIT_STOPPED_AGAIN);
    say(
      running.size > 0
        ? `stopping: giving back ${running.size} job${running.size === 1 ? "" : "s"} to the queue`
        : "stopping",
    );
    stopping.abort();
    for (const controller of running.values()) controller.abort();
  };
  const signals: Deno.Signal[] = options.stop ? [] : ["SIGTERM", "SIGINT"];
  for (const signal of signals) Deno.addSignalListener(signal, stop);
  options.stop?.addEventListener("abort", stop, { once: true });
  say(
    `waiting for jobs on ${
      displayUrl(args.queue)
    } (${workerName}, concurrency ${args.concurrency})`,
  );
  try {
    const runLoop = worker.run();
    await new Promise<void>((resolve) => {
      if (stopping.signal.aborted) resolve();
      else stopping.signal.addEventListener("abort", () => resolve(), { once: true });
    });
    await worker.close();
    await runLoop;
    return 0;
  } finally {
    for (const signal of signals) Deno.removeSignalListener(signal, stop);
    await pool.dispose();
    client.disconnect();
  }
}

/** Exit code when a second SIGTERM or Ctrl-C stops a worker at once. */
const EXIT_STOPPED_AGAIN = 130;

/** What each job of a worker shares. */
interface JobContext {
  readonly args: BatchWorkerArgs;
  readonly pool: ModelPool;
  readonly say: (line: string) => void;
  readonly stopping: AbortSignal;
  /** Aborts for the jobs under way, by job id. */
  readonly running: Map<string, AbortController>;
  /** `host:pid`, recorded with each job it finishes. */
  readonly workerName: string;
}

/**
 * Runs one job: outputs into a hidden directory, committed by a rename once complete. Bad input
 * fails it for good (`UnrecoverableError`); a stop gives it back to the queue.
 */
async function runJob(
  job: Job<SegmentJob, JobResult>,
  token: string | undefined,
  context: JobContext,
): Promise<JobResult> {
  const { say, args } = context;
  const id = job.id ?? "?";
  if (context.stopping.aborted) return await giveBack(job, token, say);
  let data: SegmentJob;
  try {
    data = readSegmentJob(job.data);
  } catch (error) {
    say(`${id}: refused: ${oneLine(error)}`);
    throw new UnrecoverableError(oneLine(error));
  }
  const attempt = `attempt ${job.attemptsMade + 1}/${job.opts.attempts ?? 1}`;
  say(`${data.name} (${id}): started, ${attempt}`);
  const partial = await startPartial(data.outputDir, id);
  const abort = new AbortController();
  context.running.set(id, abort);
  const stats = new StreamStats();
  const opened: OpenedModel = {};
  const started = performance.now();
  try {
    const segmentArgs = jobSegmentArgs(data, partial, args.modelFlags);
    if (data.prompts) await Deno.writeTextFile(join(partial, PROMPTS_FILE), data.prompts.text);
    await segmentRun(segmentArgs, {
      signal: abort.signal,
      stats,
      opened,
      openModel: (choice) => context.pool.lend(choice),
      onProgress: throttledProgress(job),
      say: (line) => say(`${data.name}: ${line}`),
    });
    // Stopped: the catch below removes the partial outputs.
    if (abort.signal.aborted) return await giveBack(job, token, say);
    const seconds = (performance.now() - started) / 1000;
    const frames = stats.framesOutput;
    const worker = context.workerName;
    await commitOutputs(partial, data.outputDir, {
      jobId: id,
      input: data.input,
      outputs: requestedOutputs(data),
      segmentArgs: data.segmentArgs,
      ...(data.prompts ? { prompts: data.prompts.source } : {}),
      frames,
      seconds: round(seconds, 3),
      worker,
      finishedAt: new Date().toISOString(),
    });
    const fps = frames / Math.max(seconds, 1e-9);
    say(
      `${data.name} (${id}): done, ${frames} frames in ${seconds.toFixed(1)} s (${
        fps.toFixed(1)
      } fps)`,
    );
    return {
      frames,
      seconds: round(seconds, 3),
      fps: round(fps, 2),
      outputDir: data.outputDir,
      worker,
    };
  } catch (error) {
    await discardPartial(partial);
    if (error instanceof WaitingError) throw error;
    if (abort.signal.aborted && context.stopping.aborted) return await giveBack(job, token, say);
    const reason = oneLine(error);
    if (isBadInput(error)) {
      say(`${data.name} (${id}): failed, no retry (bad input): ${reason}`);
      throw new UnrecoverableError(reason);
    }
    const retries = (job.opts.attempts ?? 1) - job.attemptsMade - 1;
    say(
      `${data.name} (${id}): failed, ${
        retries > 0 ? `${retries} ${retries === 1 ? "retry" : "retries"} left` : "no retries left"
      }: ${reason}`,
    );
    throw new Error(reason);
  } finally {
    context.running.delete(id);
    // The run gives its model back when its stage ends; this covers a run that never started it.
    await opened.model?.then((segmenter) => segmenter.dispose(), () => {});
  }
}

/** Puts a job back in the queue (not counted as an attempt) and tells BullMQ so. */
async function giveBack(
  job: Job<SegmentJob, JobResult>,
  token: string | undefined,
  say: (line: string) => void,
): Promise<never> {
  await job.moveToWait(token);
  say(`${job.data?.name ?? job.id} (${job.id}): given back to the queue`);
  throw new WaitingError();
}

/**
 * The `segment` arguments of a job: its video, outputs in `partial`, its prompts (written to
 * `partial/prompts.json`), the submission's flags, and the worker's model flags where the job
 * names no model of its own.
 */
function jobSegmentArgs(
  job: SegmentJob,
  partial: string,
  workerModelFlags: readonly string[],
): SegmentArgs {
  const namesModel = job.segmentArgs.some((flag) => /^--(model|checkpoint)(=|$)/.test(flag));
  const modelFlags = namesModel
    ? withoutFlags(workerModelFlags, ["--model", "--checkpoint", "--calibration"])
    : workerModelFlags;
  const argv = [
    "--input",
    job.input,
    "--output",
    join(partial, OVERLAY_FILE),
    ...(job.prompts ? ["--prompts", join(partial, PROMPTS_FILE)] : []),
    ...(job.masksJson ? ["--masks-json", join(partial, MASKS_JSONL_FILE)] : []),
    ...(job.masksDir ? ["--masks-dir", join(partial, MASKS_DIR)] : []),
    // The job's own flags come last: a job's --precision wins over the worker's.
    ...modelFlags,
    ...job.segmentArgs,
    "--quiet",
  ];
  const parsed = parseSegmentArgs(argv);
  if (parsed.help || "everythingImage" in parsed) {
    throw new UsageError(`the job's flags are not a video run: ${job.segmentArgs.join(" ")}`);
  }
  return parsed;
}

/** `flags` without the given flags and their values (`--flag value` or `--flag=value`). */
function withoutFlags(flags: readonly string[], names: readonly string[]): string[] {
  const kept: string[] = [];
  for (let i = 0; i < flags.length; i++) {
    const name = flags[i].split("=")[0];
    if (!names.includes(name)) kept.push(flags[i]);
    else if (!flags[i].includes("=")) i++;
  }
  return kept;
}

/** Reports a run's progress records to the job, at most once per {@link PROGRESS_INTERVAL_MS}. */
function throttledProgress(job: Job<SegmentJob, JobResult>): (record: ProgressRecord) => void {
  let last = -Infinity;
  return (record) => {
    const now = performance.now();
    if (record.event === "progress" && now - last < PROGRESS_INTERVAL_MS) return;
    last = now;
    const progress: JobProgress = {
      frames: record.frames,
      totalFrames: record.totalFrames,
      fps: record.fps,
      etaSeconds: record.etaSeconds,
    };
    // A lost connection is said by the reconnection; the next report will do.
    job.updateProgress({ ...progress }).catch(() => {});
  };
}

/**
 * Whether `error` says the job itself is wrong (the video, its prompts, its flags, its model), so
 * that running it again cannot help. ffmpeg killed, a worker lost, a model download cut off are
 * not: they are retried.
 */
function isBadInput(error: unknown): boolean {
  return error instanceof VideoInputError || error instanceof PromptError ||
    error instanceof UsageError || error instanceof CheckpointError ||
    error instanceof UnknownModelError;
}

/** The model in the worker's thread, from the model cache (its code loaded on first need). */
async function openInThread(choice: Parameters<OpenModel>[0]) {
  const { openSegmenter } = await import("../model/open_segmenter.ts");
  return await openSegmenter(choice);
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
