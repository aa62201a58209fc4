/**
 * Options of the everything passes, with the published defaults of SAM's automatic mask
 * generator and TinySAM's hierarchical generator.
 * @module
 */
import type { BoxXyxy } from "../mask.ts";

/** How an everything pass samples prompts and filters the masks they produce. */
export interface EverythingOptions {
  /** Points per side of the dense grid (SAM `points_per_side`, default 32: 1024 prompts). */
  readonly pointsPerSide: number;
  /**
   * Points per side of the hierarchical pass's sparse grid (TinySAM: `points_per_side // 4`,
   * so 8 by default). Only the hierarchical pass uses it.
   */
  readonly sparsePointsPerSide: number;
  /** Prompts per `Segmenter.decode` call (SAM `points_per_batch`, default 64). */
  readonly pointsPerBatch: number;
  /** Keep a mask only if its predicted IoU is strictly above this (SAM `pred_iou_thresh`, 0.88). */
  readonly predIouThreshold: number;
  /** Keep a mask only if its stability score is at least this (SAM, 0.95). */
  readonly stabilityScoreThreshold: number;
  /** Logit offset of the stability score (SAM `stability_score_offset`, 1.0). */
  readonly stabilityScoreOffset: number;
  /** Logit above which a pixel is foreground (SAM `mask_threshold`, 0). */
  readonly maskThreshold: number;
  /** Box IoU above which the lower-scored of two masks is dropped (SAM `box_nms_thresh`, 0.7). */
  readonly boxNmsThreshold: number;
  /**
   * Holes and islands smaller than this many pixels are removed from kept masks, and masks that
   * changed are re-ranked below unchanged ones in a second NMS (SAM `min_mask_region_area`;
   * default 0: off).
   */
  readonly minMaskRegionArea: number;
  /**
   * Frame-resolution logit above which a pixel of a kept sparse-pass mask is "high confidence":
   * dense points there are not decoded (TinySAM, 8.5).
   */
  readonly highConfidenceLogit: number;
  /**
   * The region the grid covers, `[x0, y0, x1, y1]` in frame pixels (default: the whole frame).
   * Masks are cut to it (as if the model saw only the crop) and those whose box lies within
   * `cropEdgeTolerance` of an edge of this region that is not also a frame edge are dropped, as
   * SAM drops masks cut by a crop's edge; on the whole frame nothing is dropped.
   */
  readonly cropBox?: BoxXyxy;
  /** Pixel tolerance of the crop-edge test (SAM's `atol`, 20). */
  readonly cropEdgeTolerance: number;
}

/** The published defaults. */
export const DEFAULT_EVERYTHING_OPTIONS: EverythingOptions = {
  pointsPerSide: 32,
  sparsePointsPerSide: 8,
  pointsPerBatch: 64,
  predIouThreshold: 0.88,
  stabilityScoreThreshold: 0.95,
  stabilityScoreOffset: 1.0,
  maskThreshold: 0.0,
  boxNmsThreshold: 0.7,
  minMaskRegionArea: 0,
  highConfidenceLogit: 8.5,
  cropEdgeTolerance: 20,
};

/**
 * Fills in defaults and checks ranges. `sparsePointsPerSide`, when not given, follows
 * `pointsPerSide` (a quarter of it, at least 1). Throws a `RangeError` naming the option.
 *
 * @example
 * ```ts
 * const options = everythingOptions({ pointsPerSide: 16 }); // sparsePointsPerSide 4
 * ```
 */
export function everythingOptions(overrides: Partial<EverythingOptions> = {}): EverythingOptions {
  const pointsPerSide = overrides.pointsPerSide ?? DEFAULT_EVERYTHING_OPTIONS.pointsPerSide;
  const options: EverythingOptions = {
    ...DEFAULT_EVERYTHING_OPTIONS,
    sparsePointsPerSide: Math.max(1, Math.floor(pointsPerSide / 4)),
    ...withoutUndefined(overrides),
  };
  positiveInteger("pointsPerSide", options.pointsPerSide);
  positiveInteger("sparsePointsPerSide", options.sparsePointsPerSide);
  positiveInteger("pointsPerBatch", options.pointsPerBatch);
  finite("predIouThreshold", options.predIouThreshold);
  finite("stabilityScoreThreshold", options.stabilityScoreThreshold);
  finite("maskThreshold", options.maskThreshold);
  finite("highConfidenceLogit", options.highConfidenceLogit);
  if (!(options.stabilityScoreOffset > 0)) {
    throw new RangeError(`stabilityScoreOffset must be > 0 (got ${options.stabilityScoreOffset})`);
  }
  if (!(options.boxNmsThreshold >= 0 && options.boxNmsThreshold <= 1)) {
    throw new RangeError(`boxNmsThreshold must be in [0, 1] (got ${options.boxNmsThreshold})`);
  }
  if (!(options.minMaskRegionArea >= 0)) {
    throw new RangeError(`minMaskRegionArea must be >= 0 (got ${options.minMaskRegionArea})`);
  }
  if (!(options.cropEdgeTolerance >= 0)) {
    throw new RangeError(`cropEdgeTolerance must be >= 0 (got ${options.cropEdgeTolerance})`);
  }
  const crop = options.cropBox;
  if (crop && !(crop.every(Number.isFinite) && crop[2] > crop[0] && crop[3] > crop[1])) {
    throw new RangeError(`cropBox must be [x0, y0, x1, y1] with x1 > x0, y1 > y0 (got ${crop})`);
  }
  return options;
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(value).filter(([, v]) => v !== undefined),
  ) as Partial<T>;
}

function positiveInteger(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(`${name} must be a positive integer (got ${value})`);
  }
}

function finite(name: string, value: number): void {
  if (!Number.isFinite(value)) {
    throw new RangeError(`${name} must be a finite number (got ${value})`);
  }
}
