/**
 * The `--help` text of `deno task batch` and of each subcommand.
 * @module
 */
import { DEFAULT_ATTEMPTS, DEFAULT_LOCK_SECONDS } from "./batch_args.ts";
import { RETRY_DELAY_MS } from "../batch/submit.ts";

const SUBMIT = `Usage:
  deno task batch submit --queue URL --output-dir DIR --input VIDEOS [options]

Enqueue one job per video. Outputs land in DIR/NAME/ (NAME: the video's file name without its
extension): overlay.mp4, prompts.json and job.json, plus masks.jsonl and masks/ when asked for.
DIR must be reachable by every worker (a shared filesystem or mount), as must the videos.

  --queue URL              the Redis server: redis://[user:password@]host:port[/db], rediss:// for TLS
  -i, --input VIDEOS       a video file, a glob ("clips/*.mp4", quoted), or @LIST (a file with one
                           path or glob per line, relative to the list); repeatable; arguments
                           without a flag are inputs too
      --output-dir DIR     where each video's outputs go (DIR/NAME/)
      --prompts FILE       prompts for every video without NAME.prompts.json beside it
                           (the format of segment --prompts)
      --masks-json         write DIR/NAME/masks.jsonl (as segment --masks-json)
      --masks-dir          write DIR/NAME/masks/ (as segment --masks-dir)
      --force              run videos whose outputs are complete again (default: skip them)
      --attempts N         runs of a job before it fails (default ${DEFAULT_ATTEMPTS}; retries wait
                           ${
  RETRY_DELAY_MS / 1000
} s, then twice as long each time); bad input (a corrupt video,
                           prompts outside the frame) fails at once

Segment options, as in deno task segment (every job runs with them):
  --everything-every K, --everything-mode MODE, --points-per-side N, --max-objects N,
  --stride N|auto, --preset PRESET, --max-frames N, --precision P, --model NAME,
  --checkpoint FILE, --calibration DIR (a job's model flags win over the worker's)

A video already queued or running is not queued again. Each job is given the same id each
time (from its output directory), so status shows the latest run of each video.
`;

const WORKER = `Usage:
  deno task batch worker --queue URL [--concurrency N] [model options]

Run jobs until stopped, on as many machines as needed (all with the same command). The model is
opened on the first job that needs it and kept open for the next ones. Progress (frames, fps) is
reported to the queue; outputs are written in a hidden directory and renamed into place once
complete. SIGTERM or Ctrl-C gives the jobs under way back to the queue and exits (0); a second
one exits at once.

  --queue URL              the Redis server (as for submit)
  --concurrency N          jobs at once, each with its own segmenter (default 1)
  --lock-seconds N         a worker that stops answering (killed, cut off) loses its job to another
                           worker after about N seconds (default ${DEFAULT_LOCK_SECONDS})
  --model NAME | --checkpoint FILE, --precision P, --threads N, --calibration DIR
                           the model for jobs that do not name one (as in deno task segment)

An unreachable server at start is one line and exit 1; a connection lost later is retried with
backoff, and said.
`;

const STATUS = `Usage:
  deno task batch status --queue URL [--json]

Counts of queued, active, done and failed jobs, then one line per job: progress of active ones,
the one-line reason of each failure (and of the failure a queued retry follows), frames and
speed of finished ones.

  --queue URL              the Redis server (as for submit)
  --json                   one JSON object: {"counts": {"queued", "active", "done", "failed"},
                           "jobs": [{"id", "name", "input", "outputDir", "state", "attempts",
                           "maxAttempts", "progress"?, "result"?, "reason"?}]}
`;

const OVERVIEW = `Segment many videos on many machines through a BullMQ job queue in Redis.

Usage:
  deno task batch submit --queue URL --output-dir DIR --input VIDEOS [options]
  deno task batch worker --queue URL [--concurrency N] [model options]
  deno task batch status --queue URL [--json]

deno task batch SUBCOMMAND --help shows a subcommand's options.
`;

/** The help of `command`, or the overview. */
export function batchHelp(command?: "submit" | "worker" | "status"): string {
  switch (command) {
    case "submit":
      return SUBMIT;
    case "worker":
      return WORKER;
    case "status":
      return STATUS;
    default:
      return OVERVIEW;
  }
}
