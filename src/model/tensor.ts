/**
 * Host-side tensors as read from checkpoints and handed to the graph builder.
 * @module
 */

/** Element types a checkpoint may store; floating types are widened to float32 on read. */
export type StoredDType =
  | "float32"
  | "float16"
  | "bfloat16"
  | "float64"
  | "int64"
  | "int32"
  | "uint8"
  | "int8"
  | "bool";

/** A dense tensor in host memory. Floating tensors are float32, integer tensors int64. */
export type HostTensor =
  | {
    readonly dtype: "float32";
    readonly shape: readonly number[];
    readonly data: Float32Array;
    readonly stored: StoredDType;
  }
  | {
    readonly dtype: "int64";
    readonly shape: readonly number[];
    readonly data: BigInt64Array;
    readonly stored: StoredDType;
  };

/** Parameter name (as in the checkpoint, prefixes stripped) to tensor. */
export type StateDict = ReadonlyMap<string, HostTensor>;
