/**
 * The outputs of one job, `DIR/NAME/`: written in a hidden sibling directory (`src/fs/partial_dir.ts`)
 * and renamed into place only once complete, with a manifest (`job.json`) written last. So
 * `DIR/NAME/` either does not exist or holds everything the job asked for; a job that dies leaves
 * at most a hidden `.NAME.partial-*` directory, which the job's next attempt removes.
 * @module
 */
import { join } from "node:path";
import { commitPartial } from "../fs/partial_dir.ts";
import type { SegmentJob } from "./jobs.ts";

/** The overlay video of a job. */
export const OVERLAY_FILE = "overlay.mp4";
/** JSON lines of the masks (`--masks-json`). */
export const MASKS_JSONL_FILE = "masks.jsonl";
/** One label-map PNG per frame (`--masks-dir`). */
export const MASKS_DIR = "masks";
/** The prompts the job ran with, as `segment --prompts` takes them. */
export const PROMPTS_FILE = "prompts.json";
/** Written last: what was run, by whom, and how long it took. */
export const MANIFEST_FILE = "job.json";

/** What `job.json` records. */
export interface JobManifest {
  readonly jobId: string;
  readonly input: string;
  readonly outputs: readonly string[];
  readonly segmentArgs: readonly string[];
  readonly prompts?: string;
  readonly frames: number;
  readonly seconds: number;
  readonly worker: string;
  readonly finishedAt: string;
}

/** The output files and directories a job asks for, relative to its output directory. */
export function requestedOutputs(job: Pick<SegmentJob, "masksJson" | "masksDir">): string[] {
  return [
    OVERLAY_FILE,
    ...(job.masksJson ? [MASKS_JSONL_FILE] : []),
    ...(job.masksDir ? [MASKS_DIR] : []),
  ];
}

/**
 * Whether `outputDir` holds a finished job's outputs with everything `job` asks for (its manifest
 * and each requested output).
 */
export async function outputsComplete(
  outputDir: string,
  job: Pick<SegmentJob, "masksJson" | "masksDir">,
): Promise<boolean> {
  for (const entry of [MANIFEST_FILE, ...requestedOutputs(job)]) {
    try {
      await Deno.stat(join(outputDir, entry));
    } catch {
      return false;
    }
  }
  return true;
}

/**
 * Writes the manifest into `partial` and renames `partial` to `outputDir` (replacing a forced
 * resubmission's earlier outputs in one step).
 */
export async function commitOutputs(
  partial: string,
  outputDir: string,
  manifest: JobManifest,
): Promise<void> {
  await Deno.writeTextFile(join(partial, MANIFEST_FILE), JSON.stringify(manifest, null, 2) + "\n");
  await commitPartial(partial, outputDir);
}
