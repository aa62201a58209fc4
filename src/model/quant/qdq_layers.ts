/**
 * Emits weighted layers as QuantizeLinear/DequantizeLinear (QDQ) graphs that ONNX Runtime fuses
 * into integer kernels: Conv with quantized input, weights and output becomes QLinearConv;
 * MatMul with quantized inputs becomes MatMulIntegerToFloat (or QLinearMatMul).
 * @module
 */
import type { GraphBuilder, Value } from "../onnx/graph.ts";
import * as op from "../onnx/ops.ts";
import {
  type ConvSpec,
  emitInputNorm,
  float32Layers,
  type LayerEmitter,
  type LinearSpec,
  outputGroupSpecs,
} from "../tinysam/layers.ts";
import { type ActivationQuant, quantizeWeightsPerChannel, type WeightLevels } from "./affine.ts";
import type { ChannelActivationQuant } from "./range_search.ts";

/** How one layer is quantized; layers without an entry stay float32. */
export interface LayerQuant {
  /** Quantizer of the (first) input activation. */
  readonly input: ActivationQuant;
  /** Per-channel quantizer of a linear layer's input (used instead of `input` when present). */
  readonly inputChannels?: ChannelActivationQuant;
  /** Quantizer of the second input of an activation-by-activation product. */
  readonly inputB?: ActivationQuant;
  /** Quantizer of a convolution's output (QLinearConv produces uint8). */
  readonly output?: ActivationQuant;
  /** Mean square of each input channel over the calibration data (input Hessian diagonal). */
  readonly inputChannelPower?: Float32Array;
}

/** Layer name to its quantization. */
export type QuantizationPlan = ReadonlyMap<string, LayerQuant>;

/** Quantizes `x` to uint8 and dequantizes it: the pair ONNX Runtime fuses into integer ops. */
function fakeQuant(g: GraphBuilder, x: Value, q: ActivationQuant, name: string): Value {
  const scale = g.floats(`${name}_scale`, [], [q.scale]);
  const zeroPoint = g.initializer(`${name}_zero_point`, "uint8", [], Uint8Array.of(q.zeroPoint));
  return g.node("DequantizeLinear", [
    g.node("QuantizeLinear", [x, scale, zeroPoint]),
    scale,
    zeroPoint,
  ]);
}

function dequantizeWeights(
  g: GraphBuilder,
  dims: readonly number[],
  values: Int8Array,
  scales: Float32Array,
  axis: number,
): Value {
  return g.node("DequantizeLinear", [
    g.initializer("weight_quantized", "int8", dims, values),
    g.floats("weight_scale", [scales.length], scales),
    g.initializer("weight_zero_point", "int8", [scales.length], new Int8Array(scales.length)),
  ], { axis });
}

/**
 * A {@link LayerEmitter} that quantizes the layers named in `plan` (weights per output channel,
 * symmetric int8; activations per tensor, asymmetric uint8) and leaves the others in float32.
 *
 * @example
 * ```ts
 * const encoder = buildEncoderModel(stateDict, new QdqLayers(plan, 127));
 * ```
 */
export class QdqLayers implements LayerEmitter {
  constructor(readonly plan: QuantizationPlan, readonly weightLevels: WeightLevels) {}

  /**
   * `x W + b` as QuantizeLinear then MatMulIntegerToFloat (uint8 x int8 products accumulated
   * in int32, scaled to float, bias added); the input is quantized once for all output groups.
   */
  linear(g: GraphBuilder, input: Value, spec: LinearSpec): Value[] {
    const q = this.plan.get(spec.name);
    if (!q) return float32Layers.linear(g, input, spec);
    const rowScales = q.inputChannels?.scales;
    const inverseScales = rowScales?.map((v) => 1 / v);
    // A pre-norm layer's input is divided by its channel scales inside the LayerNorm's affine terms.
    const folded = spec.inputNorm !== undefined && inverseScales !== undefined;
    const x = spec.inputNorm
      ? emitInputNorm(g, input, spec.inputNorm, folded ? inverseScales : undefined)
      : input;
    const zero = q.inputChannels?.zeroPoint ?? q.input.zeroPoint;
    const zeroPoint = g.initializer("input_zero_point", "uint8", [], Uint8Array.of(zero));
    let quantized: Value;
    let inputScale: Value;
    if (inverseScales) {
      // Dividing by the channel scales first keeps the quantizer per-tensor, which ONNX Runtime
      // vectorizes (its per-axis QuantizeLinear ran 9x slower than the whole layer).
      const normalized = folded
        ? x
        : op.mul(g, x, g.floats("input_channel_inverse_scale", [spec.inFeatures], inverseScales));
      inputScale = g.floats("input_scale", [], [1]);
      quantized = g.node("QuantizeLinear", [normalized, inputScale, zeroPoint]);
    } else {
      inputScale = g.floats("input_scale", [], [q.input.scale]);
      quantized = g.node("QuantizeLinear", [x, inputScale, zeroPoint]);
    }
    return outputGroupSpecs(spec).map((group) => {
      const w = this.#quantizeWeights(group, q);
      const n = group.outFeatures;
      return g.node(
        "MatMulIntegerToFloat",
        [
          quantized,
          g.initializer("weight_quantized", "int8", [group.inFeatures, n], w.values),
          inputScale,
          g.floats("weight_scale", [n], w.scales),
          zeroPoint,
          g.initializer("weight_zero_point", "int8", [n], new Int8Array(n)),
          ...(group.bias ? [g.floats("bias", [n], group.bias)] : []),
        ],
        {},
        { domain: "com.microsoft" },
      );
    });
  }

  /**
   * With per-channel input scales `s_j` and a shared zero point `z`, `x_j = s_j (q_j - z)`, so
   * `x W = (q - z) (diag(s) W)`: the scales are folded into the weight rows before the weights
   * are quantized per output column.
   */
  #quantizeWeights(spec: LinearSpec, q: LayerQuant) {
    const n = spec.outFeatures;
    const rowScales = q.inputChannels?.scales;
    const weight = rowScales
      ? spec.weight.map((w, i) => w * rowScales[Math.floor(i / n)])
      : spec.weight;
    const power = q.inputChannelPower;
    const importance = (i: number) => {
      if (!power) return 1;
      const row = Math.floor(i / n);
      return rowScales ? power[row] / (rowScales[row] * rowScales[row]) : power[row];
    };
    return quantizeWeightsPerChannel(weight, n, (i) => i % n, importance, this.weightLevels);
  }

  conv(g: GraphBuilder, x: Value, spec: ConvSpec): Value {
    const q = this.plan.get(spec.name);
    if (!q || !q.output) return float32Layers.conv(g, x, spec);
    const [out, inPerGroup, kh, kw] = spec.weight.shape;
    const perChannel = inPerGroup * kh * kw;
    const outPerGroup = out / spec.group;
    const power = q.inputChannelPower;
    const inputChannel = (i: number) => {
      const o = Math.floor(i / perChannel);
      return Math.floor(o / outPerGroup) * inPerGroup + Math.floor((i % perChannel) / (kh * kw));
    };
    const w = quantizeWeightsPerChannel(
      spec.weight.data,
      out,
      (i) => Math.floor(i / perChannel),
      (i) => power ? power[inputChannel(i)] : 1,
      this.weightLevels,
    );
    const weight = dequantizeWeights(g, spec.weight.shape, w.values, w.scales, 0);
    let bias: Value | "" = "";
    if (spec.bias) {
      // The bias is added in the int32 accumulator, in units of input scale x weight scale.
      const biasScales = w.scales.map((s) => s * q.input.scale);
      const biasValues = Int32Array.from(spec.bias, (b, o) => Math.round(b / biasScales[o]));
      bias = g.node("DequantizeLinear", [
        g.initializer("bias_quantized", "int32", [out], biasValues),
        g.floats("bias_scale", [out], biasScales),
        g.initializer("bias_zero_point", "int32", [out], new Int32Array(out)),
      ], { axis: 0 });
    }
    const y = op.conv(g, fakeQuant(g, x, q.input, "input"), weight, bias, spec);
    return fakeQuant(g, y, q.output, "output");
  }

  matMul(g: GraphBuilder, name: string, a: Value, b: Value): Value {
    const q = this.plan.get(name);
    if (!q || !q.inputB) return float32Layers.matMul(g, name, a, b);
    const quantized = (x: Value, aq: ActivationQuant, role: string) => {
      const scale = g.floats(`${role}_scale`, [], [aq.scale]);
      const zeroPoint = g.initializer(
        `${role}_zero_point`,
        "uint8",
        [],
        Uint8Array.of(aq.zeroPoint),
      );
      return [g.node("QuantizeLinear", [x, scale, zeroPoint]), scale, zeroPoint] as const;
    };
    const [qa, sa, za] = quantized(a, q.input, "a");
    const [qb, sb, zb] = quantized(b, q.inputB, "b");
    return g.node("MatMulIntegerToFloat", [qa, qb, sa, sb, za, zb], {}, {
      domain: "com.microsoft",
    });
  }
}
