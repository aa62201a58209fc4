/**
 * The values the restricted unpickler produces. Nothing here is executable: globals are
 * inert descriptors whose only behaviour is a pure TypeScript reconstruction function.
 * @module
 */

import type { StoredDType } from "../tensor.ts";
import { StorageRef, TensorRef } from "./torch_objects.ts";

/** A Python tuple (lists are plain arrays, since APPEND mutates them). */
export class PickleTuple {
  /** @param items the tuple's elements */
  constructor(readonly items: readonly PickleValue[]) {}
}

/** Keys a dict may have in a checkpoint. */
export type DictKey = string | number | bigint | boolean | null;

/** A Python dict or OrderedDict; insertion order is kept. */
export class PickleDict {
  /** The entries, in insertion order. */
  readonly entries: Map<DictKey, PickleValue> = new Map();
  /** Attributes set by BUILD (an OrderedDict's `_metadata`); unused by the reader. */
  state: PickleValue = null;
}

/** What an allowlisted global means to the reader. */
export type GlobalMeaning =
  | {
    /** A pure function or class that REDUCE (or NEWOBJ, when `constructible`) may apply. */
    readonly kind: "callable";
    readonly call: (args: readonly PickleValue[]) => PickleValue;
    readonly constructible: boolean;
  }
  | { readonly kind: "storageType"; readonly dtype: StoredDType }
  | { readonly kind: "dtype"; readonly dtype: StoredDType }
  | { readonly kind: "tensorType" };

/** A global the pickle named and the allowlist admitted. */
export class PickleGlobal {
  /**
   * @param module the Python module, e.g. `torch._utils`
   * @param name the attribute, e.g. `_rebuild_tensor_v2`
   * @param meaning what the reader does with it
   */
  constructor(
    readonly module: string,
    readonly name: string,
    readonly meaning: GlobalMeaning,
  ) {}

  /** `module.name`, as Python spells it. */
  get qualifiedName(): string {
    return `${this.module}.${this.name}`;
  }
}

/** Any value the restricted unpickler can produce. */
export type PickleValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | PickleValue[]
  | PickleTuple
  | PickleDict
  | PickleGlobal
  | StorageRef
  | TensorRef;

/**
 * Thrown by reconstruction functions for malformed arguments; the unpickler adds the file,
 * the pickle and the byte offset and rethrows it as a CheckpointError.
 */
export class PickleDataError extends Error {}

/** Names a value's Python type for error messages. */
export function describeValue(value: PickleValue): string {
  if (value === null) return "None";
  if (typeof value === "boolean") return "bool";
  if (typeof value === "number") return Number.isInteger(value) ? "int" : "float";
  if (typeof value === "bigint") return "int";
  if (typeof value === "string") return "str";
  if (value instanceof Uint8Array) return "bytes";
  if (Array.isArray(value)) return "list";
  if (value instanceof PickleTuple) return "tuple";
  if (value instanceof PickleDict) return "dict";
  if (value instanceof PickleGlobal) return `global ${value.qualifiedName}`;
  if (value instanceof StorageRef) return "storage";
  if (value instanceof TensorRef) return "tensor";
  return "object";
}
