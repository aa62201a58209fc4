/**
 * Reads a PyTorch checkpoint (a state dict saved with `torch.save`) without Python: the zip
 * format of torch >= 1.6 and the legacy pickle format, through a restricted unpickler.
 * @module
 */

import type { StateDict } from "../tensor.ts";
import { CheckpointError, oneLine } from "./errors.ts";
import { looksLikePickle, unpickleLegacyCheckpoint } from "./legacy_checkpoint.ts";
import { buildStateDict } from "./state_dict.ts";
import { looksLikeZip, unpickleZipCheckpoint } from "./zip_checkpoint.ts";

export { CheckpointError } from "./errors.ts";

/**
 * Reads the checkpoint at `path` into a state dict (see {@link parseCheckpoint}).
 * Every failure, including a missing or unreadable file, is a one-line CheckpointError.
 *
 * @example
 * ```ts ignore
 * import { readCheckpoint } from "./read_checkpoint.ts";
 *
 * const stateDict = await readCheckpoint("models/cache/tinysam_42.3.pth");
 * const weight = stateDict.get("image_encoder.patch_embed.seq.0.c.weight");
 * console.log(weight?.shape); // [32, 3, 3, 3]
 * ```
 */
export async function readCheckpoint(path: string): Promise<StateDict> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new CheckpointError(path, "no such file");
    }
    if (error instanceof Deno.errors.IsADirectory) {
      throw new CheckpointError(path, "is a directory, not a checkpoint file");
    }
    const reason = error instanceof Error ? error.message : String(error);
    throw new CheckpointError(path, `cannot read the file (${reason})`);
  }
  return parseCheckpoint(bytes, path);
}

/**
 * Parses checkpoint bytes into a state dict: parameter name (with any `module.` prefix
 * removed, unwrapped from a `model` or `state_dict` entry) to a dense tensor in checkpoint
 * order. float16, bfloat16 and float64 are widened to float32, integer and bool types to
 * int64; `stored` keeps the original type. Strided views and storage offsets are copied out
 * contiguously; tensors sharing a storage each get their own data. Throws CheckpointError
 * (one line, naming `sourceName`) for anything that is not a readable state dict, and for
 * any global outside the allowlist: nothing in the bytes can run code.
 *
 * @example
 * ```ts
 * import { CheckpointError, parseCheckpoint } from "./read_checkpoint.ts";
 *
 * try {
 *   parseCheckpoint(new Uint8Array([1, 2, 3]), "bytes.pth");
 * } catch (error) {
 *   // "bytes.pth: not a PyTorch checkpoint (no zip or legacy pickle header)"
 *   console.error((error as CheckpointError).message);
 * }
 * ```
 */
export function parseCheckpoint(bytes: Uint8Array, sourceName = "checkpoint"): StateDict {
  try {
    if (bytes.length === 0) {
      throw new CheckpointError(sourceName, "empty file, not a PyTorch checkpoint");
    }
    if (looksLikeZip(bytes)) {
      return buildStateDict(unpickleZipCheckpoint(bytes, sourceName), sourceName);
    }
    if (looksLikePickle(bytes)) {
      return buildStateDict(unpickleLegacyCheckpoint(bytes, sourceName), sourceName);
    }
    if (looksLikeTar(bytes)) {
      throw new CheckpointError(
        sourceName,
        "tar checkpoint of torch < 0.4 is not supported; re-save it with a newer torch",
      );
    }
    throw new CheckpointError(
      sourceName,
      "not a PyTorch checkpoint (no zip or legacy pickle header)",
    );
  } catch (error) {
    if (error instanceof CheckpointError) throw error;
    // A safety net: any other failure is still reported as one line about this file.
    const reason = error instanceof Error ? oneLine(error.message) : String(error);
    throw new CheckpointError(sourceName, `unreadable checkpoint (${reason})`);
  }
}

function looksLikeTar(bytes: Uint8Array): boolean {
  return bytes.length >= 262 &&
    new TextDecoder().decode(bytes.subarray(257, 262)) === "ustar";
}
