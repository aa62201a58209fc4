/**
 * Overlap resolution: each pixel belongs to at most one object. Where masks overlap, the
 * candidate of higher priority wins (a user prompt on its own frame), then the one whose logit is
 * larger there (the model is more certain the pixel is that object's).
 * @module
 */
import type { FrameCandidate } from "./frame_candidate.ts";
import { intersectWindows, isEmptyWindow, maskExtent } from "../geometry/pixel_window.ts";

/** A candidate's strength at pixel `i` (its logit when known). */
export type PixelStrength = (candidate: FrameCandidate, i: number) => number;

/** Strength from the candidate's full-frame logits, or its score when they are unknown. */
export const logitStrength: PixelStrength = (candidate, i) =>
  candidate.logits ? candidate.logits[i] : candidate.score;

/**
 * Clears, in place, every pixel claimed by more than one candidate from all but the strongest
 * claim, and updates the changed candidates' area and bounds. Only pairs whose bounds intersect
 * are compared, and only inside the intersection. Returns the ids of the candidates that lost
 * pixels.
 *
 * @example
 * ```ts
 * const shrunk = resolveOverlaps(candidates);
 * ```
 */
export function resolveOverlaps(
  candidates: readonly FrameCandidate[],
  strength: PixelStrength = logitStrength,
): Set<number> {
  const shrunk = new Set<number>();
  const changed = new Set<FrameCandidate>();
  for (let a = 0; a < candidates.length; a++) {
    for (let b = a + 1; b < candidates.length; b++) {
      const ca = candidates[a], cb = candidates[b];
      if (ca.area === 0 || cb.area === 0) continue;
      const common = intersectWindows(ca.bounds, cb.bounds);
      if (isEmptyWindow(common)) continue;
      const width = ca.mask.width;
      const da = ca.mask.data, db = cb.mask.data;
      for (let y = common.y0; y < common.y1; y++) {
        for (let x = common.x0, i = y * width + common.x0; x < common.x1; x++, i++) {
          if (da[i] === 0 || db[i] === 0) continue;
          const aWins = ca.priority !== cb.priority
            ? ca.priority > cb.priority
            : strength(ca, i) >= strength(cb, i);
          if (aWins) {
            db[i] = 0;
            changed.add(cb);
          } else {
            da[i] = 0;
            changed.add(ca);
          }
        }
      }
    }
  }
  for (const candidate of changed) {
    const extent = maskExtent(candidate.mask, candidate.bounds);
    candidate.area = extent.area;
    candidate.bounds = extent.bounds;
    candidate.appearance = undefined;
    shrunk.add(candidate.id);
  }
  return shrunk;
}

/** A full-frame mask with its tight window and area (a candidate, or an object's state). */
export type MaskRegion = Pick<FrameCandidate, "mask" | "bounds" | "area">;

/**
 * Pixels two masks both claim.
 *
 * @example
 * ```ts
 * const shared = overlapArea(found, otherObject);
 * ```
 */
export function overlapArea(a: MaskRegion, b: MaskRegion): number {
  if (a.area === 0 || b.area === 0) return 0;
  const common = intersectWindows(a.bounds, b.bounds);
  if (isEmptyWindow(common)) return 0;
  const width = a.mask.width, da = a.mask.data, db = b.mask.data;
  let shared = 0;
  for (let y = common.y0; y < common.y1; y++) {
    for (let x = common.x0, i = y * width + common.x0; x < common.x1; x++, i++) {
      if (da[i] !== 0 && db[i] !== 0) shared++;
    }
  }
  return shared;
}
