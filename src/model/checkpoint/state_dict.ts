/**
 * Finds the state dict inside an unpickled checkpoint (unwrapping `{"model": ...}`,
 * `{"state_dict": ...}` and `module.` prefixes) and reads its tensors.
 * @module
 */

import type { HostTensor, StateDict } from "../tensor.ts";
import { CheckpointError, quoteName } from "./errors.ts";
import { materializeTensor, type StorageBytes } from "./materialize.ts";
import { describeValue, PickleDict, type PickleValue } from "./pickle_values.ts";
import { type StorageRef, TensorRef } from "./torch_objects.ts";

/** Keys under which training scripts commonly nest the state dict, most specific first. */
const NESTING_KEYS = ["state_dict", "model_state_dict", "model"] as const;

/** The prefix `nn.DataParallel` / DistributedDataParallel put on every parameter name. */
const WRAPPER_PREFIX = "module.";

/** How deep `{"model": {"state_dict": ...}}` nesting is followed. */
const MAX_NESTING = 4;

/** A decoded checkpoint: the unpickled object and access to its storages' bytes. */
export interface UnpickledCheckpoint {
  /** The object the checkpoint's pickle holds. */
  readonly root: PickleValue;
  /** The raw bytes and byte order of a storage; throws CheckpointError when it is missing. */
  readonly storageBytes: (storage: StorageRef) => Omit<StorageBytes, "exclusive">;
}

/**
 * Locates the state dict in `checkpoint.root` and materializes its tensors, in checkpoint
 * order, with the `module.` prefix removed. Entries that are not tensors are skipped.
 *
 * @example
 * ```ts ignore
 * const stateDict = buildStateDict(unpickled, "model.pth");
 * stateDict.get("image_encoder.neck.0.weight")?.shape; // [256, 320, 1, 1]
 * ```
 */
export function buildStateDict(checkpoint: UnpickledCheckpoint, source: string): StateDict {
  const tensors = findTensorDict(checkpoint.root, source);
  const users = new Map<StorageRef["key"], number>();
  for (const [, tensor] of tensors) {
    users.set(tensor.storage.key, (users.get(tensor.storage.key) ?? 0) + 1);
  }
  const result = new Map<string, HostTensor>();
  const originalNames = new Map<string, string>();
  for (const [name, tensor] of tensors) {
    const stripped = name.startsWith(WRAPPER_PREFIX) ? name.slice(WRAPPER_PREFIX.length) : name;
    const clash = originalNames.get(stripped);
    if (clash !== undefined) {
      throw new CheckpointError(
        source,
        `tensors ${quoteName(clash)} and ${quoteName(name)} have the same name once the ` +
          `'${WRAPPER_PREFIX}' prefix is removed`,
      );
    }
    originalNames.set(stripped, name);
    const storage = {
      ...checkpoint.storageBytes(tensor.storage),
      exclusive: users.get(tensor.storage.key) === 1,
    };
    result.set(stripped, materializeTensor(tensor, name, source, storage));
  }
  return result;
}

function findTensorDict(root: PickleValue, source: string): [string, TensorRef][] {
  let current = root;
  let path = "";
  for (let depth = 0; depth <= MAX_NESTING; depth++) {
    if (!(current instanceof PickleDict)) {
      throw new CheckpointError(
        source,
        `${path ? `entry ${quoteName(path)}` : "the checkpoint"} holds a ${
          describeValue(current)
        }, not a state dict`,
      );
    }
    const tensors = tensorEntries(current, source);
    if (tensors.length > 0) return tensors;
    const nested = NESTING_KEYS.find((key) =>
      current instanceof PickleDict && current.entries.has(key)
    );
    if (nested === undefined) {
      const keys = [...current.entries.keys()].slice(0, 8).map((key) => quoteName(String(key)));
      throw new CheckpointError(
        source,
        `no state dict found: ${path ? `entry ${quoteName(path)}` : "the top-level dict"} ` +
          (keys.length
            ? `has no tensors and no 'state_dict' or 'model' entry (keys: ${keys.join(", ")})`
            : "is empty"),
      );
    }
    current = current.entries.get(nested)!;
    path = path ? `${path}.${nested}` : nested;
  }
  throw new CheckpointError(source, `no state dict found within ${MAX_NESTING} levels of nesting`);
}

function tensorEntries(dict: PickleDict, source: string): [string, TensorRef][] {
  const tensors: [string, TensorRef][] = [];
  for (const [key, value] of dict.entries) {
    if (!(value instanceof TensorRef)) continue;
    if (typeof key !== "string") {
      throw new CheckpointError(source, `state dict has a tensor under a non-string key ${key}`);
    }
    tensors.push([key, value]);
  }
  return tensors;
}
