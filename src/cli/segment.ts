/**
 * `deno task segment`: decode a video, segment it, draw the masks, re-encode it, export masks.
 * Run with `--help` for the flags. Exit codes: 0 done, 1 runtime error, 2 usage error,
 * 130 interrupted; outputs are finalized in every case.
 * @module
 */
import { PromptError, readPromptsFile, resolvePrompts } from "../segment/prompts.ts";
import { parseInputSource } from "../video/input_source.ts";
import { probeVideo, type VideoInfo } from "../video/probe.ts";
import { formatStreamStats, StreamStats } from "../video/stream_stats.ts";
import {
  type EverythingImageCommandArgs,
  parseSegmentArgs,
  type ProgressMode,
  type SegmentArgs,
  UsageError,
} from "./args.ts";
import { SEGMENT_HELP } from "./segment_help.ts";
import type { RealtimeReport, SegmentationChoice } from "./segmentation_stage.ts";
import type { Segmenter } from "../segment/segmenter.ts";
import { type RealtimePlan, resolveRealtime } from "./realtime_args.ts";
import type { ModelProgressReporters } from "../model/terminal_progress.ts";

/** Share of the live latency target a frame may wait in the input queue before it is dropped. */
const LIVE_WAIT_SHARE = 0.6;

/** After this long waiting for a model still loading at the end of a run, say so. */
const MODEL_WAIT_NOTICE_MS = 1000;

/** Exit code of a run stopped by Ctrl-C (128 + SIGINT). */
export const EXIT_INTERRUPTED = 130;
/** Exit code of a usage error. */
export const EXIT_USAGE = 2;
/** Exit code of a runtime error. */
export const EXIT_FAILURE = 1;

const encoder = new TextEncoder();
const say = (line: string) => Deno.stderr.writeSync(encoder.encode(`segment: ${line}\n`));

/**
 * Runs the segment command with `argv` and returns its exit code. Ctrl-C stops decoding; the
 * outputs are then finalized and the code is 130 (a second Ctrl-C exits at once).
 *
 * @example
 * ```ts
 * const code = await runSegment(["--input", "in.mp4", "--output", "out.mp4"]);
 * ```
 */
export async function runSegment(argv: readonly string[]): Promise<number> {
  let parsed: SegmentArgs | EverythingImageCommandArgs | { readonly help: true };
  try {
    parsed = parseSegmentArgs(argv);
  } catch (error) {
    say(oneLine(error));
    return EXIT_USAGE;
  }
  if (parsed.help) {
    await Deno.stdout.write(encoder.encode(SEGMENT_HELP));
    return 0;
  }
  if ("everythingImage" in parsed) {
    const { runEverythingImage } = await import("./everything.ts");
    return await runEverythingImage(parsed);
  }
  const args = parsed as SegmentArgs;
  const interrupt = new AbortController();
  const onInterrupt = () => {
    if (interrupt.signal.aborted) Deno.exit(EXIT_INTERRUPTED);
    interrupt.abort();
  };
  Deno.addSignalListener("SIGINT", onInterrupt);
  const stats = new StreamStats();
  const opened: OpenedModel = {};
  try {
    await run(args, interrupt.signal, stats, opened);
    if (interrupt.signal.aborted) {
      say(`interrupted: outputs finalized after ${stats.framesOutput} frames`);
      return EXIT_INTERRUPTED;
    }
    return 0;
  } catch (error) {
    say(`error: ${oneLine(error)}`);
    if (interrupt.signal.aborted) return EXIT_INTERRUPTED;
    return isUsageError(error) ? EXIT_USAGE : EXIT_FAILURE;
  } finally {
    // The process must not exit while the model is still being opened (onnxruntime aborts when a
    // worker is torn down mid-initialization): wait for it, and release it (again: harmless).
    const released = opened.model?.then((segmenter) => segmenter.dispose(), () => {});
    if (released) {
      const slow = setTimeout(
        () => say("waiting for the model to finish loading (Ctrl-C again quits at once)"),
        MODEL_WAIT_NOTICE_MS,
      );
      await released;
      clearTimeout(slow);
    }
    Deno.removeSignalListener("SIGINT", onInterrupt);
  }
}

/** The model of a run, once a stage asked for it. */
interface OpenedModel {
  model?: Promise<Segmenter>;
}

async function run(
  args: SegmentArgs,
  signal: AbortSignal,
  stats: StreamStats,
  opened: OpenedModel,
): Promise<void> {
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
  const early = source.live &&
      (filePrompts.length > 0 || args.flagPrompts.length > 0 || args.discovery !== undefined)
    ? openModelFor(realtime, args.model, modelProgress)
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
      openModel: () => opened.model ??= openModelFor(realtime, args.model, modelProgress),
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
  const progress: ProgressMode = args.quiet
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

function isUsageError(error: unknown): boolean {
  // Prompts given as flags are part of the command line; a prompts file is an input.
  return error instanceof UsageError ||
    (error instanceof PromptError && error.message.startsWith("--"));
}

function oneLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split("\n").find((line) => line.trim() !== "")?.trim() ?? "unknown error";
}

if (import.meta.main) {
  // `deno task` runs in the repository root; relative paths mean the caller's directory.
  const callerDirectory = Deno.env.get("INIT_CWD");
  if (callerDirectory) Deno.chdir(callerDirectory);
  Deno.exit(await runSegment(Deno.args));
}
