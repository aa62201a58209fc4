/**
 * TinyViT-5M image encoder (`vit_t`) as an ONNX graph, one function per block of the model.
 * Input `[1, 3, 1024, 1024]` normalized pixels, output `image_embeddings [1, 256, 64, 64]`.
 * @module
 */
import type { Value } from "../onnx/graph.ts";
import * as op from "../onnx/ops.ts";
import { EMBEDDING_DIM, type StageConfig, TINY_VIT } from "./architecture.ts";
import type { ModelContext } from "./layers.ts";

const LAYER_NORM_EPS = 1e-5;
/** The LayerNorm in front of a block's attention or MLP. */
const NORM = { name: "norm", epsilon: LAYER_NORM_EPS };

/** The whole encoder: patch embed, four stages, neck. `pixels` is `[1, 3, 1024, 1024]`. */
export function imageEncoder(ctx: ModelContext, pixels: Value): Value {
  return ctx.module("image_encoder", () => {
    const [convStage, ...attentionStages] = TINY_VIT.stages;
    let x = ctx.module("patch_embed", () => patchEmbed(ctx, pixels));
    x = ctx.module("layers", () => {
      let h = ctx.module(0, () => convLayer(ctx, x, convStage, attentionStages[0].dim));
      attentionStages.forEach((stage, i) => {
        const next = attentionStages[i + 1];
        h = ctx.module(i + 1, () => basicLayer(ctx, h, stage, next?.dim));
      });
      return h;
    });
    const { resolution } = attentionStages[attentionStages.length - 1];
    return ctx.module("neck", () => neck(ctx, x, resolution));
  });
}

/** Two stride-2 3x3 Conv2d_BN with GELU between: `[1,3,1024,1024]` -> `[1,64,256,256]`. */
function patchEmbed(ctx: ModelContext, pixels: Value): Value {
  return ctx.module("seq", () => {
    const x = ctx.convBatchNorm(pixels, "0", { kernel: 3, stride: 2, pad: 1 });
    return ctx.convBatchNorm(op.gelu(ctx.g, x), "2", { kernel: 3, stride: 2, pad: 1 });
  });
}

/** Stage 0: MBConv blocks on the NCHW grid, then patch merging into tokens. */
function convLayer(ctx: ModelContext, x: Value, stage: StageConfig, outDim: number): Value {
  let h = x;
  for (let b = 0; b < stage.depth; b++) {
    h = ctx.module("blocks", () => ctx.module(b, () => mbConv(ctx, h)));
  }
  return ctx.module("downsample", () => patchMerging(ctx, { grid: h }, outDim));
}

/** Inverted residual: 1x1 expand, 3x3 depthwise, 1x1 project, residual, GELU. */
function mbConv(ctx: ModelContext, x: Value): Value {
  const g = ctx.g;
  let h = op.gelu(g, ctx.convBatchNorm(x, "conv1", { kernel: 1 }));
  const hidden = ctx.param("conv2.c.weight").shape[0];
  h = op.gelu(g, ctx.convBatchNorm(h, "conv2", { kernel: 3, pad: 1, group: hidden }));
  h = ctx.convBatchNorm(h, "conv3", { kernel: 1 });
  return op.gelu(g, op.add(g, h, x));
}

/**
 * 1x1 conv, 3x3 depthwise (stride 2, or 1 into the last stage whose width is 320), 1x1 conv.
 * Takes the NCHW grid of stage 0 or the tokens `[1, side * side, C]` of an attention stage, and
 * returns tokens `[1, L, outDim]`. On tokens the 1x1 convolutions are linear layers; only the
 * depthwise convolution sees a grid.
 */
function patchMerging(
  ctx: ModelContext,
  input: { grid: Value } | { tokens: Value; side: number },
  outDim: number,
): Value {
  const g = ctx.g;
  const stride = outDim === 320 || outDim === 448 || outDim === 576 ? 1 : 2;
  let h: Value;
  if ("grid" in input) {
    h = op.gelu(g, ctx.convBatchNorm(input.grid, "conv1", { kernel: 1 }));
  } else {
    const expanded = op.gelu(g, ctx.pointwise(input.tokens, "conv1", { batchNorm: true }));
    h = tokensToGrid(ctx, expanded, outDim, input.side);
  }
  h = op.gelu(g, ctx.convBatchNorm(h, "conv2", { kernel: 3, stride, pad: 1, group: outDim }));
  return ctx.pointwise(gridToTokens(ctx, h, outDim), "conv3", { batchNorm: true });
}

/** An attention stage: TinyViT blocks on tokens, then patch merging when another stage follows. */
function basicLayer(ctx: ModelContext, tokens: Value, stage: StageConfig, nextDim?: number): Value {
  let x = tokens;
  for (let b = 0; b < stage.depth; b++) {
    x = ctx.module("blocks", () => ctx.module(b, () => tinyVitBlock(ctx, x, stage)));
  }
  if (nextDim === undefined) return x;
  const side = stage.resolution;
  return ctx.module("downsample", () => patchMerging(ctx, { tokens: x, side }, nextDim));
}

/**
 * `[1, H*W, C]` tokens -> `[1, C, H, W]` grid. The Transpose comes last so that it meets the
 * convolution that reads the grid, and ONNX Runtime folds it into the convolution's input reorder.
 */
function tokensToGrid(ctx: ModelContext, tokens: Value, dim: number, side: number): Value {
  return op.transpose(ctx.g, op.reshape(ctx.g, tokens, [1, side, side, dim]), [0, 3, 1, 2]);
}

/** `[1, C, H, W]` grid -> `[1, H*W, C]` tokens, Transpose first (folded into the output reorder). */
function gridToTokens(ctx: ModelContext, grid: Value, dim: number): Value {
  return op.reshape(ctx.g, op.transpose(ctx.g, grid, [0, 2, 3, 1]), [1, -1, dim]);
}

/**
 * TinyViT block: windowed attention with residual, 3x3 depthwise local conv, MLP with residual.
 * Windows are zero-padded to a multiple of the window size before attention (the attention's
 * LayerNorm therefore sees the padding too, as in the reference).
 */
function tinyVitBlock(ctx: ModelContext, tokens: Value, stage: StageConfig): Value {
  const g = ctx.g;
  const { dim: c, resolution: side, window: ws } = stage;
  const attended = ctx.module("attn", () => {
    if (side === ws) return attention(ctx, tokens, stage);
    const padded = Math.ceil(side / ws) * ws;
    const windowsPerSide = padded / ws;
    let x = op.reshape(g, tokens, [1, side, side, c]);
    if (padded !== side) x = op.pad(g, x, [0, 0, 0, 0, 0, padded - side, padded - side, 0]);
    x = op.reshape(g, x, [1, windowsPerSide, ws, windowsPerSide, ws, c]);
    x = op.reshape(g, op.transpose(g, x, [0, 1, 3, 2, 4, 5]), [-1, ws * ws, c]);
    x = attention(ctx, x, stage);
    x = op.reshape(g, x, [1, windowsPerSide, windowsPerSide, ws, ws, c]);
    x = op.reshape(g, op.transpose(g, x, [0, 1, 3, 2, 4, 5]), [1, padded, padded, c]);
    if (padded !== side) x = op.slice(g, x, [0, 0], [side, side], [1, 2]);
    return op.reshape(g, x, [1, side * side, c]);
  });
  let x = op.add(g, tokens, attended);
  const local = ctx.convBatchNorm(tokensToGrid(ctx, x, c, side), "local_conv", {
    kernel: TINY_VIT.localConvSize,
    pad: (TINY_VIT.localConvSize - 1) / 2,
    group: c,
  });
  x = gridToTokens(ctx, local, c);
  return op.add(g, x, ctx.module("mlp", () => mlp(ctx, x)));
}

/**
 * Multi-head self-attention over windows `[W, N, C]` with LayerNorm in front and a learned
 * bias per head indexed by the |dx|, |dy| offset between two positions of the window.
 * The checkpoint's qkv layer interleaves q, k and v per head; its output columns are reordered
 * into q, k, v blocks so ONNX Runtime's fused attention kernel reads them as three tensors.
 */
function attention(ctx: ModelContext, windows: Value, stage: StageConfig): Value {
  const { dim, heads, window } = stage;
  const [q, k, v] = ctx.linearGroups(windows, "qkv", {
    normalizedBy: NORM,
    columns: qkvBlockOrder(heads, dim / heads),
    groups: [dim, dim, dim],
  });
  const bias = attentionBias(ctx, heads, window);
  return ctx.linear(op.multiHeadAttention(ctx.g, q, k, v, bias, heads), "proj");
}

/**
 * Output columns of TinyViT's qkv layer (`[heads, 3, headDim]`: q, k, v interleaved per head)
 * in the order `[3, heads, headDim]`: all queries, then all keys, then all values.
 */
export function qkvBlockOrder(heads: number, headDim: number): Int32Array {
  const order = new Int32Array(3 * heads * headDim);
  for (let part = 0; part < 3; part++) {
    for (let h = 0; h < heads; h++) {
      for (let d = 0; d < headDim; d++) {
        order[(part * heads + h) * headDim + d] = h * 3 * headDim + part * headDim + d;
      }
    }
  }
  return order;
}

/** The `[heads, N, N]` bias table: each head's learned bias per distinct window offset. */
function attentionBias(ctx: ModelContext, heads: number, window: number): Value {
  const biases = ctx.param("attention_biases");
  const offsets = biases.shape[1];
  const index = windowOffsetIndex(window);
  const n = window * window;
  const table = new Float32Array(heads * n * n);
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < n * n; i++) table[h * n * n + i] = biases.data[h * offsets + index[i]];
  }
  return ctx.g.floats("attention_bias", [1, heads, n, n], table);
}

/**
 * For every pair of positions in a window (row-major), the index of their (|dy|, |dx|) offset,
 * numbered in order of first appearance, as TinyViT numbers its `attention_biases` columns.
 */
export function windowOffsetIndex(window: number): Int32Array {
  const n = window * window;
  const numbering = new Map<number, number>();
  const index = new Int32Array(n * n);
  for (let a = 0; a < n; a++) {
    for (let b = 0; b < n; b++) {
      const dy = Math.abs(Math.floor(a / window) - Math.floor(b / window));
      const dx = Math.abs((a % window) - (b % window));
      const key = dy * window + dx;
      if (!numbering.has(key)) numbering.set(key, numbering.size);
      index[a * n + b] = numbering.get(key)!;
    }
  }
  return index;
}

/** LayerNorm, fc1, GELU, fc2. */
function mlp(ctx: ModelContext, x: Value): Value {
  const h = ctx.linear(x, "fc1", { normalizedBy: NORM });
  return ctx.linear(op.gelu(ctx.g, h), "fc2");
}

/**
 * 1x1 conv to 256, LayerNorm2d, 3x3 conv, LayerNorm2d, on the last stage's tokens; returns the
 * `[1, 256, 64, 64]` embedding. LayerNorm2d normalizes each pixel over its channels, which on
 * tokens is a plain LayerNorm.
 */
function neck(ctx: ModelContext, tokens: Value, side: number): Value {
  const g = ctx.g;
  const eps = 1e-6;
  const dim = EMBEDDING_DIM;
  const reduced = ctx.layerNorm(ctx.pointwise(tokens, "0", { batchNorm: false }), "1", eps);
  const grid = ctx.conv(tokensToGrid(ctx, reduced, dim, side), "2", { kernel: 3, pad: 1 });
  const normed = ctx.layerNorm(gridToTokens(ctx, grid, dim), "3", eps);
  return op.transpose(g, op.reshape(g, normed, [1, side, side, dim]), [0, 3, 1, 2]);
}
