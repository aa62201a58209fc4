/**
 * Checkpoint parameters as the graph builder consumes them, looked up by their checkpoint names.
 * @module
 */
import type { HostTensor, StateDict } from "../tensor.ts";

/** A float32 parameter with its shape. */
export interface Parameter {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/** BatchNorm epsilon used throughout TinyViT (PyTorch's default). */
export const BATCH_NORM_EPS = 1e-5;

/**
 * Read-only access to a state dict's float parameters by full name.
 *
 * @example
 * ```ts
 * const weights = new Weights(stateDict);
 * const qkv = weights.get("image_encoder.layers.1.blocks.0.attn.qkv.weight");
 * ```
 */
export class Weights {
  readonly #dict: StateDict;

  constructor(dict: StateDict) {
    this.#dict = dict;
  }

  /** The parameter called `name`; throws naming it when absent or not floating point. */
  get(name: string): Parameter {
    const tensor: HostTensor | undefined = this.#dict.get(name);
    if (!tensor) throw new Error(`checkpoint has no parameter ${name}`);
    if (tensor.dtype !== "float32") {
      throw new Error(`parameter ${name} is ${tensor.stored}, expected floating point`);
    }
    return { shape: tensor.shape, data: tensor.data };
  }

  /** Whether the checkpoint holds `name`. */
  has(name: string): boolean {
    return this.#dict.has(name);
  }

  /**
   * A convolution followed by BatchNorm (TinyViT's `Conv2d_BN`, parameters `<prefix>.c.weight`
   * and `<prefix>.bn.*`), folded into one convolution's weight and bias.
   */
  convBatchNorm(prefix: string): { weight: Parameter; bias: Float32Array } {
    const conv = this.get(`${prefix}.c.weight`);
    const gamma = this.get(`${prefix}.bn.weight`).data;
    const beta = this.get(`${prefix}.bn.bias`).data;
    const mean = this.get(`${prefix}.bn.running_mean`).data;
    const variance = this.get(`${prefix}.bn.running_var`).data;
    const outChannels = conv.shape[0];
    const perChannel = conv.data.length / outChannels;
    const weight = new Float32Array(conv.data.length);
    const bias = new Float32Array(outChannels);
    for (let o = 0; o < outChannels; o++) {
      const factor = gamma[o] / Math.sqrt(variance[o] + BATCH_NORM_EPS);
      for (let i = 0; i < perChannel; i++) {
        weight[o * perChannel + i] = conv.data[o * perChannel + i] * factor;
      }
      bias[o] = beta[o] - mean[o] * factor;
    }
    return { weight: { shape: conv.shape, data: weight }, bias };
  }
}

/** `[rows, cols]` row-major matrix transposed (PyTorch Linear `[out, in]` to MatMul `[in, out]`). */
export function transposeMatrix(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c];
  }
  return out;
}
