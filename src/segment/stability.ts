/**
 * SAM's stability score of a mask's logits.
 * @module
 */

/** Default logit offset of SAM's automatic mask generator (`stability_score_offset`). */
export const STABILITY_OFFSET = 1.0;
/** Default logit threshold that turns logits into a mask (`mask_threshold`). */
export const MASK_THRESHOLD = 0.0;

/**
 * Stability score: the IoU between the mask thresholded at `maskThreshold + offset` and at
 * `maskThreshold - offset`. The tighter mask is contained in the looser one, so the IoU is
 * simply the ratio of the two areas (strict `>` comparisons, as SAM's `calculate_stability_score`).
 * When even the looser mask is empty the score is 0 (SAM gets NaN there, which its `>=` filter
 * rejects the same way).
 *
 * @example
 * ```ts
 * stabilityScore(new Float32Array([3, 0.5, -0.5, -3])); // 1 / 3: one logit > 1, three > -1
 * ```
 */
export function stabilityScore(
  logits: Float32Array,
  maskThreshold: number = MASK_THRESHOLD,
  offset: number = STABILITY_OFFSET,
): number {
  const high = maskThreshold + offset;
  const low = maskThreshold - offset;
  let intersection = 0;
  let union = 0;
  for (let i = 0; i < logits.length; i++) {
    const v = logits[i];
    if (v > high) intersection++;
    if (v > low) union++;
  }
  return union > 0 ? intersection / union : 0;
}
