/**
 * Picks the segmentation stage of a segment run from what was requested. Without prompts (and
 * without an everything pass) the run is a pass-through that needs no model; with prompts the
 * objects are tracked from frame to frame (or, with tracking off, each object's latest prompt is
 * decoded again on every frame).
 * @module
 */
import type { OperatorFunction } from "rxjs";
import type { Frame } from "../frame.ts";
import { type ModelChoice, openSegmenter } from "../model/open_segmenter.ts";
import type { SegmentedFrame } from "../segment/mask.ts";
import { decodePromptsEachFrame } from "../segment/prompt_each_frame.ts";
import type { ObjectPrompt } from "../segment/prompts.ts";
import { trackObjects } from "../segment/tracker/track_objects.ts";
import {
  everythingDiscovery,
  type EverythingDiscoveryOptions,
} from "../segment/everything/discovery_step.ts";
import { withSegmenter } from "../segment/with_segmenter.ts";
import { withoutMasks } from "../video/without_masks.ts";

/** The chosen stage and a one-line note for stderr, if any. */
export interface SegmentationChoice {
  readonly stage: OperatorFunction<Frame, SegmentedFrame>;
  readonly notice?: string;
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
    };
  }
  return {
    stage: withSegmenter(
      () => openSegmenter(model),
      (segmenter) =>
        options.discovery
          ? trackObjects(segmenter, prompts, { discovery: everythingDiscovery(options.discovery) })
          : options.tracking ?? true
          ? trackObjects(segmenter, prompts)
          : decodePromptsEachFrame(segmenter, prompts),
    ),
  };
}
