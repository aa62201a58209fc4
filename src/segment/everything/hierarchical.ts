/**
 * TinySAM's hierarchical "everything": decode a sparse grid first, then only the dense-grid
 * points that no confident sparse mask already covers.
 * @module
 */
import type { BoxXyxy } from "../mask.ts";
import type { FrameEmbedding, Segmenter } from "../segmenter.ts";
import type { EverythingResult } from "./everything_mask.ts";
import { type EverythingOptions, everythingOptions } from "./options.ts";
import { pointGrid } from "./point_grid.ts";
import { decodePointPrompts } from "./point_pass.ts";
import { postprocessMasks } from "./postprocess.ts";

/**
 * (1) Decodes the `sparsePointsPerSide^2` grid (8x8 by default) with SAM's per-mask filters;
 * (2) marks the pixels where any mask that passed the predicted-IoU and stability filters has a
 * frame-resolution logit above `highConfidenceLogit` (8.5) and drops every point of the dense
 * `pointsPerSide^2` grid that falls on one; (3) decodes the remaining dense points; (4) merges
 * both sets of masks and deduplicates them with box NMS (and the optional small-region
 * clean-up), as {@link denseEverything} does. `stats.pointsSkipped` counts the dropped points.
 *
 * The high-confidence map is the union over the masks that passed the predicted-IoU and
 * stability filters (before NMS and the crop-edge filter), and a point is looked up at the pixel
 * containing it, as in TinySAM's generator. TinySAM's reference places its second-pass points on
 * a lattice of stride `frame / pointsPerSide` around each sparse point; here they are SAM's dense
 * grid itself, so the hierarchical pass decodes a subset of exactly the prompts the dense pass
 * would.
 *
 * @example
 * ```ts
 * const embedding = await segmenter.embed(frame);
 * const { masks, stats } = await hierarchicalEverything(segmenter, embedding);
 * console.log(`${masks.length} masks; ${stats.pointsSkipped} dense points skipped`);
 * ```
 */
export async function hierarchicalEverything(
  segmenter: Segmenter,
  embedding: FrameEmbedding,
  overrides: Partial<EverythingOptions> = {},
): Promise<EverythingResult> {
  const options = everythingOptions(overrides);
  const region: BoxXyxy = options.cropBox ?? [0, 0, embedding.frameWidth, embedding.frameHeight];
  const densePoints = pointGrid(options.pointsPerSide, region);
  const sparse = await decodePointPrompts(
    segmenter,
    embedding,
    pointGrid(options.sparsePointsPerSide, region),
    "sparse",
    options,
    { points: densePoints, logit: options.highConfidenceLogit },
  );
  const hits = sparse.probeHits ?? new Uint8Array(densePoints.length);
  const remaining = densePoints.filter((_, i) => hits[i] === 0);
  const dense = await decodePointPrompts(segmenter, embedding, remaining, "dense", options);
  const filtered = [...sparse.masks, ...dense.masks];
  const masks = postprocessMasks(filtered, options);
  return {
    masks,
    stats: {
      promptsDecoded: sparse.promptsDecoded + dense.promptsDecoded,
      decodeCalls: sparse.decodeCalls + dense.decodeCalls,
      pointsSkipped: densePoints.length - remaining.length,
      candidates: sparse.candidates + dense.candidates,
      upscaled: sparse.upscaled + dense.upscaled,
      filtered: filtered.length,
      kept: masks.length,
    },
  };
}
