/**
 * Test-only `torch.save`: writes the bytes torch writes for a state dict, in the zip format
 * (torch >= 1.6) or the legacy format, from storages and strided tensors described here.
 * Tensors pickle as `torch._utils._rebuild_tensor_v2(storage, offset, size, stride,
 * requires_grad, OrderedDict())` with the storage as the persistent id
 * `('storage', torch.FloatStorage, key, 'cpu', numel)` (legacy: plus a view slot), exactly
 * as torch's `Tensor.__reduce_ex__` and `torch.serialization` do.
 * @module
 */

import type { StoredDType } from "../../src/model/tensor.ts";
import {
  pickle,
  type PicklerOptions,
  PyDict,
  PyGlobal,
  PyReduce,
  PyTuple,
  type PyValue,
} from "./pickle_writer.ts";
import { writeTorchZip } from "./zip_writer.ts";

const STORAGE_CLASS: Readonly<Record<StoredDType, string>> = {
  float32: "FloatStorage",
  float16: "HalfStorage",
  bfloat16: "BFloat16Storage",
  float64: "DoubleStorage",
  int64: "LongStorage",
  int32: "IntStorage",
  uint8: "ByteStorage",
  int8: "CharStorage",
  bool: "BoolStorage",
};

const ELEMENT_BYTES: Readonly<Record<StoredDType, number>> = {
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

/** A storage: element type and values (numbers, or bigints for int64). */
export class FakeStorage {
  /** @param dtype element type; @param values elements in storage order */
  constructor(
    readonly dtype: StoredDType,
    readonly values: ArrayLike<number> | ArrayLike<bigint>,
  ) {}
}

/** A strided view of a storage, as a torch tensor is. */
export class FakeTensor {
  /**
   * @param storage the storage viewed
   * @param offset first element
   * @param shape sizes
   * @param stride element steps per dimension
   * @param parameter pickle as nn.Parameter (`_rebuild_parameter`) instead of a tensor
   */
  constructor(
    readonly storage: FakeStorage,
    readonly offset: number,
    readonly shape: readonly number[],
    readonly stride: readonly number[],
    readonly parameter = false,
  ) {}
}

/**
 * A contiguous tensor with its own storage.
 *
 * @example
 * ```ts
 * import { tensor } from "./torch_save.ts";
 * const weight = tensor("float16", [2, 2], [1, 0.5, -2, 65504]);
 * ```
 */
export function tensor(
  dtype: StoredDType,
  shape: readonly number[],
  values: ArrayLike<number> | ArrayLike<bigint>,
): FakeTensor {
  const stride = contiguousStride(shape);
  return new FakeTensor(new FakeStorage(dtype, values), 0, shape, stride);
}

/** Row-major strides for a shape. */
export function contiguousStride(shape: readonly number[]): number[] {
  const stride = new Array<number>(shape.length);
  let step = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    stride[d] = step;
    step *= shape[d];
  }
  return stride;
}

/** A state dict of tensors (a plain dict, as in the TinySAM checkpoints; OrderedDict if asked). */
export function stateDict(
  entries: ReadonlyArray<readonly [string, FakeTensor]>,
  ordered = false,
): PyDict {
  return new PyDict(entries, ordered);
}

/** Options for the zip format. */
export interface ZipSaveOptions {
  /** The archive's top directory (torch uses the file name without extension). */
  readonly archiveName?: string;
  /** Write a `byteorder` record (torch >= 2.1 does); `big` also stores elements big-endian. */
  readonly byteorder?: "little" | "big";
  /** Pickle protocol (torch's default is 2). */
  readonly protocol?: 2 | 4;
}

/**
 * `torch.save(obj, f)` in the zip format: records `data.pkl`, `byteorder` (if asked),
 * `data/<key>` for each storage in key order, and `version`.
 */
export function torchSaveZip(obj: PyValue, options: ZipSaveOptions = {}): Uint8Array {
  return writeTorchZip(torchZipRecords(obj, options));
}

/** The records {@link torchSaveZip} writes, in order, for tests that tamper with them. */
export function torchZipRecords(
  obj: PyValue,
  options: ZipSaveOptions = {},
): [string, Uint8Array][] {
  const archive = options.archiveName ?? "archive";
  const keys = new Map<FakeStorage, string>();
  const data = pickle(obj, {
    ...tensorHooks(keys, false),
    protocol: options.protocol ?? 2,
  });
  const littleEndian = options.byteorder !== "big";
  const records: [string, Uint8Array][] = [[`${archive}/data.pkl`, data]];
  if (options.byteorder) {
    records.push([`${archive}/byteorder`, new TextEncoder().encode(options.byteorder)]);
  }
  const sorted = [...keys].sort(([, a], [, b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [storage, key] of sorted) {
    records.push([`${archive}/data/${key}`, storageBytes(storage, littleEndian)]);
  }
  records.push([`${archive}/version`, new TextEncoder().encode("3\n")]);
  return records;
}

/**
 * `torch.save(obj, f, _use_new_zipfile_serialization=False)`: magic number, protocol
 * version, system info and the object pickled in turn, the sorted storage keys, then each
 * storage as an 8-byte little-endian element count and its little-endian elements.
 */
export function torchSaveLegacy(obj: PyValue): Uint8Array {
  const keys = new Map<FakeStorage, string>();
  const systemInfo = new PyDict([
    ["protocol_version", 1001],
    ["little_endian", true],
    ["type_sizes", new PyDict([["short", 2], ["int", 4], ["long", 4]])],
  ]);
  const objectPickle = pickle(obj, tensorHooks(keys, true));
  const sorted = [...keys].sort(([, a], [, b]) => (a < b ? -1 : a > b ? 1 : 0));
  const parts = [
    pickle(0x1950a86a20f9469cfc6cn),
    pickle(1001),
    pickle(systemInfo),
    objectPickle,
    pickle(sorted.map(([, key]) => key)),
  ];
  for (const [storage] of sorted) {
    const count = new Uint8Array(8);
    new DataView(count.buffer).setBigUint64(0, BigInt(storage.values.length), true);
    parts.push(count, storageBytes(storage, true));
  }
  return concat(parts);
}

/**
 * The persistent-id and reduce hooks torch installs: storages get keys in order of first
 * use (`'0'`, `'1'`, ... in the zip format; id-like numbers in the legacy one).
 */
function tensorHooks(keys: Map<FakeStorage, string>, legacy: boolean): PicklerOptions {
  return {
    persistentId: (value) => {
      if (!(value instanceof FakeStorage)) return undefined;
      let key = keys.get(value);
      if (key === undefined) {
        key = legacy ? String(94_000_000_000_000 + 1_000_003 * keys.size) : String(keys.size);
        keys.set(value, key);
      }
      const items: PyValue[] = [
        "storage",
        new PyGlobal("torch", STORAGE_CLASS[value.dtype]),
        key,
        "cpu",
        value.values.length,
      ];
      if (legacy) items.push(null);
      return new PyTuple(items);
    },
    reduce: (value) => {
      if (!(value instanceof FakeTensor)) return undefined;
      const rebuilt = new PyReduce(
        new PyGlobal("torch._utils", "_rebuild_tensor_v2"),
        new PyTuple([
          value.storage,
          value.offset,
          new PyTuple(value.shape),
          new PyTuple(value.stride),
          false,
          new PyDict([], true),
        ]),
      );
      if (!value.parameter) return rebuilt;
      return new PyReduce(
        new PyGlobal("torch._utils", "_rebuild_parameter"),
        new PyTuple([rebuilt, true, new PyDict([], true)]),
      );
    },
  };
}

/** A storage's elements as torch writes them. */
export function storageBytes(storage: FakeStorage, littleEndian: boolean): Uint8Array {
  const size = ELEMENT_BYTES[storage.dtype];
  const bytes = new Uint8Array(storage.values.length * size);
  const view = new DataView(bytes.buffer);
  if (storage.dtype === "float32" && storage.values instanceof Float32Array && littleEndian) {
    bytes.set(new Uint8Array(storage.values.buffer, storage.values.byteOffset, bytes.length));
    return bytes;
  }
  for (let i = 0; i < storage.values.length; i++) {
    const value = storage.values[i];
    const at = i * size;
    const n = Number(value);
    switch (storage.dtype) {
      case "float32":
        view.setFloat32(at, n, littleEndian);
        break;
      case "float64":
        view.setFloat64(at, n, littleEndian);
        break;
      case "float16":
        view.setUint16(at, floatToHalf(n), littleEndian);
        break;
      case "bfloat16":
        view.setUint16(at, floatToBfloat16(n), littleEndian);
        break;
      case "int64":
        view.setBigInt64(at, BigInt(value), littleEndian);
        break;
      case "int32":
        view.setInt32(at, n, littleEndian);
        break;
      case "int8":
        view.setInt8(at, n);
        break;
      default:
        view.setUint8(at, n);
    }
  }
  return bytes;
}

/** float32 -> bfloat16 bits, rounding to nearest even as torch does. */
export function floatToBfloat16(value: number): number {
  const scratch = new DataView(new ArrayBuffer(4));
  scratch.setFloat32(0, value);
  const bits = scratch.getUint32(0);
  if (Number.isNaN(value)) return 0x7fc0;
  return ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
}

/** number -> IEEE binary16 bits, rounding to nearest even. */
export function floatToHalf(value: number): number {
  if (Number.isNaN(value)) return 0x7e00;
  const sign = value < 0 || Object.is(value, -0) ? 0x8000 : 0;
  const magnitude = Math.abs(value);
  if (magnitude >= 65520) return sign | 0x7c00;
  if (magnitude < 2 ** -14) return sign | roundEven(magnitude / 2 ** -24);
  const exponent = Math.floor(Math.log2(magnitude));
  const mantissa = roundEven((magnitude / 2 ** exponent - 1) * 1024);
  return sign | (((exponent + 15) << 10) + mantissa);
}

function roundEven(x: number): number {
  const floor = Math.floor(x);
  const diff = x - floor;
  return diff > 0.5 || (diff === 0.5 && floor % 2 === 1) ? floor + 1 : floor;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const result = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    result.set(part, at);
    at += part.length;
  }
  return result;
}
