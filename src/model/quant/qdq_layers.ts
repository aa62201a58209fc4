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
  float32Layers,
  type LayerEmitter,
  type LinearSpec,
} from "../tinysam/layers.ts";
import { type ActivationQuant, quantizeWeightsPerChannel, type WeightLevels } from "./affine.ts";

/** How one layer is quantized; layers without an entry stay float32. */
export interface LayerQuant {
  /** Quantizer of the (first) input activation. */
  readonly input: ActivationQuant;
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
  constructor(
    readonly plan: QuantizationPlan,
    readonly weightLevels: WeightLevels,
    readonly linearForm: "qdq-output" | "integer-to-float" = "integer-to-float",
  ) {}

  linear(g: GraphBuilder, x: Value, spec: LinearSpec): Value {
    const q = this.plan.get(spec.name);
    if (!q) return float32Layers.linear(g, x, spec);
    const { inFeatures: k, outFeatures: n } = spec;
    const power = q.inputChannelPower;
    const w = quantizeWeightsPerChannel(
      spec.weight,
      n,
      (i) => i % n,
      (i) => power ? power[Math.floor(i / n)] : 1,
      this.weightLevels,
    );
    if (this.linearForm === "integer-to-float") {
      const scale = g.floats("input_scale", [], [q.input.scale]);
      const zeroPoint = g.initializer(
        "input_zero_point",
        "uint8",
        [],
        Uint8Array.of(q.input.zeroPoint),
      );
      return g.node(
        "MatMulIntegerToFloat",
        [
          g.node("QuantizeLinear", [x, scale, zeroPoint]),
          g.initializer("weight_quantized", "int8", [k, n], w.values),
          scale,
          g.floats("weight_scale", [n], w.scales),
          zeroPoint,
          g.initializer("weight_zero_point", "int8", [n], new Int8Array(n)),
          ...(spec.bias ? [g.floats("bias", [n], spec.bias)] : []),
        ],
        {},
        { domain: "com.microsoft" },
      );
    }
    let y = op.matMul(
      g,
      fakeQuant(g, x, q.input, "input"),
      dequantizeWeights(g, [k, n], w.values, w.scales, 1),
    );
    if (q.output) y = fakeQuant(g, y, q.output, "output");
    return spec.bias ? op.add(g, y, g.floats("bias", [n], spec.bias)) : y;
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
