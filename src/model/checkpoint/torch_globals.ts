/**
 * The allowlist of globals a torch state dict may name, each with a pure TypeScript
 * reconstruction: ordered dicts, the tensor and parameter rebuild functions, storage
 * classes and dtypes. Anything not listed here is refused by the unpickler.
 * @module
 */

import type { StoredDType } from "../tensor.ts";
import {
  describeValue,
  type GlobalMeaning,
  PickleDataError,
  PickleDict,
  PickleGlobal,
  PickleTuple,
  type PickleValue,
} from "./pickle_values.ts";
import { ELEMENT_SIZE, StorageRef, TensorRef } from "./torch_objects.ts";

const STORAGE_DTYPES: ReadonlyArray<readonly [string, StoredDType]> = [
  ["FloatStorage", "float32"],
  ["HalfStorage", "float16"],
  ["BFloat16Storage", "bfloat16"],
  ["DoubleStorage", "float64"],
  ["LongStorage", "int64"],
  ["IntStorage", "int32"],
  ["ByteStorage", "uint8"],
  ["CharStorage", "int8"],
  ["BoolStorage", "bool"],
];

const DTYPE_NAMES: ReadonlyArray<readonly [string, StoredDType]> = [
  ["float32", "float32"],
  ["float", "float32"],
  ["float16", "float16"],
  ["half", "float16"],
  ["bfloat16", "bfloat16"],
  ["float64", "float64"],
  ["double", "float64"],
  ["int64", "int64"],
  ["long", "int64"],
  ["int32", "int32"],
  ["int", "int32"],
  ["uint8", "uint8"],
  ["int8", "int8"],
  ["bool", "bool"],
];

function callable(
  call: (args: readonly PickleValue[]) => PickleValue,
  constructible = false,
): GlobalMeaning {
  return { kind: "callable", call, constructible };
}

const ALLOWED: ReadonlyMap<string, GlobalMeaning> = new Map<string, GlobalMeaning>([
  ["collections.OrderedDict", callable(orderedDict, true)],
  ["torch._utils._rebuild_tensor", callable((args) => rebuildTensor(args, "_rebuild_tensor", 4))],
  [
    "torch._utils._rebuild_tensor_v2",
    callable((args) => rebuildTensor(args, "_rebuild_tensor_v2", 6)),
  ],
  ["torch._utils._rebuild_tensor_v3", callable(rebuildTensorV3)],
  ["torch._utils._rebuild_parameter", callable((args) => rebuildParameter(args, 3))],
  ["torch._utils._rebuild_parameter_with_state", callable((args) => rebuildParameter(args, 4))],
  ["torch._tensor._rebuild_from_type_v2", callable(rebuildFromType)],
  ["torch.Size", callable(torchSize)],
  ["torch.Tensor", { kind: "tensorType" }],
  ["torch.nn.parameter.Parameter", { kind: "tensorType" }],
  ["torch.UntypedStorage", { kind: "storageType", dtype: "uint8" }],
  ...STORAGE_DTYPES.flatMap(([name, dtype]): [string, GlobalMeaning][] => [
    [`torch.${name}`, { kind: "storageType", dtype }],
    [`torch.cuda.${name}`, { kind: "storageType", dtype }],
  ]),
  ...DTYPE_NAMES.map(([name, dtype]): [string, GlobalMeaning] => [
    `torch.${name}`,
    { kind: "dtype", dtype },
  ]),
]);

/**
 * Looks up `module.name` in the allowlist; undefined means the global is refused.
 *
 * @example
 * ```ts
 * import { findTorchGlobal } from "./torch_globals.ts";
 *
 * findTorchGlobal("torch._utils", "_rebuild_tensor_v2"); // a PickleGlobal
 * findTorchGlobal("os", "system"); // undefined
 * ```
 */
export function findTorchGlobal(module: string, name: string): PickleGlobal | undefined {
  const meaning = ALLOWED.get(`${module}.${name}`);
  return meaning ? new PickleGlobal(module, name, meaning) : undefined;
}

/**
 * Turns a torch persistent id into a storage reference:
 * zip format `('storage', StorageType, key, location, numel)`, legacy format the same plus
 * `view_metadata` (None, or `(view_key, element_offset, view_numel)` for a view).
 */
export function storageFromPersistentId(pid: PickleValue): StorageRef {
  if (!(pid instanceof PickleTuple)) {
    throw new PickleDataError(`persistent id is a ${describeValue(pid)}, expected a tuple`);
  }
  const [kind, type, key, location, numel, view] = pid.items;
  if (kind === "module") {
    throw new PickleDataError(
      "the checkpoint pickles a whole module (with its source code), not a state dict",
    );
  }
  if (kind !== "storage" || pid.items.length < 5 || pid.items.length > 6) {
    throw new PickleDataError("persistent id is not a torch storage reference");
  }
  if (!(type instanceof PickleGlobal) || type.meaning.kind !== "storageType") {
    throw new PickleDataError(
      `persistent id names ${describeValue(type ?? null)}, expected a torch storage type`,
    );
  }
  if (typeof key !== "string" || typeof location !== "string") {
    throw new PickleDataError("persistent id has a non-string storage key or location");
  }
  const dtype = type.meaning.dtype;
  const count = nonNegativeInt(numel ?? null, "storage size");
  if (view === undefined || view === null) return new StorageRef(key, dtype, count, location);
  if (!(view instanceof PickleTuple) || view.items.length !== 3) {
    throw new PickleDataError("storage view metadata is not a (key, offset, size) tuple");
  }
  const [viewKey, viewOffset, viewSize] = view.items;
  if (typeof viewKey !== "string") throw new PickleDataError("storage view key is not a string");
  const offset = nonNegativeInt(viewOffset, "storage view offset");
  const size = nonNegativeInt(viewSize, "storage view size");
  if (offset + size > count) {
    throw new PickleDataError(`storage view ${viewKey} lies outside storage ${key}`);
  }
  return new StorageRef(key, dtype, size, location, offset * ELEMENT_SIZE[dtype]);
}

function orderedDict(args: readonly PickleValue[]): PickleDict {
  const dict = new PickleDict();
  if (args.length === 0) return dict;
  const [pairs] = args;
  const items = Array.isArray(pairs) ? pairs : pairs instanceof PickleTuple ? pairs.items : null;
  if (args.length > 1 || items === null) {
    throw new PickleDataError("OrderedDict takes at most one list of (key, value) pairs");
  }
  for (const pair of items) {
    if (!(pair instanceof PickleTuple) || pair.items.length !== 2) {
      throw new PickleDataError("OrderedDict item is not a (key, value) pair");
    }
    const [key, value] = pair.items;
    if (typeof key !== "string" && typeof key !== "number") {
      throw new PickleDataError(`OrderedDict key of type ${describeValue(key)} is not supported`);
    }
    dict.entries.set(key, value);
  }
  return dict;
}

/** `_rebuild_tensor(storage, offset, size, stride)`; v2 adds requires_grad, hooks, metadata. */
function rebuildTensor(
  args: readonly PickleValue[],
  name: string,
  minArgs: number,
): TensorRef {
  if (args.length < minArgs || args.length > minArgs + 1) {
    throw new PickleDataError(`${name} expects ${minArgs} arguments, got ${args.length}`);
  }
  const [storage, offset, size, stride] = args;
  if (!(storage instanceof StorageRef)) {
    throw new PickleDataError(`${name} needs a storage, got ${describeValue(storage)}`);
  }
  return tensorRef(storage, storage.dtype, offset, size, stride);
}

/** `_rebuild_tensor_v3(storage, offset, size, stride, requires_grad, hooks, dtype[, metadata])`. */
function rebuildTensorV3(args: readonly PickleValue[]): TensorRef {
  if (args.length < 7 || args.length > 8) {
    throw new PickleDataError(`_rebuild_tensor_v3 expects 7 arguments, got ${args.length}`);
  }
  const [storage, offset, size, stride, , , dtype] = args;
  if (!(storage instanceof StorageRef)) {
    throw new PickleDataError(`_rebuild_tensor_v3 needs a storage, got ${describeValue(storage)}`);
  }
  if (!(dtype instanceof PickleGlobal) || dtype.meaning.kind !== "dtype") {
    throw new PickleDataError(`_rebuild_tensor_v3 needs a dtype, got ${describeValue(dtype)}`);
  }
  return tensorRef(storage, dtype.meaning.dtype, offset, size, stride);
}

function tensorRef(
  storage: StorageRef,
  dtype: StoredDType,
  offset: PickleValue,
  size: PickleValue,
  stride: PickleValue,
): TensorRef {
  const shape = intTuple(size, "tensor size");
  const strides = intTuple(stride, "tensor stride");
  if (shape.length !== strides.length) {
    throw new PickleDataError(
      `tensor size has ${shape.length} dimensions but its stride has ${strides.length}`,
    );
  }
  return new TensorRef(storage, dtype, nonNegativeInt(offset, "storage offset"), shape, strides);
}

/** `_rebuild_parameter(data, requires_grad, hooks[, state])`: the parameter is its data. */
function rebuildParameter(args: readonly PickleValue[], arity: number): TensorRef {
  const [data] = args;
  if (args.length !== arity || !(data instanceof TensorRef)) {
    throw new PickleDataError("a parameter must be rebuilt from a tensor");
  }
  return data;
}

/** `_rebuild_from_type_v2(func, type, args, state)`: only tensor rebuilds of tensor types. */
function rebuildFromType(args: readonly PickleValue[]): PickleValue {
  const [func, type, funcArgs] = args;
  if (
    args.length !== 4 || !(func instanceof PickleGlobal) || func.meaning.kind !== "callable" ||
    !(type instanceof PickleGlobal) || type.meaning.kind !== "tensorType" ||
    !(funcArgs instanceof PickleTuple)
  ) {
    throw new PickleDataError("_rebuild_from_type_v2 is only supported for plain tensors");
  }
  const result = func.meaning.call(funcArgs.items);
  if (!(result instanceof TensorRef)) {
    throw new PickleDataError("_rebuild_from_type_v2 did not rebuild a tensor");
  }
  return result;
}

function torchSize(args: readonly PickleValue[]): PickleTuple {
  if (args.length !== 1) throw new PickleDataError("torch.Size takes one tuple");
  return new PickleTuple(intTuple(args[0], "torch.Size"));
}

function intTuple(value: PickleValue, what: string): number[] {
  const items = value instanceof PickleTuple ? value.items : Array.isArray(value) ? value : null;
  if (items === null) {
    throw new PickleDataError(`${what} is a ${describeValue(value)}, expected a tuple of ints`);
  }
  return items.map((item) => nonNegativeInt(item, what));
}

function nonNegativeInt(value: PickleValue, what: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw new PickleDataError(
      `${what} must be a non-negative int, found ${
        typeof value === "number" || typeof value === "bigint" ? value : describeValue(value)
      }`,
    );
  }
  return value;
}
