/**
 * SAM's "everything" on one frame: a dense grid of single-point prompts, every one decoded.
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
 * Decodes the `pointsPerSide^2` grid over the frame (or `cropBox`), `pointsPerBatch` prompts
 * per decode call, and keeps the masks that pass SAM's filters (predicted IoU > 0.88, stability
 * >= 0.95, crop edge) and box NMS at 0.7, best first.
 *
 * @example
 * ```ts
 * const embedding = await segmenter.embed(frame);
 * const { masks, stats } = await denseEverything(segmenter, embedding);
 * console.log(`${masks.length} masks from ${stats.promptsDecoded} prompts`);
 * ```
 */
export async function denseEverything(
  segmenter: Segmenter,
  embedding: FrameEmbedding,
  overrides: Partial<EverythingOptions> = {},
): Promise<EverythingResult> {
  const options = everythingOptions(overrides);
  const region: BoxXyxy = options.cropBox ?? [0, 0, embedding.frameWidth, embedding.frameHeight];
  const pass = await decodePointPrompts(
    segmenter,
    embedding,
    pointGrid(options.pointsPerSide, region),
    "dense",
    options,
  );
  const masks = postprocessMasks(pass.masks, options);
  return {
    masks,
    stats: {
      promptsDecoded: pass.promptsDecoded,
      decodeCalls: pass.decodeCalls,
      pointsSkipped: 0,
      candidates: pass.candidates,
      upscaled: pass.upscaled,
      filtered: pass.masks.length,
      kept: masks.length,
    },
  };
}
