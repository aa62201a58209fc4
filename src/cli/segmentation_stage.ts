/**
 * Picks the segmentation stage of a segment run from what was requested. Without prompts (and,
 * once the model lands, without an everything pass) the run is a pass-through needing no model.
 * @module
 */
import type { OperatorFunction } from "rxjs";
import type { Frame } from "../frame.ts";
import type { SegmentedFrame } from "../segment/mask.ts";
import type { ObjectPrompt } from "../segment/prompts.ts";
import { withoutMasks } from "../video/without_masks.ts";

/** The chosen stage and a one-line note for stderr, if any. */
export interface SegmentationChoice {
  readonly stage: OperatorFunction<Frame, SegmentedFrame>;
  readonly notice?: string;
}

/** A request the current build cannot serve (exit code 1). */
export class SegmentationUnavailableError extends Error {
  override name = "SegmentationUnavailableError";
}

/**
 * Chooses the stage for `prompts` (validated, merged).
 *
 * @example
 * ```ts
 * const { stage, notice } = chooseSegmentation([]);
 * // notice: "no prompts and no everything pass: passing the video through without a model"
 * ```
 */
export function chooseSegmentation(prompts: readonly ObjectPrompt[]): SegmentationChoice {
  if (prompts.length === 0) {
    return {
      stage: withoutMasks(),
      notice: "no prompts and no everything pass: passing the video through without a model",
    };
  }
  throw new SegmentationUnavailableError(
    "prompted segmentation needs the TinySAM model, which this build does not include yet",
  );
}
