/**
 * Checks a state dict against the keys and shapes an architecture needs, before a graph is
 * built from it.
 * @module
 */

import type { StateDict } from "../tensor.ts";
import { CheckpointError, quoteName } from "./errors.ts";

/**
 * Throws a CheckpointError naming the first expected tensor (in `expected` order) that is
 * missing from `dict` or has another shape. Extra tensors in `dict` are allowed (TinySAM's
 * classification head, for one, is unused).
 *
 * @example
 * ```ts
 * import { validateStateDict } from "./validate.ts";
 *
 * const dict = new Map([["neck.0.weight", {
 *   dtype: "float32" as const,
 *   shape: [256, 320, 1, 1],
 *   data: new Float32Array(256 * 320),
 *   stored: "float32" as const,
 * }]]);
 * validateStateDict(dict, new Map([["neck.0.weight", [256, 320, 1, 1]]]), "tinysam.pth");
 * ```
 */
export function validateStateDict(
  dict: StateDict,
  expected: ReadonlyMap<string, readonly number[]>,
  sourceName = "checkpoint",
): void {
  for (const [name, shape] of expected) {
    const tensor = dict.get(name);
    if (!tensor) {
      throw new CheckpointError(
        sourceName,
        `missing tensor ${quoteName(name)} (expected shape ${formatShape(shape)}); ` +
          "is this a checkpoint for this architecture?",
      );
    }
    if (!sameShape(tensor.shape, shape)) {
      throw new CheckpointError(
        sourceName,
        `tensor ${quoteName(name)} has shape ${formatShape(tensor.shape)}, ` +
          `expected ${formatShape(shape)}`,
      );
    }
  }
}

/** `[256, 320, 1, 1]`; `[]` for a 0-dim tensor. */
export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(", ")}]`;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((size, i) => size === b[i]);
}
