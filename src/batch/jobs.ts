/**
 * What travels through the queue: one job per video (its data, written by `batch submit` and read
 * by `batch worker`), the progress a worker reports, and the result of a finished job. The data
 * is checked with zod on both sides, so a job written by another version is refused in one line.
 * @module
 */
import { createHash } from "node:crypto";
import { z } from "zod";

/** The BullMQ queue every `batch` command uses on the server. */
export const QUEUE_NAME = "tinysam-segment";

/** Version of {@link SegmentJob}; a worker refuses data of another version. */
export const JOB_DATA_VERSION = 1;

/** One video to segment. */
export const segmentJobSchema = z.strictObject({
  version: z.literal(JOB_DATA_VERSION),
  /** The video's name: its file name without the extension, and its output directory's. */
  name: z.string().min(1),
  /** Absolute path of the video, as every worker sees it (a shared filesystem or mount). */
  input: z.string().startsWith("/"),
  /** Absolute path of the directory the outputs land in (`--output-dir DIR/NAME`). */
  outputDir: z.string().startsWith("/"),
  /** The prompts file's text, read at submit time, and where it came from. */
  prompts: z.strictObject({ source: z.string(), text: z.string() }).optional(),
  /** Whether to write `masks.jsonl` and `masks/` beside `overlay.mp4`. */
  masksJson: z.boolean(),
  masksDir: z.boolean(),
  /** The segment flags the submission gave every job (`--everything-every 10`, `--stride 2`, ...). */
  segmentArgs: z.array(z.string()),
});

/** One video to segment, as carried by a job. */
export type SegmentJob = z.infer<typeof segmentJobSchema>;

/** What a worker reports while a job runs (BullMQ's job progress). */
export interface JobProgress {
  readonly frames: number;
  readonly totalFrames: number | null;
  readonly fps: number;
  readonly etaSeconds: number | null;
}

/** What a finished job returns (BullMQ's return value). */
export interface JobResult {
  readonly frames: number;
  readonly seconds: number;
  readonly fps: number;
  readonly outputDir: string;
  /** `host:pid` of the worker that ran it. */
  readonly worker: string;
}

/**
 * The job id of a video's outputs: the same output directory always gets the same id, so a video
 * already queued is not queued twice. Readable (`NAME-` then 12 hex digits of the directory's hash).
 *
 * @example
 * ```ts
 * jobIdFor("cups", "/data/out/cups"); // "cups-3f1c0a9b27de"
 * ```
 */
export function jobIdFor(name: string, outputDir: string): string {
  const hash = createHash("sha256").update(outputDir).digest("hex").slice(0, 12);
  // BullMQ keys are ':'-separated; ids that are plain integers are reserved for its own.
  return `${name.replace(/[^A-Za-z0-9._-]/g, "_")}-${hash}`;
}

/**
 * Reads a job's data; throws a one-line `Error` when it is not a job of this version.
 */
export function readSegmentJob(data: unknown): SegmentJob {
  const parsed = segmentJobSchema.safeParse(data);
  if (parsed.success) return parsed.data;
  const version = (data as { version?: unknown } | null)?.version;
  if (version !== JOB_DATA_VERSION) {
    throw new Error(
      `the job's data is version ${String(version)}; this worker reads version ${JOB_DATA_VERSION}`,
    );
  }
  const issue = parsed.error.issues[0];
  throw new Error(`the job's data is malformed: ${issue.path.join(".")}: ${issue.message}`);
}
