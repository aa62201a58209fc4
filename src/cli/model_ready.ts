/**
 * What `model:fetch` and `model:build` print when a model is ready.
 * @module
 */
import type { ResolvedModel } from "../model/model_cache.ts";

/**
 * Lines for stdout describing a ready model: where its graphs are and which checkpoint they
 * come from.
 *
 * @example
 * ```ts ignore
 * console.log(formatReadyModel(await ensureModel({ model: "tinysam-42.3" }, { precision: "fp32" })));
 * ```
 */
export function formatReadyModel(model: ResolvedModel): string {
  const state = model.built ? "built" : "already built, nothing to do";
  return [
    `${model.name} (${model.precision}) ready: ${state}`,
    `  encoder     ${model.encoder}`,
    `  decoder     ${model.decoder}`,
    `  checkpoint  sha256 ${model.checkpointSha256}`,
  ].join("\n");
}
