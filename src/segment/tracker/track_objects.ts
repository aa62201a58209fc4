/**
 * The tracking stage: frames in, frames with their tracked objects' masks out.
 * @module
 */
import {
  concat,
  concatMap,
  defer,
  finalize,
  ignoreElements,
  map,
  type OperatorFunction,
  tap,
} from "rxjs";
import type { Frame } from "../../frame.ts";
import type { SegmentedFrame } from "../mask.ts";
import type { ObjectPrompt } from "../prompts.ts";
import { embedAhead, type FrameWithEmbedding } from "../embed_ahead.ts";
import type { Segmenter } from "../segmenter.ts";
import { type KeyframeCounts, type KeyframeOptions, KeyframeTracker } from "./keyframe_tracker.ts";
import { ObjectTracker, type TrackerOptions } from "./object_tracker.ts";
import type { TrackerState } from "./tracker_state.ts";

/** Options of {@link trackObjects}. */
export interface TrackObjectsOptions extends TrackerOptions {
  /** Called with each subscription's tracker state when the subscription starts (for inspection). */
  readonly onState?: (state: TrackerState) => void;
  /**
   * Run the image encoder on keyframes only and carry the objects by motion in between (default:
   * every frame is a keyframe, without motion estimation).
   */
  readonly keyframes?: KeyframeOptions;
  /** Called with each subscription's keyframe counts when it ends (with `keyframes` only). */
  readonly onKeyframeCounts?: (counts: KeyframeCounts) => void;
  /**
   * When every frame is a keyframe: embed up to this many arriving frames at once, ahead of the
   * frame being tracked (pipelining; default 1: each frame is embedded when its turn comes).
   */
  readonly embedAhead?: number;
  /** Called with each frame's wall-clock time from capture to leaving this stage, in ms. */
  readonly onStageLatency?: (latencyMs: number) => void;
}

/**
 * Follows the prompted objects through the stream: one output per input frame, in order, each with
 * the masks of the objects tracked on that frame (ids from the prompts). Per frame the segmenter
 * embeds once and decodes every object's prompt in one batched call. Prompts apply on their frame;
 * a prompt for an object that already exists is a correction and replaces its state. Lost objects
 * are not drawn; they are searched for around their predicted position and keep their id when
 * found. Each subscription tracks afresh; the segmenter is used, not opened or disposed (wrap the
 * stage in `withSegmenter` for that).
 *
 * @example
 * ```ts
 * const prompts = resolvePrompts(await readPromptsFile("prompts.json"), info);
 * decodeVideo(source, info).pipe(
 *   trackObjects(segmenter, prompts),
 *   writeMaskPngs("out/masks"),
 * ).subscribe();
 * ```
 */
export function trackObjects(
  segmenter: Segmenter,
  prompts: readonly ObjectPrompt[],
  options: TrackObjectsOptions = {},
): OperatorFunction<Frame, SegmentedFrame> {
  return (frames) =>
    defer(() => {
      const everyFrame = !options.keyframes || options.keyframes.policy.everyFrame;
      const ahead = everyFrame && (options.embedAhead ?? 1) > 1
        ? embedAhead(segmenter, options.embedAhead!)
        : map((frame: Frame): FrameWithEmbedding => ({
          frame,
          embedding: () => segmenter.embed(frame),
        }));
      const latency = tap((item: SegmentedFrame) => {
        const captured = item.frame.capturedAtMs;
        if (captured !== undefined) options.onStageLatency?.(performance.now() - captured);
      });
      if (options.keyframes) {
        const keyframes = { ...options, keyframes: options.keyframes };
        const tracker = new KeyframeTracker(segmenter, prompts, keyframes);
        options.onState?.(tracker.state);
        return concat(
          frames.pipe(
            ahead,
            concatMap(async ({ frame, embedding }): Promise<SegmentedFrame> => ({
              frame,
              masks: await tracker.step(frame, embedding),
            })),
            latency,
          ),
          // Background refinements still under way must not outlive the stream (and its model).
          defer(() => tracker.settle()).pipe(ignoreElements()),
        ).pipe(finalize(() => options.onKeyframeCounts?.(tracker.counts())));
      }
      const tracker = new ObjectTracker(segmenter, prompts, options);
      options.onState?.(tracker.state);
      return frames.pipe(
        ahead,
        concatMap(async ({ frame, embedding }): Promise<SegmentedFrame> => ({
          frame,
          masks: await tracker.step(frame, embedding),
        })),
        latency,
      );
    });
}
