/**
 * Region similarity J of the DAVIS benchmark: the IoU of a predicted and a ground-truth mask.
 * @module
 */

/**
 * IoU of two same-sized binary masks (non-zero = foreground). As in DAVIS' `db_eval_iou`, when
 * both masks are empty the frame is a perfect answer and J is 1.
 *
 * @example
 * ```ts
 * regionSimilarity(new Uint8Array([1, 1, 0, 0]), new Uint8Array([0, 1, 1, 0])); // 1 / 3
 * regionSimilarity(new Uint8Array(4), new Uint8Array(4)); // 1
 * ```
 */
export function regionSimilarity(groundTruth: Uint8Array, prediction: Uint8Array): number {
  if (groundTruth.length !== prediction.length) {
    throw new Error(`mask sizes differ: ${groundTruth.length} vs ${prediction.length} pixels`);
  }
  let intersection = 0, union = 0;
  for (let i = 0; i < groundTruth.length; i++) {
    const g = groundTruth[i] !== 0, p = prediction[i] !== 0;
    if (g && p) intersection++;
    if (g || p) union++;
  }
  return union === 0 ? 1 : intersection / union;
}
