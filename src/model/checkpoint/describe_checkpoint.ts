/**
 * Lists a checkpoint's tensors, one line each: `name shape dtype` (the stored dtype).
 * Run as a script: `deno run --allow-read src/model/checkpoint/describe_checkpoint.ts x.pth`;
 * a bad checkpoint is reported as one line on stderr with exit code 1.
 * @module
 */

import type { StateDict } from "../tensor.ts";
import { CheckpointError } from "./errors.ts";
import { readCheckpoint } from "./read_checkpoint.ts";

/**
 * One line per tensor, `name [d0,d1,...] dtype` (no spaces inside the shape), in checkpoint order.
 *
 * @example
 * ```ts ignore
 * import { describeStateDict } from "./describe_checkpoint.ts";
 * import { readCheckpoint } from "./read_checkpoint.ts";
 *
 * console.log(describeStateDict(await readCheckpoint("tinysam.pth")).join("\n"));
 * // image_encoder.patch_embed.seq.0.c.weight [32,3,3,3] float32
 * ```
 */
export function describeStateDict(dict: StateDict): string[] {
  return [...dict].map(([name, tensor]) => `${name} [${tensor.shape.join(",")}] ${tensor.stored}`);
}

/** Total element count of all tensors. */
export function countParameters(dict: StateDict): number {
  let total = 0;
  for (const tensor of dict.values()) total += tensor.data.length;
  return total;
}

if (import.meta.main) {
  const [path] = Deno.args;
  if (path === undefined) {
    console.error("usage: describe_checkpoint.ts CHECKPOINT");
    Deno.exit(2);
  }
  try {
    const dict = await readCheckpoint(path);
    console.log(describeStateDict(dict).join("\n"));
  } catch (error) {
    if (!(error instanceof CheckpointError)) throw error;
    console.error(error.message);
    Deno.exit(1);
  }
}
