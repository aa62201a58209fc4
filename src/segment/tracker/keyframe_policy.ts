/**
 * When the image encoder runs: on every frame, every N-th frame, or adaptively, when what the
 * motion estimate reports says the carried masks may no longer be trusted: an object travelled a
 * good part of its size or changed scale since the model last saw it, its pixels stopped matching
 * (appearance change, occlusion), it was lost, or a lost object is due for a search. Prompts and
 * discovery passes always get a keyframe.
 * @module
 */
import { motionScale } from "../motion/similarity.ts";
import type { CarriedObject } from "./motion_propagation.ts";

/** What a keyframe decision looks at, for one frame. */
export interface KeyframeEvidence {
  readonly frameIndex: number;
  /** A keyframe is required: the first frame, user prompts due, a discovery pass due. */
  readonly forced: boolean;
  /** The objects carried to this frame by motion. */
  readonly carried: readonly CarriedObject[];
  /** Lost objects that would be searched for on this frame. */
  readonly searching: number;
}

/** Why a frame became a keyframe. */
export type KeyframeReason =
  | "forced"
  | "stride"
  | "max-interval"
  | "travel"
  | "scale"
  | "fit"
  | "lost"
  | "partial"
  | "search";

/** Decides, frame by frame, which frames the encoder runs on. */
export interface KeyframePolicy {
  /** A short description for reports, e.g. `stride 4` or `auto`. */
  readonly name: string;
  /** True when every frame is a keyframe (the tracker then runs exactly as without keyframes). */
  readonly everyFrame: boolean;
  /** Why `evidence.frameIndex` must be a keyframe, or undefined if it need not be. */
  decide(evidence: KeyframeEvidence): KeyframeReason | undefined;
  /** Records that the encoder ran on `frameIndex`. */
  encoded(frameIndex: number): void;
}

/**
 * Every `stride`-th frame (counted from the last keyframe), and whenever a keyframe is forced.
 *
 * @example
 * ```ts
 * const policy = fixedStride(4); // frames 0, 4, 8, ... (and prompt frames)
 * ```
 */
export function fixedStride(stride: number): KeyframePolicy {
  if (!Number.isInteger(stride) || stride < 1) {
    throw new RangeError(`stride must be a positive integer, got ${stride}`);
  }
  let last = -Infinity;
  return {
    name: `stride ${stride}`,
    everyFrame: stride === 1,
    decide: (e) => e.forced ? "forced" : e.frameIndex - last >= stride ? "stride" : undefined,
    encoded: (frameIndex) => {
      last = frameIndex;
    },
  };
}

/** Thresholds of {@link adaptiveKeyframes}; every value has a default. */
export interface AdaptiveKeyframeOptions {
  /** Fewest frames between two keyframes unless forced (default 1). */
  readonly minInterval?: number;
  /** Most frames between two keyframes (default 30). */
  readonly maxInterval?: number;
  /** A keyframe once an object's centre travelled this share of its size since the model saw it (default 0.5). */
  readonly travelShare?: number;
  /** A keyframe once an object's scale changed by this share since the model saw it (default 0.15). */
  readonly scaleChange?: number;
  /** A keyframe when fewer than this share of an object's pixels match after alignment (default 0.6). */
  readonly minInlierShare?: number;
  /** While lost objects are searched for, a keyframe at least every this many frames (default 3). */
  readonly searchEvery?: number;
  /**
   * While an object shows less than `partialShare` of its usual area (partly hidden, entering or
   * leaving: its visible extent changes in ways motion does not carry), a keyframe at least every
   * `partialEvery` frames (defaults 0.9 and 2).
   */
  readonly partialShare?: number;
  readonly partialEvery?: number;
}

/**
 * Keyframes when the carried masks call for the model (see the module notes): faster motion
 * reaches the travel budget sooner, so it gets more keyframes.
 *
 * @example
 * ```ts
 * const policy = adaptiveKeyframes({ maxInterval: 15 });
 * ```
 */
export function adaptiveKeyframes(options: AdaptiveKeyframeOptions = {}): KeyframePolicy {
  const minInterval = options.minInterval ?? 1;
  const maxInterval = options.maxInterval ?? 30;
  const travelShare = options.travelShare ?? 0.5;
  const scaleLimit = Math.log(1 + (options.scaleChange ?? 0.15));
  const minInlierShare = options.minInlierShare ?? 0.6;
  const searchEvery = options.searchEvery ?? 3;
  const partialShare = options.partialShare ?? 0.9;
  const partialEvery = options.partialEvery ?? 2;
  let last = -Infinity;
  return {
    name: "auto",
    everyFrame: false,
    decide: (e) => {
      if (e.forced) return "forced";
      const since = e.frameIndex - last;
      if (since < minInterval) return undefined;
      if (since >= maxInterval) return "max-interval";
      if (e.searching > 0 && since >= searchEvery) return "search";
      for (const c of e.carried) {
        if (c.lost && c.lost !== "left-frame") return "lost";
        if (c.lost) continue;
        if (c.travelPx >= travelShare * Math.max(c.sizePx, 16)) return "travel";
        if (Math.abs(Math.log(motionScale(c.sinceAnchor))) >= scaleLimit) return "scale";
        if (c.step.points > 0 && c.step.inlierShare < minInlierShare) return "fit";
        if (c.areaShare < partialShare && since >= partialEvery) return "partial";
      }
      return undefined;
    },
    encoded: (frameIndex) => {
      last = frameIndex;
    },
  };
}
