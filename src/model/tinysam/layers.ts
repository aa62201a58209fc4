/**
 * The parameterized layers of TinySAM (linear, convolution, normalization) as graph fragments.
 * How a weighted layer is emitted (float32, or quantized) is a {@link LayerEmitter} strategy,
 * so the model code is written once for every precision.
 * @module
 */
import type { GraphBuilder, Value } from "../onnx/graph.ts";
import * as op from "../onnx/ops.ts";
import { type Parameter, transposeMatrix, Weights } from "./weights.ts";

/** A linear layer, weight already in MatMul layout `[in, out]`. */
export interface LinearSpec {
  /** Checkpoint name of the layer (`image_encoder.layers.1.blocks.0.attn.qkv`). */
  readonly name: string;
  readonly weight: Float32Array;
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly bias?: Float32Array;
  /**
   * Sizes of consecutive groups of output features emitted as separate tensors (default: one
   * group of all of them), so that a fused projection needs no runtime Split.
   */
  readonly outputGroups?: readonly number[];
  /**
   * A LayerNorm over the last axis that the layer applies to its input first (a pre-norm
   * layer). Emitters may fold per-channel input factors into its affine terms.
   */
  readonly inputNorm?: NormSpec;
}

/** LayerNorm over the last axis: `(x - mean) / sqrt(var + epsilon) * weight + bias`. */
export interface NormSpec {
  readonly weight: Float32Array;
  readonly bias: Float32Array;
  readonly epsilon: number;
}

/** `spec`'s LayerNorm as a node, its affine terms multiplied per channel by `factors`. */
export function emitInputNorm(
  g: GraphBuilder,
  x: Value,
  spec: NormSpec,
  factors?: Float32Array,
): Value {
  const scaled = (v: Float32Array) => factors ? v.map((w, i) => w * factors[i]) : v;
  return g.scope("norm", () =>
    op.layerNorm(
      g,
      x,
      g.floats("weight", [spec.weight.length], scaled(spec.weight)),
      g.floats("bias", [spec.bias.length], scaled(spec.bias)),
      spec.epsilon,
    ));
}

/** The groups of `spec` as layers of their own (weight columns and bias sliced). */
export function outputGroupSpecs(spec: LinearSpec): LinearSpec[] {
  const groups = spec.outputGroups ?? [spec.outFeatures];
  let first = 0;
  return groups.map((size) => {
    const from = first;
    first += size;
    const weight = new Float32Array(spec.inFeatures * size);
    for (let r = 0; r < spec.inFeatures; r++) {
      const row = r * spec.outFeatures + from;
      weight.set(spec.weight.subarray(row, row + size), r * size);
    }
    return {
      name: spec.name,
      weight,
      inputNorm: spec.inputNorm,
      inFeatures: spec.inFeatures,
      outFeatures: size,
      bias: spec.bias?.slice(from, from + size),
    };
  });
}

/** A 2-D convolution, weight `[out, in / group, kernel, kernel]`. */
export interface ConvSpec {
  readonly name: string;
  readonly weight: Parameter;
  readonly bias?: Float32Array;
  readonly kernel: number;
  readonly stride: number;
  readonly pad: number;
  readonly group: number;
}

/** How weighted layers and activation-by-activation products become graph nodes. */
export interface LayerEmitter {
  /** One output per group of `spec.outputGroups` (one in all when it has none). */
  linear(g: GraphBuilder, x: Value, spec: LinearSpec): Value[];
  conv(g: GraphBuilder, x: Value, spec: ConvSpec): Value;
  /** A product of two activations (attention scores, attention-weighted values). */
  matMul(g: GraphBuilder, name: string, a: Value, b: Value): Value;
}

/** Emits every layer in float32, exactly as the checkpoint defines it. */
export const float32Layers: LayerEmitter = {
  linear(g, input, spec) {
    const x = spec.inputNorm ? emitInputNorm(g, input, spec.inputNorm) : input;
    return outputGroupSpecs(spec).map((group) => {
      const dims = [group.inFeatures, group.outFeatures];
      const y = op.matMul(g, x, g.initializer("weight", "float32", dims, group.weight));
      return group.bias ? op.add(g, y, g.floats("bias", [group.outFeatures], group.bias)) : y;
    });
  },
  conv(g, x, spec) {
    const weight = g.initializer("weight", "float32", spec.weight.shape, spec.weight.data);
    const bias = spec.bias ? g.floats("bias", [spec.bias.length], spec.bias) : "";
    return op.conv(g, x, weight, bias, spec);
  },
  matMul(g, _name, a, b) {
    return op.matMul(g, a, b);
  },
};

/** A LayerNorm of the current module, by name, with its epsilon. */
export interface LayerNormRef {
  readonly name: string;
  readonly epsilon: number;
}

/** Convolution geometry. */
export interface ConvOptions {
  readonly kernel: number;
  readonly stride?: number;
  readonly pad?: number;
  readonly group?: number;
}

/**
 * Builds graph fragments for the module at the current scope, reading its parameters by
 * checkpoint name: inside `ctx.module("attn", ...)`, `ctx.linear(x, "qkv")` uses `…attn.qkv.weight`.
 *
 * @example
 * ```ts
 * const y = ctx.module("mlp", () => ctx.linear(ctx.layerNorm(x, "norm", 1e-5), "fc1"));
 * ```
 */
export class ModelContext {
  constructor(
    readonly g: GraphBuilder,
    readonly weights: Weights,
    readonly layers: LayerEmitter,
  ) {}

  /** Runs `body` inside the submodule `name` (naming scope and parameter prefix). */
  module<T>(name: string | number, body: () => T): T {
    return this.g.scope(String(name), body);
  }

  /** Full checkpoint name of `name` in the current module. */
  qualified(name: string): string {
    return this.g.scopePath ? `${this.g.scopePath}.${name}` : name;
  }

  /** A parameter of the current module. */
  param(name: string): Parameter {
    return this.weights.get(this.qualified(name));
  }

  /** A parameter of the current module as a graph constant. */
  constant(name: string, shape?: readonly number[]): Value {
    const p = this.param(name);
    return this.g.floats(name, shape ?? p.shape, p.data);
  }

  /** PyTorch `nn.Linear` called `name`, applied to `normalizedBy(x)` when that is given. */
  linear(x: Value, name: string, options: { normalizedBy?: LayerNormRef } = {}): Value {
    return this.linearGroups(x, name, options)[0];
  }

  /**
   * PyTorch `nn.Linear` called `name` (after the LayerNorm `normalizedBy`, when given), its
   * outputs reordered by `columns` (output `j` is the layer's output `columns[j]`) and returned as
   * consecutive groups of the given sizes.
   */
  linearGroups(
    x: Value,
    name: string,
    options: { columns?: Int32Array; groups?: readonly number[]; normalizedBy?: LayerNormRef } = {},
  ): Value[] {
    const norm = options.normalizedBy;
    const inputNorm = norm && {
      weight: this.param(`${norm.name}.weight`).data,
      bias: this.param(`${norm.name}.bias`).data,
      epsilon: norm.epsilon,
    };
    const w = this.param(`${name}.weight`);
    const [outFeatures, inFeatures] = w.shape;
    const biasName = this.qualified(`${name}.bias`);
    let bias = this.weights.has(biasName) ? this.weights.get(biasName).data : undefined;
    let rows = w.data;
    const columns = options.columns;
    if (columns) {
      rows = new Float32Array(w.data.length);
      columns.forEach((from, to) =>
        rows.set(w.data.subarray(from * inFeatures, (from + 1) * inFeatures), to * inFeatures)
      );
      bias = bias && Float32Array.from(columns, (from) => bias![from]);
    }
    return this.module(name, () =>
      this.layers.linear(this.g, x, {
        name: this.g.scopePath,
        weight: transposeMatrix(rows, outFeatures, inFeatures),
        inFeatures,
        outFeatures,
        bias,
        outputGroups: options.groups,
        inputNorm,
      }));
  }

  /** PyTorch `nn.Conv2d` called `name` (bias read when the checkpoint has one). */
  conv(x: Value, name: string, options: ConvOptions): Value {
    const weight = this.param(`${name}.weight`);
    const biasName = this.qualified(`${name}.bias`);
    const bias = this.weights.has(biasName) ? this.weights.get(biasName).data : undefined;
    return this.module(
      name,
      () => this.layers.conv(this.g, x, this.#convSpec(weight, bias, options)),
    );
  }

  /**
   * A 1x1 convolution called `name` (TinyViT's `Conv2d_BN` with its BatchNorm folded in when
   * `batchNorm`, else a plain `nn.Conv2d`) on channels-last tokens `[..., Cin]`: there it is
   * exactly a linear layer, and is emitted as one.
   */
  pointwise(x: Value, name: string, options: { batchNorm: boolean }): Value {
    let weight: Parameter;
    let bias: Float32Array | undefined;
    if (options.batchNorm) {
      ({ weight, bias } = this.weights.convBatchNorm(this.qualified(name)));
    } else {
      weight = this.param(`${name}.weight`);
      const biasName = this.qualified(`${name}.bias`);
      bias = this.weights.has(biasName) ? this.weights.get(biasName).data : undefined;
    }
    const [outFeatures, inFeatures, kh, kw] = weight.shape;
    if (kh !== 1 || kw !== 1) throw new Error(`${this.qualified(name)} is not a 1x1 convolution`);
    return this.module(name, () =>
      this.layers.linear(this.g, x, {
        name: this.g.scopePath,
        weight: transposeMatrix(weight.data, outFeatures, inFeatures),
        inFeatures,
        outFeatures,
        bias,
      })[0]);
  }

  /** TinyViT's `Conv2d_BN` called `name`, with the BatchNorm folded into the convolution. */
  convBatchNorm(x: Value, name: string, options: ConvOptions): Value {
    const { weight, bias } = this.weights.convBatchNorm(this.qualified(name));
    return this.module(
      name,
      () => this.layers.conv(this.g, x, this.#convSpec(weight, bias, options)),
    );
  }

  #convSpec(weight: Parameter, bias: Float32Array | undefined, options: ConvOptions): ConvSpec {
    return {
      name: this.g.scopePath,
      weight,
      bias,
      kernel: options.kernel,
      stride: options.stride ?? 1,
      pad: options.pad ?? 0,
      group: options.group ?? 1,
    };
  }

  /**
   * PyTorch `nn.ConvTranspose2d` called `name` with kernel = stride (SAM's upscaling), applied to
   * channels-last pixels `[..., Cin]`: each pixel becomes its `stride x stride` block of output
   * pixels, `[..., stride * stride * Cout]` ordered (row in block, column in block, channel).
   * Without overlap between blocks this is exactly one linear layer; where the blocks go in the
   * image is left to the caller, which may move them once for several such layers.
   */
  blockConvTranspose(x: Value, name: string): Value {
    const weight = this.param(`${name}.weight`); // [Cin, Cout, k, k]
    const [cin, cout, k] = weight.shape;
    const bias = this.param(`${name}.bias`).data;
    const columns = k * k * cout;
    const matrix = new Float32Array(cin * columns); // [Cin, (dy, dx, Cout)]
    for (let ci = 0; ci < cin; ci++) {
      for (let co = 0; co < cout; co++) {
        for (let b = 0; b < k * k; b++) {
          matrix[ci * columns + b * cout + co] = weight.data[(ci * cout + co) * k * k + b];
        }
      }
    }
    const tiledBias = new Float32Array(columns).map((_, i) => bias[i % cout]);
    return this.module(name, () =>
      this.layers.linear(this.g, x, {
        name: this.g.scopePath,
        weight: matrix,
        inFeatures: cin,
        outFeatures: columns,
        bias: tiledBias,
      })[0]);
  }

  /** PyTorch `nn.LayerNorm` over the last axis. */
  layerNorm(x: Value, name: string, epsilon: number): Value {
    return this.module(
      name,
      () => op.layerNorm(this.g, x, this.constant("weight"), this.constant("bias"), epsilon),
    );
  }

  /** SAM's `LayerNorm2d`: normalizes each pixel over channels of an NCHW tensor. */
  layerNorm2d(x: Value, name: string, epsilon = 1e-6): Value {
    const channelsLast = op.transpose(this.g, x, [0, 2, 3, 1]);
    return op.transpose(this.g, this.layerNorm(channelsLast, name, epsilon), [0, 3, 1, 2]);
  }

  /** An activation-by-activation product called `name` within the current module. */
  matMul(name: string, a: Value, b: Value): Value {
    return this.layers.matMul(this.g, this.qualified(name), a, b);
  }
}
