/**
 * Turns a tensor reference and its storage's raw bytes into a dense host tensor: strides and
 * storage offsets are honoured (a contiguous copy is made), floating types are widened to
 * float32 and integer types to int64.
 * @module
 */

import type { HostTensor } from "../tensor.ts";
import { CheckpointError, quoteName } from "./errors.ts";
import { ELEMENT_SIZE, isFloating, type TensorRef } from "./torch_objects.ts";

/** Tensors larger than this many elements are refused rather than allocated. */
export const MAX_TENSOR_ELEMENTS = 1 << 30;

/** Where a tensor's storage bytes came from and how to read them. */
export interface StorageBytes {
  /** The whole stored blob of the tensor's storage. */
  readonly bytes: Uint8Array;
  /** Byte order of the stored elements. */
  readonly littleEndian: boolean;
  /** Names the blob in error messages, e.g. `record data/12`. */
  readonly label: string;
  /**
   * True when no other tensor uses this blob, so a contiguous float32/int64 tensor may view
   * the bytes instead of copying them.
   */
  readonly exclusive: boolean;
}

/**
 * Reads the elements of `tensor` from its storage into a new dense tensor.
 *
 * @example
 * ```ts
 * import { materializeTensor } from "./materialize.ts";
 * import { StorageRef, TensorRef } from "./torch_objects.ts";
 *
 * const storage = new StorageRef("0", "float32", 4, "cpu");
 * const transposed = new TensorRef(storage, "float32", 0, [2, 2], [1, 2]);
 * const bytes = new Uint8Array(new Float32Array([1, 2, 3, 4]).buffer);
 * const tensor = materializeTensor(transposed, "w", "x.pth", {
 *   bytes,
 *   littleEndian: true,
 *   label: "record data/0",
 *   exclusive: true,
 * });
 * // tensor.data is [1, 3, 2, 4]
 * ```
 */
export function materializeTensor(
  tensor: TensorRef,
  name: string,
  source: string,
  storage: StorageBytes,
): HostTensor {
  const fail = (problem: string) =>
    new CheckpointError(source, `tensor ${quoteName(name)} ${problem}`);
  const { shape, stride, dtype } = tensor;
  const size = ELEMENT_SIZE[dtype];
  let numel = 1;
  let lastElement = tensor.offset;
  for (let d = 0; d < shape.length; d++) {
    numel *= shape[d];
    lastElement += (shape[d] - 1) * stride[d];
  }
  if (numel > MAX_TENSOR_ELEMENTS) {
    throw fail(`has ${numel} elements, more than the reader accepts (${MAX_TENSOR_ELEMENTS})`);
  }
  const start = tensor.storage.byteOffset + tensor.offset * size;
  const end = tensor.storage.byteOffset + (lastElement + 1) * size;
  if (numel > 0 && end > storage.bytes.length) {
    throw fail(
      `needs bytes ${start}..${end} of ${storage.label}, which holds ${storage.bytes.length} bytes`,
    );
  }
  const contiguous = isContiguous(shape, stride);
  const floating = isFloating(dtype);
  const base = { shape: [...shape], stored: dtype };
  if (contiguous && storage.littleEndian && (dtype === "float32" || dtype === "int64")) {
    const byteLength = numel * size;
    const viewable = storage.exclusive && (storage.bytes.byteOffset + start) % size === 0;
    const bytes = viewable
      ? storage.bytes.subarray(start, start + byteLength)
      : storage.bytes.slice(start, start + byteLength);
    return dtype === "float32"
      ? { ...base, dtype: "float32", data: new Float32Array(bytes.buffer, bytes.byteOffset, numel) }
      : { ...base, dtype: "int64", data: new BigInt64Array(bytes.buffer, bytes.byteOffset, numel) };
  }
  const view = new DataView(storage.bytes.buffer, storage.bytes.byteOffset, storage.bytes.length);
  const elementAt = contiguous
    ? (i: number) => tensor.offset + i
    : stridedIndexer(shape, stride, tensor.offset);
  const byteAt = (i: number) => tensor.storage.byteOffset + elementAt(i) * size;
  const le = storage.littleEndian;
  if (floating) {
    const data = new Float32Array(numel);
    const read = floatReader(dtype, view, le);
    for (let i = 0; i < numel; i++) data[i] = read(byteAt(i));
    return { ...base, dtype: "float32", data };
  }
  const data = new BigInt64Array(numel);
  const read = intReader(dtype, view, le);
  for (let i = 0; i < numel; i++) data[i] = read(byteAt(i));
  return { ...base, dtype: "int64", data };
}

/** True when the strides are the row-major ones for the shape (size-1 dims ignored). */
export function isContiguous(shape: readonly number[], stride: readonly number[]): boolean {
  let expected = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    if (shape[d] === 0) return true;
    if (shape[d] !== 1 && stride[d] !== expected) return false;
    expected *= shape[d];
  }
  return true;
}

/**
 * Maps the i-th element in row-major order to its storage element index. Calls must come
 * with i = 0, 1, 2, ... in order (an odometer over the dimensions).
 */
function stridedIndexer(
  shape: readonly number[],
  stride: readonly number[],
  offset: number,
): (i: number) => number {
  const counter = new Array<number>(shape.length).fill(0);
  let element = offset;
  let next = 0;
  return (i: number) => {
    if (i !== next) throw new Error("strided elements must be read in order");
    next = i + 1;
    const current = element;
    for (let d = shape.length - 1; d >= 0; d--) {
      counter[d]++;
      element += stride[d];
      if (counter[d] < shape[d]) break;
      element -= stride[d] * shape[d];
      counter[d] = 0;
    }
    return current;
  };
}

const scratch = new DataView(new ArrayBuffer(4));

function floatReader(
  dtype: HostTensor["stored"],
  view: DataView,
  le: boolean,
): (byte: number) => number {
  switch (dtype) {
    case "float32":
      return (byte) => view.getFloat32(byte, le);
    case "float64":
      return (byte) => view.getFloat64(byte, le);
    case "float16":
      return (byte) => halfToFloat(view.getUint16(byte, le));
    default: // bfloat16: the upper half of a float32
      return (byte) => {
        scratch.setUint32(0, view.getUint16(byte, le) << 16);
        return scratch.getFloat32(0);
      };
  }
}

function intReader(
  dtype: HostTensor["stored"],
  view: DataView,
  le: boolean,
): (byte: number) => bigint {
  switch (dtype) {
    case "int64":
      return (byte) => view.getBigInt64(byte, le);
    case "int32":
      return (byte) => BigInt(view.getInt32(byte, le));
    case "int8":
      return (byte) => BigInt(view.getInt8(byte));
    default: // uint8, bool
      return (byte) => BigInt(view.getUint8(byte));
  }
}

/** IEEE 754 binary16 bits to a number. */
export function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}
