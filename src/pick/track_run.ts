/**
 * The page's Track button: the segment command's own run on the whole video with the page's
 * prompts, on the page's model, with progress, cancellation, and outputs committed only once
 * complete (`DIR/track/`: overlay.mp4, masks.jsonl, masks/, prompts.json).
 * @module
 */
import { join } from "node:path";
import { parseSegmentArgs, type SegmentArgs } from "../cli/args.ts";
import { oneLine } from "../cli/segment.ts";
import { segmentRun } from "../cli/segment_run.ts";
import type { ProgressRecord } from "../cli/progress.ts";
import { commitPartial, discardPartial, startPartial } from "../fs/partial_dir.ts";
import { writeFileAtomic } from "../fs/write_file_atomic.ts";
import { lendSegmenter } from "../segment/lent_segmenter.ts";
import type { PromptsFile } from "../segment/prompts.ts";
import { StreamStats } from "../video/stream_stats.ts";
import { ModelBusyError, type PickSession } from "./pick_session.ts";

/** Tracking options the page offers (as `segment` takes them). */
export interface TrackOptions {
  /** `--stride`: "auto" or every Nth frame encoded. */
  readonly stride?: "auto" | number;
  /** `--everything-every`: an everything pass every K frames. */
  readonly everythingEvery?: number;
}

/** Where a run is. */
export interface TrackState {
  readonly state: "idle" | "running" | "done" | "failed" | "cancelled";
  /** Counts runs (1 for the first); the page tells results apart by it. */
  readonly run: number;
  readonly frames: number;
  readonly totalFrames: number | null;
  readonly fps: number;
  readonly etaSeconds: number | null;
  /** The failure's one-line reason. */
  readonly error?: string;
  /** The equivalent `deno task segment` arguments of the run (its outputs where they end up). */
  readonly command?: readonly string[];
}

/** The files of a run, relative to its directory. */
export const TRACK_FILES = {
  overlay: "overlay.mp4",
  masksJson: "masks.jsonl",
  masksDir: "masks",
  prompts: "prompts.json",
} as const;

/**
 * `deno task segment` arguments that run `input` with the prompts at `promptsPath` and write the
 * run's files into `outputDir`.
 *
 * @example
 * ```ts
 * segmentCommand("in.mp4", "out/prompts.json", "out/track", { stride: "auto" }, []);
 * // ["--input", "in.mp4", "--prompts", "out/prompts.json", "--output", "out/track/overlay.mp4", ...]
 * ```
 */
export function segmentCommand(
  input: string,
  promptsPath: string,
  outputDir: string,
  options: TrackOptions,
  modelFlags: readonly string[],
): string[] {
  return [
    "--input",
    input,
    "--prompts",
    promptsPath,
    "--output",
    join(outputDir, TRACK_FILES.overlay),
    "--masks-json",
    join(outputDir, TRACK_FILES.masksJson),
    "--masks-dir",
    join(outputDir, TRACK_FILES.masksDir),
    ...(options.stride !== undefined ? ["--stride", String(options.stride)] : []),
    ...(options.everythingEvery !== undefined
      ? ["--everything-every", String(options.everythingEvery)]
      : []),
    ...modelFlags,
  ];
}

/**
 * Runs tracking for the page, one run at a time.
 *
 * @example
 * ```ts
 * const runner = new TrackRunner(session, "out/track", []);
 * runner.start(prompts, { stride: "auto" });
 * runner.state; // { state: "running", frames: 12, ... }
 * ```
 */
export class TrackRunner {
  #state: TrackState = blank("idle", 0);
  #stop?: AbortController;
  #finished: Promise<void> = Promise.resolve();

  /**
   * `trackDir` receives each complete run; `modelFlags` are the model flags of the equivalent
   * command (the run itself uses the session's model).
   */
  constructor(
    readonly session: PickSession,
    readonly trackDir: string,
    readonly modelFlags: readonly string[],
  ) {}

  get state(): TrackState {
    return this.#state;
  }

  /** Resolves once the current run (if any) has ended and its outputs are settled. */
  get finished(): Promise<void> {
    return this.#finished;
  }

  /** Starts a run; throws {@link ModelBusyError} while one is under way. */
  start(prompts: PromptsFile, options: TrackOptions): TrackState {
    if (this.#state.state === "running" || this.session.lent) {
      throw new ModelBusyError("a tracking run is under way");
    }
    const run = this.#state.run + 1;
    const stop = new AbortController();
    this.#stop = stop;
    const command = segmentCommand(
      this.session.source.spec,
      join(this.trackDir, TRACK_FILES.prompts),
      this.trackDir,
      options,
      this.modelFlags,
    );
    this.#state = { ...blank("running", run), totalFrames: this.session.info.frameCount ?? null };
    this.#finished = this.#run(prompts, options, stop.signal).then(
      (state) => {
        this.#state = { ...state, command };
      },
      (error) => {
        this.#state = { ...this.#state, state: "failed", error: oneLine(error), command };
      },
    );
    return this.#state;
  }

  /** Stops the run under way: its outputs are discarded. */
  cancel(): void {
    this.#stop?.abort();
  }

  async #run(prompts: PromptsFile, options: TrackOptions, signal: AbortSignal) {
    const partial = await startPartial(this.trackDir, "track");
    try {
      const promptsPath = join(partial, TRACK_FILES.prompts);
      await writeFileAtomic(
        promptsPath,
        new TextEncoder().encode(JSON.stringify(prompts, null, 2) + "\n"),
      );
      const argv = segmentCommand(
        this.session.source.spec,
        promptsPath,
        partial,
        options,
        this.modelFlags,
      );
      const args = parseSegmentArgs([...argv, "--quiet"]) as SegmentArgs;
      await this.session.lend((segmenter) =>
        segmentRun(args, {
          signal,
          stats: new StreamStats(),
          opened: {},
          openModel: () => Promise.resolve(lendSegmenter(segmenter, () => {})),
          onProgress: (record) => this.#progress(record),
          say: () => {},
        })
      );
      if (signal.aborted) {
        await discardPartial(partial);
        return { ...this.#state, state: "cancelled" as const };
      }
      await commitPartial(partial, this.trackDir);
      return { ...this.#state, state: "done" as const, etaSeconds: 0 };
    } catch (error) {
      await discardPartial(partial);
      if (signal.aborted) return { ...this.#state, state: "cancelled" as const };
      throw error;
    }
  }

  #progress(record: ProgressRecord): void {
    if (this.#state.state !== "running") return;
    this.#state = {
      ...this.#state,
      frames: record.frames,
      totalFrames: record.totalFrames,
      fps: record.fps,
      etaSeconds: record.etaSeconds,
    };
  }
}

function blank(state: TrackState["state"], run: number): TrackState {
  return { state, run, frames: 0, totalFrames: null, fps: 0, etaSeconds: null };
}
