/**
 * SAM's mask decoder (as TinySAM uses it) and the complete batched decoder graph:
 * B prompt sets against one image embedding -> 4 low-res mask logits and IoU predictions each.
 * @module
 */
import type { Value } from "../onnx/graph.ts";
import * as op from "../onnx/ops.ts";
import { EMBEDDING_DIM, EMBEDDING_SIDE, MASK_DECODER } from "./architecture.ts";
import type { ModelContext } from "./layers.ts";
import {
  denseMaskEmbedding,
  imagePositionalEncoding,
  sparsePromptEmbeddings,
} from "./prompt_encoder.ts";
import { twoWayTransformer } from "./transformer.ts";

/** Inputs of the decoder graph (see DESIGN.md, decoder contract). */
export interface DecoderInputs {
  /** `[1, 256, 64, 64]` */
  readonly imageEmbeddings: Value;
  /** `[B, N, 2]` in pixels of the 1024 frame. */
  readonly pointCoords: Value;
  /** `[B, N]` */
  readonly pointLabels: Value;
  /** `[B, 1, 256, 256]` */
  readonly maskInput: Value;
  /** `[B]` */
  readonly hasMaskInput: Value;
}

/** Prompt encoder then mask decoder. Returns `lowResMasks [B, 4, 256, 256]`, `iouPredictions [B, 4]`. */
export function promptedMaskDecoder(
  ctx: ModelContext,
  inputs: DecoderInputs,
): { lowResMasks: Value; iouPredictions: Value } {
  const { sparse, dense, imagePe } = ctx.module("prompt_encoder", () => ({
    sparse: sparsePromptEmbeddings(ctx, inputs.pointCoords, inputs.pointLabels),
    dense: denseMaskEmbedding(ctx, inputs.maskInput, inputs.hasMaskInput),
    imagePe: imagePositionalEncoding(ctx),
  }));
  return ctx.module(
    "mask_decoder",
    () => predictMasks(ctx, inputs.imageEmbeddings, imagePe, sparse, dense),
  );
}

/**
 * Output tokens (IoU token, 4 mask tokens) and prompt tokens attend with the image through the
 * two-way transformer; the image tokens are upscaled x4 and each mask token's hypernetwork
 * MLP turns them into one mask's logits.
 */
function predictMasks(
  ctx: ModelContext,
  imageEmbeddings: Value,
  imagePe: Value,
  sparse: Value,
  dense: Value,
) {
  const g = ctx.g;
  const d = EMBEDDING_DIM;
  const outputTokens = op.concat(g, [
    ctx.constant("iou_token.weight"),
    ctx.constant("mask_tokens.weight"),
  ], 0);
  const batch = g.node("Shape", [sparse], { start: 0, end: 1 });
  const expanded = g.node("Expand", [
    g.node("Unsqueeze", [outputTokens, g.ints("axes", [0])]),
    op.concat(g, [batch, g.ints("token_shape", [1 + MASK_DECODER.maskTokens, d])], 0),
  ]);
  const tokens = op.concat(g, [expanded, sparse], 1);

  const src = op.add(g, imageEmbeddings, dense); // broadcast over the batch
  const imageTokens = op.transpose(g, op.reshape(g, src, [0, d, -1]), [0, 2, 1]);
  const [hs, keys] = ctx.module(
    "transformer",
    () => twoWayTransformer(ctx, tokens, imageTokens, imagePe),
  );

  // Upscaling x4 on channels-last image tokens: both transposed convolutions are per-pixel linear
  // layers (kernel = stride), and LayerNorm and GELU are per pixel too, so every pixel's 4x4
  // block stays with it until the masks (4 channels, not 32) are put in image order at the end.
  const upscaled = ctx.module("output_upscaling", () => {
    const quarter = d / 4;
    let x = ctx.blockConvTranspose(keys, "0"); // [B, 4096, 2 * 2 * 64]
    x = op.reshape(g, x, [0, -1, quarter]);
    x = op.gelu(g, ctx.layerNorm(x, "1", 1e-6));
    x = op.reshape(g, op.gelu(g, ctx.blockConvTranspose(x, "3")), [0, -1, d / 8]);
    return x; // [B, (i, j, dy1, dx1, dy2, dx2), 32]
  });

  const hyperIn = ctx.module("output_hypernetworks_mlps", () => {
    const perToken: Value[] = [];
    for (let t = 0; t < MASK_DECODER.maskTokens; t++) {
      const token = op.slice(g, hs, [1 + t], [2 + t], [1]); // [B, 1, 256]
      perToken.push(ctx.module(t, () => mlp(ctx, token)));
    }
    return op.concat(g, perToken, 1); // [B, 4, 32]
  });
  const tokens4 = MASK_DECODER.maskTokens;
  const side = EMBEDDING_SIDE;
  const blocked = op.matMul(g, hyperIn, op.transpose(g, upscaled, [0, 2, 1])); // [B, 4, 65536]
  // (i, j, dy1, dx1, dy2, dx2) -> row 4i + 2dy1 + dy2, column 4j + 2dx1 + dx2
  const inBlocks = op.reshape(g, blocked, [0, tokens4, side, side, 2, 2, 2, 2]);
  const lowResMasks = op.reshape(g, op.transpose(g, inBlocks, [0, 1, 2, 4, 6, 3, 5, 7]), [
    0,
    tokens4,
    4 * side,
    4 * side,
  ]);

  const iouToken = op.reshape(g, op.slice(g, hs, [0], [1], [1]), [-1, d]);
  const iouPredictions = ctx.module("iou_prediction_head", () => mlp(ctx, iouToken));
  return { lowResMasks, iouPredictions };
}

/** SAM's MLP: three linear layers with ReLU between. */
function mlp(ctx: ModelContext, x: Value): Value {
  return ctx.module("layers", () => {
    const h = op.relu(ctx.g, ctx.linear(x, "0"));
    return ctx.linear(op.relu(ctx.g, ctx.linear(h, "1")), "2");
  });
}
