/**
 * Picks the segmentation stage of a segment run from what was requested. Without prompts (and
 * without an everything pass) the run is a pass-through that needs no model; with prompts the
 * objects are tracked from frame to frame (or, with tracking off, each object's latest prompt is
 * decoded again on every frame).
 * @module
 */
import type { OperatorFunction } from "rxjs";
import type { Frame } from "../frame.ts";
import type { ModelChoice } from "../model/open_segmenter.ts";
import type { ModelProgressReporters } from "../model/terminal_progress.ts";
import type { SegmentedFrame } from "../segment/mask.ts";
import type { Segmenter } from "../segment/segmenter.ts";
import { decodePromptsEachFrame } from "../segment/prompt_each_frame.ts";
import type { ObjectPrompt } from "../segment/prompts.ts";
import { trackObjects } from "../segment/tracker/track_objects.ts";
import {
  everythingDiscovery,
  type EverythingDiscoveryOptions,
} from "../segment/everything/discovery_step.ts";
import { withSegmenter } from "../segment/with_segmenter.ts";
import { unsegmented, withoutMasks } from "../video/without_masks.ts";
import type { WorkerLayout } from "../model/open_worker_segmenter.ts";
import { adaptiveKeyframes, fixedStride } from "../segment/tracker/keyframe_policy.ts";
import type { KeyframeCounts, KeyframeOptions } from "../segment/tracker/keyframe_tracker.ts";
import { latencyGovernedKeyframes } from "../segment/tracker/latency_governor.ts";
import type { TrackObjectsOptions } from "../segment/tracker/track_objects.ts";
import type { RealtimePlan } from "./realtime_args.ts";

/** The chosen stage and a one-line note for stderr, if any. */
export interface SegmentationChoice {
  readonly stage: OperatorFunction<Frame, SegmentedFrame>;
  readonly notice?: string;
  /** Whether the stage may keep a frame's pixels after passing it on (see `segmentVideo`). */
  readonly keepsFrames: boolean;
}

/** How a prompted run segments. */
export interface SegmentationOptions {
  /** Follow the objects from frame to frame (default true); false decodes the prompts on every frame. */
  readonly tracking?: boolean;
  /**
   * Periodic everything passes (`--everything-every K`) that refresh, re-acquire and add tracked
   * objects; they need the tracker, so they imply tracking. Works with or without prompts.
   */
  readonly discovery?: EverythingDiscoveryOptions;
  /**
   * Keyframes, refinement and threads (see `realtime_args.ts`); the model then runs in worker
   * threads. Without it every frame is encoded in the pipeline's thread.
   */
  readonly realtime?: RealtimePlan;
  /** Called when a tracking run ends with what its keyframes were (with `realtime` only). */
  readonly onRealtimeReport?: (report: RealtimeReport) => void;
  /** Opens the model in place of `model` (e.g. one already being opened); the stage disposes it. */
  readonly openModel?: () => Promise<Segmenter>;
  /**
   * Live inputs: frames that arrive while the model is still opening go out at once without
   * masks, instead of waiting (and being dropped) until it is open.
   */
  readonly passWhileOpening?: boolean;
  /** Called when the model is open, with the number of frames that went out before it. */
  readonly onModelOpen?: (framesBefore: number) => void;
  /** Called for each frame that goes out without masks because the model is not open yet. */
  readonly onUnmaskedFrame?: () => void;
}

/** What a tracking run's keyframes were. */
export interface RealtimeReport {
  /** The keyframe policy, e.g. `stride 1`, `stride 4`, `auto (latency target 250 ms)`. */
  readonly policy: string;
  readonly refine: "sync" | "async";
  readonly counts: KeyframeCounts;
  /** Live runs: the smallest keyframe interval the latency governor settled on. */
  readonly minInterval?: number;
  /** Seconds from the model's opening to the end of the stream (encoder runs per second). */
  readonly modelOpenSeconds: number;
}

/**
 * Opens the model as a plan wants it: in the pipeline's thread (no encoder worker) or in worker
 * threads, where background (asynchronous) refinements run at a lower priority than the
 * pipeline's per-frame work.
 */
export async function openModelFor(
  plan: RealtimePlan,
  model: ModelChoice,
  progress?: ModelProgressReporters,
): Promise<Segmenter> {
  if (plan.encoderWorkers === 0) return await openInThread(model, progress);
  // In the background an encoder keeps to one thread (unless --threads says otherwise): a
  // two-thread session stalls whenever the per-frame work takes one of its cores.
  const layout: WorkerLayout = {
    encoderWorkers: plan.encoderWorkers,
    ...(plan.refine === "async"
      ? { nice: BACKGROUND_NICE, encoderThreads: model.threads ?? 1 }
      : {}),
  };
  // Loaded on demand: a run without prompts never loads the model code.
  const { openWorkerSegmenter } = await import("../model/open_worker_segmenter.ts");
  return await openWorkerSegmenter(model, layout, progress);
}

/** The model in the pipeline's own thread (its code loaded on demand). */
async function openInThread(
  model: ModelChoice,
  progress?: ModelProgressReporters,
): Promise<Segmenter> {
  const { openSegmenter } = await import("../model/open_segmenter.ts");
  return await openSegmenter(model, progress);
}

/** Most frames between two live keyframes (refinements land later than this anyway). */
const LIVE_MAX_INTERVAL = 10;

/** Niceness of model workers refining in the background. */
const BACKGROUND_NICE = 10;

/** The tracker's keyframe and pipelining options for a real-time plan. */
function realtimeTracking(
  plan: RealtimePlan,
  report: ((report: RealtimeReport) => void) | undefined,
  openedAtMs: () => number,
): TrackObjectsOptions {
  const governed = plan.stride === "auto" && plan.latencyTargetMs !== undefined
    // Live, a refinement lands a second or so after its keyframe: start the next one as soon as
    // the encoder is free (unless the latency governor spaces them out).
    ? latencyGovernedKeyframes({ targetMs: plan.latencyTargetMs, maxInterval: LIVE_MAX_INTERVAL })
    : undefined;
  const policy = governed ??
    (plan.stride === "auto" ? adaptiveKeyframes() : fixedStride(plan.stride));
  const keyframes: KeyframeOptions = { policy, refine: plan.refine };
  return {
    keyframes,
    // Each encoder worker gets its next frame queued while it works on one.
    embedAhead: plan.encoderWorkers === 0 ? 1 : plan.encoderWorkers + 1,
    ...(governed ? { onStageLatency: (ms: number) => governed.observeLatency(ms) } : {}),
    onKeyframeCounts: (counts) =>
      report?.({
        policy: policy.name,
        refine: policy.everyFrame ? "sync" : plan.refine,
        counts,
        ...(governed ? { minInterval: governed.minInterval } : {}),
        modelOpenSeconds: (performance.now() - openedAtMs()) / 1000,
      }),
  };
}

/**
 * Chooses the stage for `prompts` (validated, merged); `model` is opened only if a stage needs it,
 * when the stream starts, and closed when it ends.
 *
 * @example
 * ```ts
 * const { stage, notice } = chooseSegmentation([], { precision: "fp32" });
 * // notice: "no prompts and no everything pass: passing the video through without a model"
 * ```
 */
export function chooseSegmentation(
  prompts: readonly ObjectPrompt[],
  model: ModelChoice,
  options: SegmentationOptions = {},
): SegmentationChoice {
  if (prompts.length === 0 && !options.discovery) {
    return {
      stage: withoutMasks(),
      notice: "no prompts and no everything pass: passing the video through without a model",
      keepsFrames: false,
    };
  }
  const plan = options.realtime;
  let openedAtMs = performance.now();
  const realtime = plan ? realtimeTracking(plan, options.onRealtimeReport, () => openedAtMs) : {};
  return {
    keepsFrames: true,
    stage: withSegmenter(
      () =>
        options.openModel
          ? options.openModel()
          : plan
          ? openModelFor(plan, model)
          : openInThread(model),
      (segmenter) =>
        options.discovery
          ? trackObjects(segmenter, prompts, {
            ...realtime,
            discovery: everythingDiscovery(options.discovery),
          })
          : options.tracking ?? true
          ? trackObjects(segmenter, prompts, realtime)
          : decodePromptsEachFrame(segmenter, prompts),
      {
        ...(options.passWhileOpening
          ? {
            meanwhile: (frame: Frame) => {
              options.onUnmaskedFrame?.();
              return unsegmented(frame);
            },
          }
          : {}),
        onOpen: (framesBefore: number) => {
          openedAtMs = performance.now();
          options.onModelOpen?.(framesBefore);
        },
      },
    ),
  };
}
