/**
 * The state of a batch as `batch status` shows it: counts (queued, active, done, failed) and every
 * job with its state, attempts, progress, result or one-line failure reason.
 * @module
 */
import type { Job, Queue } from "bullmq";
import type { JobProgress, JobResult, SegmentJob } from "./jobs.ts";

/** The four states a user tells apart (BullMQ's waiting, delayed, prioritized, paused: queued). */
export type BatchJobState = "queued" | "active" | "done" | "failed";

/** One job of the batch. */
export interface BatchJobStatus {
  readonly id: string;
  readonly name: string;
  readonly input: string;
  readonly outputDir: string;
  readonly state: BatchJobState;
  /** Runs that ended (failed or done); a queued job with attempts > 0 is waiting for a retry. */
  readonly attempts: number;
  readonly maxAttempts: number;
  readonly progress?: JobProgress;
  readonly result?: JobResult;
  /** The last failure's one-line reason (a failed job's, or the one a retry follows). */
  readonly reason?: string;
}

/** What `batch status --json` prints. */
export interface BatchStatus {
  readonly counts: Readonly<Record<BatchJobState, number>>;
  readonly jobs: readonly BatchJobStatus[];
}

const STATES: Record<BatchJobState, readonly string[]> = {
  queued: ["waiting", "delayed", "prioritized", "paused", "waiting-children"],
  active: ["active"],
  done: ["completed"],
  failed: ["failed"],
};

/**
 * Reads the counts and the jobs of `queue`: active first, then queued, failed and done.
 *
 * @example
 * ```ts
 * const { counts } = await readBatchStatus(queue); // { queued: 4, active: 2, done: 10, failed: 1 }
 * ```
 */
export async function readBatchStatus(
  queue: Queue<SegmentJob, JobResult>,
): Promise<BatchStatus> {
  const counts = { queued: 0, active: 0, done: 0, failed: 0 };
  const jobs: BatchJobStatus[] = [];
  for (const state of ["active", "queued", "failed", "done"] as const) {
    // deno-lint-ignore no-explicit-any -- BullMQ's JobType union does not list every state name
    const types = STATES[state] as any[];
    const found = await queue.getJobs(types, 0, -1, true);
    for (const job of found) {
      if (job) jobs.push(jobStatus(job, state));
    }
    counts[state] = found.filter(Boolean).length;
  }
  return { counts, jobs };
}

function jobStatus(job: Job<SegmentJob, JobResult>, state: BatchJobState): BatchJobStatus {
  const progress = job.progress as Partial<JobProgress> | number | undefined;
  return {
    id: job.id ?? "",
    name: job.data?.name ?? job.name,
    input: job.data?.input ?? "",
    outputDir: job.data?.outputDir ?? "",
    state,
    attempts: job.attemptsMade,
    maxAttempts: job.opts.attempts ?? 1,
    ...(typeof progress === "object" && progress !== null && typeof progress.frames === "number"
      ? { progress: progress as JobProgress }
      : {}),
    ...(state === "done" && job.returnvalue ? { result: job.returnvalue } : {}),
    ...(job.failedReason && state !== "done" ? { reason: job.failedReason } : {}),
  };
}
