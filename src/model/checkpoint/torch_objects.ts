/**
 * What a torch checkpoint's pickle describes, before any tensor data is read: storages
 * (a key naming a blob of raw elements) and tensors (a strided view of a storage).
 * @module
 */

import type { StoredDType } from "../tensor.ts";

/** Bytes per element of each storage element type. */
export const ELEMENT_SIZE: Readonly<Record<StoredDType, number>> = {
  float32: 4,
  float16: 2,
  bfloat16: 2,
  float64: 8,
  int64: 8,
  int32: 4,
  uint8: 1,
  int8: 1,
  bool: 1,
};

/** True for the element types the reader widens to float32. */
export function isFloating(dtype: StoredDType): boolean {
  return dtype === "float32" || dtype === "float16" || dtype === "bfloat16" ||
    dtype === "float64";
}

/**
 * A storage named by a persistent id: the raw elements live outside the pickle (a zip
 * record `data/<key>`, or a block after the pickles in the legacy format).
 */
export class StorageRef {
  /**
   * @param key the storage key (`data/<key>` in a zip checkpoint)
   * @param dtype element type of the storage
   * @param numel element count the pickle declares
   * @param location device the storage was saved from (`cpu`, `cuda:0`); data is read the same way
   * @param byteOffset where this storage starts inside the stored blob (legacy storage views)
   */
  constructor(
    readonly key: string,
    readonly dtype: StoredDType,
    readonly numel: number,
    readonly location: string,
    readonly byteOffset = 0,
  ) {}
}

/** A tensor as `_rebuild_tensor_v2` describes it: a strided view of a storage. */
export class TensorRef {
  /**
   * @param storage where the elements live
   * @param dtype element type (the storage's, or the explicit one of `_rebuild_tensor_v3`)
   * @param offset first element, counted in elements of `dtype` from the storage start
   * @param shape size of each dimension (empty for a 0-dim tensor)
   * @param stride elements to step per dimension, same length as `shape`
   */
  constructor(
    readonly storage: StorageRef,
    readonly dtype: StoredDType,
    readonly offset: number,
    readonly shape: readonly number[],
    readonly stride: readonly number[],
  ) {}
}
