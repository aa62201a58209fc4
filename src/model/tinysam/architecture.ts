/**
 * The `vit_t` architecture shared by TinySAM and MobileSAM: TinyViT-5M image encoder at 1024
 * input, SAM's prompt encoder and mask decoder.
 * @module
 */

/** Input side of the image encoder. */
export const IMAGE_SIZE = 1024;
/** Side of the image embedding grid. */
export const EMBEDDING_SIDE = 64;
/** Channels of the image embedding and of every prompt token. */
export const EMBEDDING_DIM = 256;

/** One TinyViT stage (stage 0 is convolutional, the others are attention stages). */
export interface StageConfig {
  readonly dim: number;
  readonly depth: number;
  /** Attention heads (attention stages only). */
  readonly heads: number;
  /** Attention window side (attention stages only). */
  readonly window: number;
  /** Token grid side at this stage (input 1024 -> patch embed /4). */
  readonly resolution: number;
}

/** TinyViT-5M as configured for SAM (`vit_t`). */
export const TINY_VIT = {
  stages: [
    { dim: 64, depth: 2, heads: 0, window: 0, resolution: 256 },
    { dim: 128, depth: 2, heads: 4, window: 7, resolution: 128 },
    { dim: 160, depth: 6, heads: 5, window: 14, resolution: 64 },
    { dim: 320, depth: 2, heads: 10, window: 7, resolution: 64 },
  ] as readonly StageConfig[],
  mbconvExpandRatio: 4,
  mlpRatio: 4,
  localConvSize: 3,
  /** Per-head key dimension is `dim / heads` (32 in every stage). */
  patchEmbedHidden: 32,
} as const;

/** The SAM mask decoder as used by TinySAM. */
export const MASK_DECODER = {
  transformerDepth: 2,
  heads: 8,
  mlpDim: 2048,
  attentionDownsample: 2,
  maskTokens: 4,
  iouHeadHidden: 256,
  maskInChannels: 16,
} as const;

/**
 * Every parameter the graphs read, with its shape, derived from the configuration above.
 * A checkpoint is validated against this before any graph is built.
 */
export function expectedParameterShapes(): Map<string, number[]> {
  const shapes = new Map<string, number[]>();
  const convBn = (prefix: string, out: number, inPerGroup: number, k: number) => {
    shapes.set(`${prefix}.c.weight`, [out, inPerGroup, k, k]);
    for (const p of ["weight", "bias", "running_mean", "running_var"]) {
      shapes.set(`${prefix}.bn.${p}`, [out]);
    }
  };
  const linear = (prefix: string, out: number, inp: number) => {
    shapes.set(`${prefix}.weight`, [out, inp]);
    shapes.set(`${prefix}.bias`, [out]);
  };
  const norm = (prefix: string, dim: number) => {
    shapes.set(`${prefix}.weight`, [dim]);
    shapes.set(`${prefix}.bias`, [dim]);
  };

  const enc = "image_encoder";
  const { stages, mbconvExpandRatio, mlpRatio, patchEmbedHidden } = TINY_VIT;
  convBn(`${enc}.patch_embed.seq.0`, patchEmbedHidden, 3, 3);
  convBn(`${enc}.patch_embed.seq.2`, stages[0].dim, patchEmbedHidden, 3);
  stages.forEach((stage, s) => {
    for (let b = 0; b < stage.depth; b++) {
      const block = `${enc}.layers.${s}.blocks.${b}`;
      if (s === 0) {
        const hidden = stage.dim * mbconvExpandRatio;
        convBn(`${block}.conv1`, hidden, stage.dim, 1);
        convBn(`${block}.conv2`, hidden, 1, 3);
        convBn(`${block}.conv3`, stage.dim, hidden, 1);
        continue;
      }
      const headDim = stage.dim / stage.heads;
      const windowOffsets = stage.window * stage.window;
      shapes.set(`${block}.attn.attention_biases`, [stage.heads, windowOffsets]);
      norm(`${block}.attn.norm`, stage.dim);
      linear(`${block}.attn.qkv`, 3 * headDim * stage.heads, stage.dim);
      linear(`${block}.attn.proj`, stage.dim, headDim * stage.heads);
      norm(`${block}.mlp.norm`, stage.dim);
      linear(`${block}.mlp.fc1`, stage.dim * mlpRatio, stage.dim);
      linear(`${block}.mlp.fc2`, stage.dim, stage.dim * mlpRatio);
      convBn(`${block}.local_conv`, stage.dim, 1, TINY_VIT.localConvSize);
    }
    if (s < stages.length - 1) {
      const out = stages[s + 1].dim;
      convBn(`${enc}.layers.${s}.downsample.conv1`, out, stage.dim, 1);
      convBn(`${enc}.layers.${s}.downsample.conv2`, out, 1, 3);
      convBn(`${enc}.layers.${s}.downsample.conv3`, out, out, 1);
    }
  });
  const last = stages[stages.length - 1].dim;
  shapes.set(`${enc}.neck.0.weight`, [EMBEDDING_DIM, last, 1, 1]);
  norm(`${enc}.neck.1`, EMBEDDING_DIM);
  shapes.set(`${enc}.neck.2.weight`, [EMBEDDING_DIM, EMBEDDING_DIM, 3, 3]);
  norm(`${enc}.neck.3`, EMBEDDING_DIM);

  const pe = "prompt_encoder";
  shapes.set(`${pe}.pe_layer.positional_encoding_gaussian_matrix`, [2, EMBEDDING_DIM / 2]);
  for (let i = 0; i < 4; i++) shapes.set(`${pe}.point_embeddings.${i}.weight`, [1, EMBEDDING_DIM]);
  shapes.set(`${pe}.not_a_point_embed.weight`, [1, EMBEDDING_DIM]);
  shapes.set(`${pe}.no_mask_embed.weight`, [1, EMBEDDING_DIM]);
  const m = MASK_DECODER.maskInChannels;
  const conv = (prefix: string, out: number, inp: number, k: number) => {
    shapes.set(`${prefix}.weight`, [out, inp, k, k]);
    shapes.set(`${prefix}.bias`, [out]);
  };
  conv(`${pe}.mask_downscaling.0`, m / 4, 1, 2);
  norm(`${pe}.mask_downscaling.1`, m / 4);
  conv(`${pe}.mask_downscaling.3`, m, m / 4, 2);
  norm(`${pe}.mask_downscaling.4`, m);
  conv(`${pe}.mask_downscaling.6`, EMBEDDING_DIM, m, 1);

  const md = "mask_decoder";
  const d = EMBEDDING_DIM;
  const attention = (prefix: string, internal: number) => {
    linear(`${prefix}.q_proj`, internal, d);
    linear(`${prefix}.k_proj`, internal, d);
    linear(`${prefix}.v_proj`, internal, d);
    linear(`${prefix}.out_proj`, d, internal);
  };
  const half = d / MASK_DECODER.attentionDownsample;
  for (let l = 0; l < MASK_DECODER.transformerDepth; l++) {
    const layer = `${md}.transformer.layers.${l}`;
    attention(`${layer}.self_attn`, d);
    attention(`${layer}.cross_attn_token_to_image`, half);
    attention(`${layer}.cross_attn_image_to_token`, half);
    for (let n = 1; n <= 4; n++) norm(`${layer}.norm${n}`, d);
    linear(`${layer}.mlp.lin1`, MASK_DECODER.mlpDim, d);
    linear(`${layer}.mlp.lin2`, d, MASK_DECODER.mlpDim);
  }
  attention(`${md}.transformer.final_attn_token_to_image`, half);
  norm(`${md}.transformer.norm_final_attn`, d);
  shapes.set(`${md}.iou_token.weight`, [1, d]);
  shapes.set(`${md}.mask_tokens.weight`, [MASK_DECODER.maskTokens, d]);
  shapes.set(`${md}.output_upscaling.0.weight`, [d, d / 4, 2, 2]);
  shapes.set(`${md}.output_upscaling.0.bias`, [d / 4]);
  norm(`${md}.output_upscaling.1`, d / 4);
  shapes.set(`${md}.output_upscaling.3.weight`, [d / 4, d / 8, 2, 2]);
  shapes.set(`${md}.output_upscaling.3.bias`, [d / 8]);
  for (let t = 0; t < MASK_DECODER.maskTokens; t++) {
    const mlp = `${md}.output_hypernetworks_mlps.${t}.layers`;
    linear(`${mlp}.0`, d, d);
    linear(`${mlp}.1`, d, d);
    linear(`${mlp}.2`, d / 8, d);
  }
  linear(`${md}.iou_prediction_head.layers.0`, MASK_DECODER.iouHeadHidden, d);
  linear(
    `${md}.iou_prediction_head.layers.1`,
    MASK_DECODER.iouHeadHidden,
    MASK_DECODER.iouHeadHidden,
  );
  linear(`${md}.iou_prediction_head.layers.2`, MASK_DECODER.maskTokens, MASK_DECODER.iouHeadHidden);
  return shapes;
}
