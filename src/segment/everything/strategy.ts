/**
 * The two everything strategies by name, as the command line picks them.
 * @module
 */
import type { FrameEmbedding, Segmenter } from "../segmenter.ts";
import { denseEverything } from "./dense.ts";
import type { EverythingResult } from "./everything_mask.ts";
import { hierarchicalEverything } from "./hierarchical.ts";
import type { EverythingOptions } from "./options.ts";

/** `hierarchical` (TinySAM, the default) or `dense` (SAM's full grid). */
export type EverythingStrategy = "hierarchical" | "dense";

/** Every strategy name. */
export const EVERYTHING_STRATEGIES: readonly EverythingStrategy[] = ["hierarchical", "dense"];

/** An everything pass on one embedded frame. */
export type EverythingPass = (
  segmenter: Segmenter,
  embedding: FrameEmbedding,
  overrides?: Partial<EverythingOptions>,
) => Promise<EverythingResult>;

/**
 * The pass implementing `strategy`.
 *
 * @example
 * ```ts
 * const result = await everythingPass("dense")(segmenter, embedding, { pointsPerSide: 16 });
 * ```
 */
export function everythingPass(strategy: EverythingStrategy): EverythingPass {
  return strategy === "dense" ? denseEverything : hierarchicalEverything;
}
