/**
 * Enqueuing a submission: videos with complete outputs and videos already queued are skipped, the
 * finished records of the others are cleared, and the rest go in with one `addBulk` (a Redis
 * transaction: all of them or none).
 * @module
 */
import type { Queue } from "bullmq";
import { outputsComplete } from "./job_outputs.ts";
import { jobIdFor, type JobResult, type SegmentJob } from "./jobs.ts";

/** First retry delay of a failed job; each next one doubles. */
export const RETRY_DELAY_MS = 5000;

/** Finished jobs kept for `status` (then removed by BullMQ). */
const KEEP_FINISHED_SECONDS = 7 * 24 * 3600;

/** How a submission is enqueued. */
export interface SubmitOptions {
  /** Run videos with complete outputs again. */
  readonly force: boolean;
  /** Runs of a job before it fails (bad input fails at once). */
  readonly attempts: number;
}

/** What happened to each video of a submission. */
export interface SubmitReport {
  readonly queued: readonly { readonly name: string; readonly id: string }[];
  readonly skipped: readonly {
    readonly name: string;
    readonly id: string;
    readonly reason: "outputs complete" | "already queued" | "running";
  }[];
}

/**
 * Enqueues `jobs` on `queue`. Throws when the server fails; jobs are then either all enqueued or
 * none (the caller says which: `addBulk` is one transaction).
 *
 * @example
 * ```ts
 * const report = await submitJobs(queue, jobs, { force: false, attempts: 3 });
 * // { queued: [{ name: "cups", id: "cups-3f1c0a9b27de" }], skipped: [...] }
 * ```
 */
export async function submitJobs(
  queue: Queue<SegmentJob, JobResult>,
  jobs: readonly SegmentJob[],
  options: SubmitOptions,
): Promise<SubmitReport> {
  const queued: { name: string; id: string }[] = [];
  const skipped: SubmitReport["skipped"][number][] = [];
  const toAdd: { id: string; job: SegmentJob }[] = [];
  for (const job of jobs) {
    const id = jobIdFor(job.name, job.outputDir);
    if (!options.force && await outputsComplete(job.outputDir, job)) {
      skipped.push({ name: job.name, id, reason: "outputs complete" });
      continue;
    }
    const existing = await queue.getJob(id);
    if (existing) {
      const state = await existing.getState();
      if (state === "active") {
        skipped.push({ name: job.name, id, reason: "running" });
        continue;
      }
      if (state !== "completed" && state !== "failed" && state !== "unknown") {
        skipped.push({ name: job.name, id, reason: "already queued" });
        continue;
      }
      // A finished record holds the id: clear it so that the video can run again.
      await existing.remove();
    }
    toAdd.push({ id, job });
  }
  if (toAdd.length > 0) {
    await queue.addBulk(toAdd.map(({ id, job }) => ({
      name: job.name,
      data: job,
      opts: {
        jobId: id,
        attempts: options.attempts,
        backoff: { type: "exponential", delay: RETRY_DELAY_MS },
        removeOnComplete: { age: KEEP_FINISHED_SECONDS },
        removeOnFail: { age: KEEP_FINISHED_SECONDS },
      },
    })));
    for (const { id, job } of toAdd) queued.push({ name: job.name, id });
  }
  return { queued, skipped };
}
