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
  linear(g: GraphBuilder, x: Value, spec: LinearSpec): Value;
  conv(g: GraphBuilder, x: Value, spec: ConvSpec): Value;
  /** A product of two activations (attention scores, attention-weighted values). */
  matMul(g: GraphBuilder, name: string, a: Value, b: Value): Value;
}

/** Emits every layer in float32, exactly as the checkpoint defines it. */
export const float32Layers: LayerEmitter = {
  linear(g, x, spec) {
    const weight = g.initializer(
      "weight",
      "float32",
      [spec.inFeatures, spec.outFeatures],
      spec.weight,
    );
    const y = op.matMul(g, x, weight);
    return spec.bias ? op.add(g, y, g.floats("bias", [spec.outFeatures], spec.bias)) : y;
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

  /** PyTorch `nn.Linear` called `name`. */
  linear(x: Value, name: string): Value {
    const w = this.param(`${name}.weight`);
    const [outFeatures, inFeatures] = w.shape;
    const biasName = this.qualified(`${name}.bias`);
    const bias = this.weights.has(biasName) ? this.weights.get(biasName).data : undefined;
    return this.module(name, () =>
      this.layers.linear(this.g, x, {
        name: this.g.scopePath,
        weight: transposeMatrix(w.data, outFeatures, inFeatures),
        inFeatures,
        outFeatures,
        bias,
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

  /** PyTorch `nn.ConvTranspose2d` called `name`, kernel = stride (SAM's upscaling). */
  convTranspose(x: Value, name: string, stride: number): Value {
    return this.module(
      name,
      () =>
        this.g.node("ConvTranspose", [x, this.constant("weight"), this.constant("bias")], {
          kernel_shape: [stride, stride],
          strides: [stride, stride],
        }),
    );
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
