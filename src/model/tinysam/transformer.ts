/**
 * SAM's two-way transformer as an ONNX graph fragment: prompt tokens and image tokens attend
 * to each other in turn (depth 2, width 256, 8 heads, ReLU MLP 2048, cross attention at half width).
 * @module
 */
import type { Value } from "../onnx/graph.ts";
import * as op from "../onnx/ops.ts";
import { MASK_DECODER } from "./architecture.ts";
import type { ModelContext } from "./layers.ts";

const LAYER_NORM_EPS = 1e-5;

/**
 * Runs the transformer. `queries` and `queryPe` are the prompt tokens `[B, T, 256]` (the same
 * value: tokens are their own positional encoding), `keys` the image tokens `[B, 4096, 256]`,
 * `keyPe` their positional encoding `[1, 4096, 256]`. Returns the updated `[queries, keys]`.
 */
export function twoWayTransformer(
  ctx: ModelContext,
  tokens: Value,
  imageTokens: Value,
  imagePe: Value,
): [Value, Value] {
  const g = ctx.g;
  let queries = tokens;
  let keys = imageTokens;
  for (let l = 0; l < MASK_DECODER.transformerDepth; l++) {
    [queries, keys] = ctx.module(
      "layers",
      () => ctx.module(l, () => twoWayAttentionBlock(ctx, queries, keys, tokens, imagePe, l === 0)),
    );
  }
  const attended = ctx.module(
    "final_attn_token_to_image",
    () => attention(ctx, op.add(g, queries, tokens), op.add(g, keys, imagePe), keys),
  );
  return [ctx.layerNorm(op.add(g, queries, attended), "norm_final_attn", LAYER_NORM_EPS), keys];
}

/**
 * Self attention of the tokens, tokens-to-image cross attention, MLP, image-to-tokens cross
 * attention, each followed by LayerNorm. The first block skips the positional encoding (and
 * the residual) in its self attention.
 */
function twoWayAttentionBlock(
  ctx: ModelContext,
  queriesIn: Value,
  keysIn: Value,
  queryPe: Value,
  keyPe: Value,
  skipFirstLayerPe: boolean,
): [Value, Value] {
  const g = ctx.g;
  let queries: Value;
  if (skipFirstLayerPe) {
    queries = ctx.module("self_attn", () => attention(ctx, queriesIn, queriesIn, queriesIn));
  } else {
    const q = op.add(g, queriesIn, queryPe);
    queries = op.add(g, queriesIn, ctx.module("self_attn", () => attention(ctx, q, q, queriesIn)));
  }
  queries = ctx.layerNorm(queries, "norm1", LAYER_NORM_EPS);

  const keysWithPe = op.add(g, keysIn, keyPe);
  const tokenToImage = ctx.module(
    "cross_attn_token_to_image",
    () => attention(ctx, op.add(g, queries, queryPe), keysWithPe, keysIn),
  );
  queries = ctx.layerNorm(op.add(g, queries, tokenToImage), "norm2", LAYER_NORM_EPS);

  const mlpOut = ctx.module(
    "mlp",
    () => ctx.linear(op.relu(g, ctx.linear(queries, "lin1")), "lin2"),
  );
  queries = ctx.layerNorm(op.add(g, queries, mlpOut), "norm3", LAYER_NORM_EPS);

  const queriesWithPe = op.add(g, queries, queryPe);
  const imageToToken = ctx.module(
    "cross_attn_image_to_token",
    () => attention(ctx, keysWithPe, queriesWithPe, queries, true),
  );
  const keys = ctx.layerNorm(op.add(g, keysIn, imageToToken), "norm4", LAYER_NORM_EPS);
  return [queries, keys];
}

/**
 * Multi-head attention with q/k/v/out projections; `q [B, Nq, 256]`, `k`, `v [B, Nk, 256]`.
 * When the image tokens attend to the few prompt tokens (`fewKeys`), the scores are laid out
 * keys-first, `[B, heads, Nk, 4096]`, and the softmax runs down 4096 short columns in a few
 * vectorized passes: ONNX Runtime's Softmax over 4096 x 8 rows of a handful of values each took
 * an eighth of the decoder's time.
 */
function attention(ctx: ModelContext, q: Value, k: Value, v: Value, fewKeys = false): Value {
  const g = ctx.g;
  const heads = MASK_DECODER.heads;
  const internal = ctx.param("q_proj.weight").shape[0];
  const headDim = internal / heads;
  const separate = (x: Value, perm: number[]) =>
    op.transpose(g, op.reshape(g, x, [0, 0, heads, headDim]), perm);
  const values = separate(ctx.linear(v, "v_proj"), [0, 2, 1, 3]);
  // Divided (not multiplied by the reciprocal) as the reference does: with near-tied attention
  // logits, one ulp decides which token wins.
  const sqrtHeadDim = g.floats("sqrt_head_dim", [], [Math.sqrt(headDim)]);
  let probabilities: Value;
  if (fewKeys) {
    const keys = separate(ctx.linear(k, "k_proj"), [0, 2, 1, 3]);
    const queriesT = separate(ctx.linear(q, "q_proj"), [0, 2, 3, 1]);
    const scoresT = op.div(g, ctx.matMul("scores", keys, queriesT), sqrtHeadDim);
    probabilities = op.transpose(g, op.softmaxOverAxis(g, scoresT, 2), [0, 1, 3, 2]);
  } else {
    const queries = separate(ctx.linear(q, "q_proj"), [0, 2, 1, 3]);
    const keysT = separate(ctx.linear(k, "k_proj"), [0, 2, 3, 1]);
    probabilities = op.softmax(g, op.div(g, ctx.matMul("scores", queries, keysT), sqrtHeadDim));
  }
  const context = ctx.matMul("context", probabilities, values);
  const merged = op.reshape(g, op.transpose(g, context, [0, 2, 1, 3]), [0, 0, internal]);
  return ctx.linear(merged, "out_proj");
}
