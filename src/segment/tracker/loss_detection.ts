/**
 * Deciding that a propagated mask is no longer the object: nothing found, a sliver of its usual
 * size, a low predicted IoU, an implausible jump in area or position, different colours, or a
 * predicted position (mostly) outside the frame.
 * @module
 */
import type { BoxXyxy } from "../mask.ts";
import type { LossReason } from "./object_state.ts";
import {
  boxCentre,
  clipBox,
  type PixelWindow,
  shareInsideFrame,
} from "../geometry/pixel_window.ts";

/** Thresholds of {@link detectLoss}. */
export interface LossOptions {
  /** Lowest acceptable predicted IoU (default 0.5). */
  readonly minScore?: number;
  /** Smallest drawable mask in pixels (default 16). */
  readonly minAreaPx?: number;
  /** Smallest drawable mask as a share of the object's reference area (default 0.03). */
  readonly minAreaShare?: number;
  /** Largest growth factor from one frame to the next once above 1.5x the reference area (default 2). */
  readonly maxGrowth?: number;
  /** Smallest shrink factor from one frame to the next (default 0.25). */
  readonly maxShrink?: number;
  /** Largest distance between the mask's and the predicted box's centres, as a share of the box diagonal (default 0.5; 8 px are added). */
  readonly maxJumpShare?: number;
  /** Lowest colour-histogram similarity to the object's appearance (default 0.3). */
  readonly minAppearance?: number;
  /** Below this share of the predicted box inside the frame the object has left (default 0.05). */
  readonly minInsideShare?: number;
}

/** What a loss decision looks at. */
export interface LossEvidence {
  readonly area: number;
  /** Tight window of the mask (ignored when `area` is 0). */
  readonly bounds: PixelWindow;
  /** Predicted IoU of the chosen output. */
  readonly score: number;
  /** Colour-histogram similarity to the object's appearance (1 when unknown). */
  readonly appearance: number;
  /** Where the motion estimate put the object's box (may reach outside the frame). */
  readonly predictedBox: BoxXyxy;
  /** The object's area on the previous frame. */
  readonly previousArea: number;
  /** The object's smoothed area when fully visible (0 when unknown). */
  readonly referenceArea: number;
  readonly frameWidth: number;
  readonly frameHeight: number;
}

/**
 * Why the mask is not the object any more, or undefined when it is plausible. When the predicted
 * box lies mostly outside the frame, a loss is reported as `left-frame`.
 *
 * @example
 * ```ts
 * detectLoss({ area: 0, bounds, score: 0.9, appearance: 1, predictedBox, previousArea: 900,
 *   referenceArea: 950, frameWidth: 640, frameHeight: 360 }); // "empty"
 * ```
 */
export function detectLoss(
  evidence: LossEvidence,
  options: LossOptions = {},
): LossReason | undefined {
  const reason = lossReason(evidence, options);
  if (reason === undefined) return undefined;
  const inside = shareInsideFrame(evidence.predictedBox, evidence.frameWidth, evidence.frameHeight);
  return inside < 0.5 ? "left-frame" : reason;
}

function lossReason(e: LossEvidence, options: LossOptions): LossReason | undefined {
  const inside = shareInsideFrame(e.predictedBox, e.frameWidth, e.frameHeight);
  if (inside < (options.minInsideShare ?? 0.05)) return "left-frame";
  if (e.area === 0) return "empty";
  const minArea = Math.max(
    options.minAreaPx ?? 16,
    (options.minAreaShare ?? 0.03) * e.referenceArea,
  );
  if (e.area < minArea) return "too-small";
  if (e.score < (options.minScore ?? 0.5)) return "low-score";
  if (e.previousArea > 0) {
    const grownTooMuch = e.area > (options.maxGrowth ?? 2) * e.previousArea &&
      (e.referenceArea === 0 || e.area > 1.5 * e.referenceArea);
    if (grownTooMuch || e.area < (options.maxShrink ?? 0.25) * e.previousArea) return "area-jump";
  }
  const predicted = clipBox(e.predictedBox, e.frameWidth, e.frameHeight);
  const expected = boxCentre(predicted);
  const found = boxCentre([e.bounds.x0, e.bounds.y0, e.bounds.x1, e.bounds.y1]);
  const diagonal = Math.hypot(predicted[2] - predicted[0], predicted[3] - predicted[1]);
  const jump = Math.hypot(found.x - expected.x, found.y - expected.y);
  if (jump > (options.maxJumpShare ?? 0.5) * diagonal + 8) return "position-jump";
  if (e.appearance < (options.minAppearance ?? 0.3)) return "appearance";
  return undefined;
}
