/**
 * SAM's optional clean-up of everything masks: fill small holes, remove small islands, then
 * deduplicate again, preferring masks the clean-up did not touch.
 * @module
 */
import { removeSmallRegions } from "../regions.ts";
import { decodeRle, encodeRle, rleArea, rleToBbox } from "../rle.ts";
import type { EverythingMask } from "./everything_mask.ts";
import { nmsMasks } from "./mask_nms.ts";

/**
 * Removes holes, then islands, smaller than `minArea` pixels from each mask (8-connectivity),
 * then runs box NMS at `nmsThreshold` with score 1 for unchanged masks and 0 for changed ones
 * (SAM's `postprocess_small_regions`). Returns the kept masks, unchanged ones first; changed
 * masks get their new RLE, box and area. `minArea` <= 0 returns the input.
 *
 * @example
 * ```ts
 * const cleaned = cleanSmallRegions(masks, 100, 0.7);
 * ```
 */
export function cleanSmallRegions(
  masks: readonly EverythingMask[],
  minArea: number,
  nmsThreshold: number,
): EverythingMask[] {
  if (minArea <= 0) return [...masks];
  const cleaned = masks.map((m) => {
    const holes = removeSmallRegions(decodeRle(m.rle), minArea, "holes");
    const islands = removeSmallRegions(holes.mask, minArea, "islands");
    if (!holes.changed && !islands.changed) return { mask: m, unchanged: true };
    const rle = encodeRle(islands.mask);
    return {
      mask: { ...m, rle, bbox: rleToBbox(rle), area: rleArea(rle) },
      unchanged: false,
    };
  });
  const kept = nmsMasks(
    cleaned.map((c) => c.mask),
    nmsThreshold,
    (_, i) => (cleaned[i].unchanged ? 1 : 0),
  );
  return kept.filter((m) => m.area > 0);
}
