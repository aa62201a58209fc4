/**
 * Thin typed wrappers over ONNX operators (opset 17), so graph code reads like a forward pass.
 * @module
 */
import { float, type GraphBuilder, type Value } from "./graph.ts";

/** `a @ b` with numpy broadcasting. */
export function matMul(g: GraphBuilder, a: Value, b: Value): Value {
  return g.node("MatMul", [a, b]);
}

/** Elementwise `a + b`. */
export function add(g: GraphBuilder, a: Value, b: Value): Value {
  return g.node("Add", [a, b]);
}

/** Elementwise `a - b`. */
export function sub(g: GraphBuilder, a: Value, b: Value): Value {
  return g.node("Sub", [a, b]);
}

/** Elementwise `a * b`. */
export function mul(g: GraphBuilder, a: Value, b: Value): Value {
  return g.node("Mul", [a, b]);
}

/** Elementwise `a / b`. */
export function div(g: GraphBuilder, a: Value, b: Value): Value {
  return g.node("Div", [a, b]);
}

/** `x * scalar`. */
export function scale(g: GraphBuilder, x: Value, factor: number): Value {
  return mul(g, x, g.floats("scale", [], [factor]));
}

/** Exact GELU, `0.5 x (1 + erf(x / sqrt 2))`, in the form ONNX Runtime fuses into one kernel. */
export function gelu(g: GraphBuilder, x: Value): Value {
  const erf = g.node("Erf", [div(g, x, g.floats("sqrt2", [], [Math.SQRT2]))]);
  const onePlus = add(g, erf, g.floats("one", [], [1]));
  return mul(g, mul(g, x, onePlus), g.floats("half", [], [0.5]));
}

/** `max(x, 0)`. */
export function relu(g: GraphBuilder, x: Value): Value {
  return g.node("Relu", [x]);
}

/** Softmax over the last axis. */
export function softmax(g: GraphBuilder, x: Value): Value {
  return g.node("Softmax", [x], { axis: -1 });
}

/**
 * Softmax over any `axis`, as max, exp of the difference, sum and quotient: for short axes that
 * are not the last one, where ONNX Runtime's Softmax would work row by row.
 */
export function softmaxOverAxis(g: GraphBuilder, x: Value, axis: number): Value {
  const max = g.node("ReduceMax", [x], { axes: [axis], keepdims: 1 });
  const exp = g.node("Exp", [sub(g, x, max)]);
  return div(g, exp, g.node("ReduceSum", [exp, g.ints("axes", [axis])], { keepdims: 1 }));
}

/** Reshape to a fixed shape (`0` copies a dimension, `-1` infers one). */
export function reshape(g: GraphBuilder, x: Value, shape: readonly number[]): Value {
  return g.node("Reshape", [x, g.ints("shape", shape)]);
}

/** Permutes dimensions. */
export function transpose(g: GraphBuilder, x: Value, perm: readonly number[]): Value {
  return g.node("Transpose", [x], { perm });
}

/** Concatenates along `axis`. */
export function concat(g: GraphBuilder, xs: readonly Value[], axis: number): Value {
  return g.node("Concat", xs, { axis });
}

/** Splits along `axis` into pieces of the given sizes. */
export function split(g: GraphBuilder, x: Value, sizes: readonly number[], axis: number): Value[] {
  return g.nodeN("Split", [x, g.ints("split", sizes)], { axis }, { outputs: sizes.length });
}

/** `x[starts:ends]` along `axes`. */
export function slice(
  g: GraphBuilder,
  x: Value,
  starts: readonly number[],
  ends: readonly number[],
  axes: readonly number[],
): Value {
  return g.node("Slice", [x, g.ints("starts", starts), g.ints("ends", ends), g.ints("axes", axes)]);
}

/** Zero padding; `pads` is ONNX order: all begins, then all ends. */
export function pad(g: GraphBuilder, x: Value, pads: readonly number[]): Value {
  return g.node("Pad", [x, g.ints("pads", pads)], { mode: "constant" });
}

/** LayerNormalization over the trailing axes from `axis` (ONNX opset 17). */
export function layerNorm(
  g: GraphBuilder,
  x: Value,
  weight: Value,
  bias: Value,
  epsilon: number,
  axis = -1,
): Value {
  return g.node("LayerNormalization", [x, weight, bias], { axis, epsilon: float(epsilon) });
}

/** 2-D convolution; `weight` is `[out, in / group, kh, kw]`. */
export function conv(
  g: GraphBuilder,
  x: Value,
  weight: Value,
  bias: Value | "",
  options: { kernel: number; stride?: number; pad?: number; group?: number },
): Value {
  const p = options.pad ?? 0;
  return g.node("Conv", bias ? [x, weight, bias] : [x, weight], {
    kernel_shape: [options.kernel, options.kernel],
    strides: [options.stride ?? 1, options.stride ?? 1],
    pads: [p, p, p, p],
    group: options.group ?? 1,
  });
}

/**
 * ONNX Runtime's fused multi-head attention (`com.microsoft.MultiHeadAttention`):
 * `softmax(q kᵀ / sqrt(headDim) + bias) v` per head; `q`, `k`, `v` are `[B, N, heads * headDim]`
 * with heads side by side, `bias` broadcasts as `[1, heads, N, N]`.
 */
export function multiHeadAttention(
  g: GraphBuilder,
  q: Value,
  k: Value | "",
  v: Value | "",
  bias: Value | "",
  heads: number,
): Value {
  return g.node("MultiHeadAttention", [q, k, v, "", "", bias], {
    num_heads: heads,
  }, { domain: "com.microsoft" });
}

/** Removes the size-1 dimensions `axes`. */
export function squeeze(g: GraphBuilder, x: Value, axes: readonly number[]): Value {
  return g.node("Squeeze", [x, g.ints("axes", axes)]);
}
