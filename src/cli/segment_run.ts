/**
 * One run of `segment` from validated arguments: probe, prompts, the segmentation stage, the
 * pipeline, and the closing summary. The segment command runs it once per process; a batch worker
 * runs it once per job, with the model it keeps open across jobs.
 * @module
 */
import { readPromptsFile, resolvePrompts } from "../segment/prompts.ts";
import { parseInputSource } from "../video/input_source.ts";
import { probeVideo, type VideoInfo } from "../video/probe.ts";
import { formatStreamStats, type StreamStats } from "../video/stream_stats.ts";
import { type ProgressMode, type SegmentArgs, UsageError } from "./args.ts";
import type { RealtimeReport, SegmentationChoice } from "./segmentation_stage.ts";
import type { Segmenter } from "../segment/segmenter.ts";
import type { ModelChoice } from "../model/open_segmenter.ts";
import { type RealtimePlan, resolveRealtime } from "./realtime_args.ts";
import type { ModelProgressReporters } from "../model/terminal_progress.ts";
import type { ProgressRecord } from "./progress.ts";

/** Share of the live latency target a frame may wait in the input queue before it is dropped. */
const LIVE_WAIT_SHARE = 0.6;

const encoder = new TextEncoder();

/** The model of a run, once a stage asked for it. */
export interface OpenedModel {
  model?: Promise<Segmenter>;
}

/** What a run reports to and takes from whoever runs it (the segment command, a batch worker). */
export interface SegmentRunContext {
  /** Aborting stops decoding; the outputs are then finalized and the run returns. */
  readonly signal: AbortSignal;
  /** Filled in as the run goes (frames read, written, dropped). */
  readonly stats: StreamStats;
  /** Set when a stage opens the model: the caller waits for it before the process exits. */
  readonly opened: OpenedModel;
  /** Opens the model in place of the model cache (a worker's model shared by its jobs). */
  readonly openModel?: (choice: ModelChoice) => Promise<Segmenter>;
  /** Receives the progress records instead of `--progress` writing them. */
  readonly onProgress?: (record: ProgressRecord) => void;
  /** Writes one line for the user (a notice, the closing summary). */
  readonly say: (line: string) => void;
}

/**
 * Runs `segment` with validated `args`: probes the input, resolves the prompts, picks the stage,
 * and runs the pipeline to its end (or to the abort of `context.signal`). Errors are thrown with
 * one-line messages; whatever was written is finalized.
 *
 * @example
 * ```ts
 * const context = { signal, stats: new StreamStats(), opened: {}, say: console.error };
 * await segmentRun(parseSegmentArgs(argv) as SegmentArgs, context);
 * ```
 */
export async function segmentRun(args: SegmentArgs, context: SegmentRunContext): Promise<void> {
  const { signal, stats, opened, say } = context;
  const started = performance.now();
  const filePrompts = args.promptsFile ? await readPromptsFile(args.promptsFile) : [];
  const source = parseInputSource(args.input, { live: args.live });
  let realtime: RealtimePlan;
  try {
    realtime = resolveRealtime(args.realtime, source.live);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  // ffprobe takes about as long as loading the pipeline's modules: both at once.
  const probing = probeVideo(source);
  probing.catch(() => {/* awaited below */});
  const {
    lastValueFrom,
    segmentVideo,
    chooseSegmentation,
    openModelFor,
    discoveryOptions,
    reportProgress,
    formatRealtimeReport,
    realtimeReportRecord,
  } = await pipelineModules();
  // A live source keeps producing while the model loads: load it while the input is probed, so
  // fewer frames pile up (and are dropped) before the first one is processed.
  const json = args.progress === "json" && !args.quiet;
  const modelProgress = json ? jsonModelProgress() : undefined;
  const openModel = () =>
    context.openModel
      ? context.openModel(args.model)
      : openModelFor(realtime, args.model, modelProgress);
  const early = source.live &&
      (filePrompts.length > 0 || args.flagPrompts.length > 0 || args.discovery !== undefined)
    ? openModel()
    : undefined;
  early?.catch(() => {/* reported when the stage opens it */});
  opened.model = early;
  let choice: SegmentationChoice;
  let realtimeReport: RealtimeReport | undefined;
  let modelOpen: { framesBefore: number; seconds: number } | undefined;
  let info: VideoInfo;
  try {
    info = await probing;
    if (signal.aborted) throw signal.reason;
    const prompts = resolvePrompts([...filePrompts, ...args.flagPrompts], info);
    choice = chooseSegmentation(prompts, args.model, {
      ...(args.discovery ? { discovery: discoveryOptions(args.discovery) } : {}),
      realtime,
      onRealtimeReport: (report) => realtimeReport = report,
      openModel: () => opened.model ??= openModel(),
      // A live stream does not wait for the model: its first frames go out without masks.
      passWhileOpening: source.live,
      onUnmaskedFrame: () => stats.framesUnmasked++,
      onModelOpen: (framesBefore) => {
        modelOpen = { framesBefore, seconds: (performance.now() - started) / 1000 };
        if (json) {
          writeRecord({ event: "model-open", ...modelOpen, seconds: round3(modelOpen.seconds) });
        }
      },
    });
  } catch (error) {
    if (signal.aborted) return;
    throw error;
  }
  if (choice.notice) say(choice.notice);
  const progress: ProgressMode = args.quiet || context.onProgress
    ? "none"
    : args.progress ?? (Deno.stderr.isTerminal() ? "tty" : "none");
  const expectedFrames = info.frameCount ??
    (info.durationSeconds ? Math.round(info.durationSeconds * info.fps) : undefined);
  await lastValueFrom(
    segmentVideo({
      source,
      info,
      segmentation: choice.stage,
      keepsFrames: choice.keepsFrames,
      // A live frame is dropped only once its wait has used most of the latency budget.
      ...(realtime.latencyTargetMs !== undefined
        ? { liveMaxWaitMs: realtime.latencyTargetMs * LIVE_WAIT_SHARE }
        : {}),
      target: args.output,
      masksDir: args.masksDir,
      masksJsonl: args.masksJson,
      maxFrames: args.maxFrames,
      signal,
      stats,
      ...(realtime.preset ? { preset: realtime.preset } : {}),
      // A live stream's frames cannot wait for one thread to draw, track and encode in turn.
      overlayInWorker: source.live,
    }).pipe(reportProgress({
      mode: progress,
      ...(context.onProgress ? { onRecord: context.onProgress } : {}),
      totalFrames: args.maxFrames !== undefined && expectedFrames !== undefined
        ? Math.min(args.maxFrames, expectedFrames)
        : args.maxFrames ?? expectedFrames,
    })),
    { defaultValue: undefined },
  );
  if (args.quiet) return;
  const seconds = (performance.now() - started) / 1000;
  const summary = stats.summary();
  if (progress === "json") {
    if (realtimeReport) writeRecord(realtimeReportRecord(realtimeReport));
    writeRecord({ event: "stats", ...summary, seconds: round3(seconds) });
  } else {
    if (modelOpen && modelOpen.framesBefore > 0) {
      say(
        `model open after ${
          modelOpen.seconds.toFixed(1)
        } s: the ${modelOpen.framesBefore} frames before it went out without masks`,
      );
    }
    if (realtimeReport) say(formatRealtimeReport(realtimeReport));
    say(
      `${formatStreamStats(summary)}; ${seconds.toFixed(1)} s (${
        (summary.framesOutput / Math.max(seconds, 1e-9)).toFixed(1)
      } fps)`,
    );
  }
}

/** What a run needs beyond its flags and its input's probe (loaded while the input is probed). */
async function pipelineModules() {
  const [rx, pipeline, stage, everything, progress, report] = await Promise.all([
    import("rxjs"),
    import("../../pipelines/segment_video.ts"),
    import("./segmentation_stage.ts"),
    import("./everything.ts"),
    import("./progress.ts"),
    import("./realtime_report.ts"),
  ]);
  return {
    lastValueFrom: rx.lastValueFrom,
    segmentVideo: pipeline.segmentVideo,
    chooseSegmentation: stage.chooseSegmentation,
    openModelFor: stage.openModelFor,
    discoveryOptions: everything.discoveryOptions,
    reportProgress: progress.reportProgress,
    formatRealtimeReport: report.formatRealtimeReport,
    realtimeReportRecord: report.realtimeReportRecord,
  };
}

/** Writes one `--progress json` record on stderr. */
function writeRecord(record: Record<string, unknown>): void {
  Deno.stderr.writeSync(encoder.encode(JSON.stringify(record) + "\n"));
}

/** Least time between two `model-download` records. */
const DOWNLOAD_RECORD_MS = 500;

/**
 * Model preparation as `--progress json` records: `{"event":"model","message":..}` per step
 * (downloading, waiting for another process, building) and `{"event":"model-download",..}` with
 * the bytes received, twice a second and once at the end.
 */
function jsonModelProgress(): ModelProgressReporters {
  let lastDownloadRecord = -Infinity;
  return {
    onProgress: (message) => writeRecord({ event: "model", message }),
    onDownloadProgress: (progress) => {
      const now = performance.now();
      if (!progress.done && now - lastDownloadRecord < DOWNLOAD_RECORD_MS) return;
      lastDownloadRecord = now;
      writeRecord({
        event: "model-download",
        ...progress,
        elapsedSeconds: round3(progress.elapsedSeconds),
      });
    },
  };
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
