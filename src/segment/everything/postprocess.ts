/**
 * The last step of every everything pass, shared by the dense and hierarchical passes: box NMS
 * over all filtered masks, then the optional small-region clean-up.
 * @module
 */
import type { EverythingMask } from "./everything_mask.ts";
import { nmsMasks } from "./mask_nms.ts";
import type { EverythingOptions } from "./options.ts";
import { cleanSmallRegions } from "./small_regions.ts";

/**
 * Deduplicates filtered masks (box NMS by predicted IoU at `boxNmsThreshold`) and, when
 * `minMaskRegionArea` > 0, cleans small holes and islands. Returns the masks best first.
 *
 * @example
 * ```ts
 * const kept = postprocessMasks([...sparse.masks, ...dense.masks], options);
 * ```
 */
export function postprocessMasks(
  masks: readonly EverythingMask[],
  options: Pick<EverythingOptions, "boxNmsThreshold" | "minMaskRegionArea">,
): EverythingMask[] {
  const deduplicated = nmsMasks(masks, options.boxNmsThreshold);
  return cleanSmallRegions(deduplicated, options.minMaskRegionArea, options.boxNmsThreshold);
}
