/**
 * SAM's prompt encoder as an ONNX graph fragment: random-Fourier positional encoding of
 * points and box corners, learned embeddings per point label, and the dense mask embedding.
 * @module
 */
import type { Value } from "../onnx/graph.ts";
import * as op from "../onnx/ops.ts";
import { EMBEDDING_DIM, EMBEDDING_SIDE, IMAGE_SIZE } from "./architecture.ts";
import type { ModelContext } from "./layers.ts";

/**
 * Random-Fourier encoding of coordinates normalized to [0, 1]: `[..., 2]` -> `[..., 256]`
 * as `[sin(2π (2c - 1) G), cos(2π (2c - 1) G)]` with the checkpoint's Gaussian matrix G.
 */
export function positionalEncoding(ctx: ModelContext, unitCoords: Value): Value {
  const g = ctx.g;
  const gaussian = ctx.constant("pe_layer.positional_encoding_gaussian_matrix");
  const centered = op.sub(g, op.scale(g, unitCoords, 2), g.floats("one", [], [1]));
  const angles = op.scale(g, op.matMul(g, centered, gaussian), 2 * Math.PI);
  return op.concat(g, [g.node("Sin", [angles]), g.node("Cos", [angles])], -1);
}

/** The dense positional encoding of the 64x64 embedding grid, `[1, 64*64, 256]` (row-major). */
export function imagePositionalEncoding(ctx: ModelContext): Value {
  const side = EMBEDDING_SIDE;
  const centers = new Float32Array(side * side * 2);
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      centers[(y * side + x) * 2] = (x + 0.5) / side;
      centers[(y * side + x) * 2 + 1] = (y + 0.5) / side;
    }
  }
  return positionalEncoding(ctx, ctx.g.floats("grid_centers", [1, side * side, 2], centers));
}

/**
 * Sparse prompt tokens `[B, N, 256]` from `pointCoords [B, N, 2]` (pixels of the 1024 frame)
 * and `pointLabels [B, N]` (-1 padding, 0 negative, 1 positive, 2/3 box corners): the
 * positional encoding of each pixel centre (zeroed for padding) plus the label's embedding.
 */
export function sparsePromptEmbeddings(
  ctx: ModelContext,
  pointCoords: Value,
  pointLabels: Value,
): Value {
  const g = ctx.g;
  const unit = op.div(
    g,
    op.add(g, pointCoords, g.floats("pixel_center", [], [0.5])),
    g.floats("size", [], [IMAGE_SIZE]),
  );
  const encoded = positionalEncoding(ctx, unit);
  const isPoint = g.node("Cast", [
    g.node("Greater", [pointLabels, g.floats("padding_label", [], [-0.5])]),
  ], { to: 1 });
  const masked = op.mul(g, encoded, g.node("Unsqueeze", [isPoint, g.ints("axes", [-1])]));
  // Row 0 of the table is "not a point" (label -1); rows 1..4 are labels 0..3.
  const table = new Float32Array(5 * EMBEDDING_DIM);
  table.set(ctx.param("not_a_point_embed.weight").data, 0);
  for (let label = 0; label < 4; label++) {
    table.set(ctx.param(`point_embeddings.${label}.weight`).data, (label + 1) * EMBEDDING_DIM);
  }
  const row = g.node("Cast", [op.add(g, pointLabels, g.floats("one", [], [1]))], { to: 7 });
  const labelEmbedding = g.node("Gather", [
    g.floats("label_embeddings", [5, EMBEDDING_DIM], table),
    row,
  ], { axis: 0 });
  return op.add(g, masked, labelEmbedding);
}

/**
 * Dense prompt embedding: the downscaled `maskInput [B, 1, 256, 256]` where `hasMaskInput [B]`
 * is 1, the learned "no mask" embedding where it is 0. When no prompt of the batch has a mask
 * input, the downscaling branch is not run at all and the result is the one "no mask" embedding
 * `[1, 256, 1, 1]`, which broadcasts: everything computed from the image alone is then computed
 * once for the whole batch.
 */
export function denseMaskEmbedding(
  ctx: ModelContext,
  maskInput: Value,
  hasMaskInput: Value,
): Value {
  const g = ctx.g;
  const noMask = ctx.constant("no_mask_embed.weight", [1, EMBEDDING_DIM, 1, 1]);
  const withMasks = g.subgraph("with_mask_input", () => {
    const downscaled = ctx.module("mask_downscaling", () => {
      let x = op.gelu(g, ctx.layerNorm2d(ctx.conv(maskInput, "0", { kernel: 2, stride: 2 }), "1"));
      x = op.gelu(g, ctx.layerNorm2d(ctx.conv(x, "3", { kernel: 2, stride: 2 }), "4"));
      return ctx.conv(x, "6", { kernel: 1 });
    });
    const has = op.reshape(g, hasMaskInput, [-1, 1, 1, 1]);
    const hasNot = op.sub(g, g.floats("one", [], [1]), has);
    return [op.add(g, op.mul(g, downscaled, has), op.mul(g, noMask, hasNot))];
  });
  const withoutMasks = g.subgraph("without_mask_input", () => [noMask]);
  const anyMask = g.node("Greater", [
    g.node("ReduceMax", [hasMaskInput], { keepdims: 0 }),
    g.floats("zero", [], [0]),
  ]);
  return g.node("If", [anyMask], { then_branch: withMasks, else_branch: withoutMasks });
}
