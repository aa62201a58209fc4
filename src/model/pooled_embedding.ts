/**
 * TinySAM's region descriptor: the image embedding averaged under a mask. The embedding is a
 * `[256, 64, 64]` grid over the padded 1024 x 1024 model input, and the decoder's low-res logits a
 * `256 x 256` grid over the same input, so each embedding cell covers a 4 x 4 block of logits;
 * a cell counts with the share of its block that is positive.
 * @module
 */
import type { PixelWindow } from "../segment/geometry/pixel_window.ts";
import { LOW_RES_SIDE } from "../segment/segmenter.ts";
import { EMBEDDING_DIM, EMBEDDING_SIDE } from "./tinysam/architecture.ts";

/** Logit cells per embedding cell, per axis. */
const BLOCK = LOW_RES_SIDE / EMBEDDING_SIDE;

/**
 * The unit-length mean of the embedding's 256-channel vectors under the region where
 * `lowResLogits > 0`, each cell weighted by the share of its block inside the region. An empty
 * region gives an empty array. `within` (low-res cells) may say where all the positive logits
 * are: only the embedding cells over it are read.
 *
 * @example
 * ```ts
 * const descriptor = pooledEmbedding(embedding.imageEmbeddings, track.lowResLogits);
 * ```
 */
export function pooledEmbedding(
  imageEmbeddings: Float32Array,
  lowResLogits: Float32Array,
  within?: PixelWindow,
): Float32Array {
  const plane = EMBEDDING_SIDE * EMBEDDING_SIDE;
  const weights: { cell: number; weight: number }[] = [];
  const [cx0, cy0] = within
    ? [Math.floor(within.x0 / BLOCK), Math.floor(within.y0 / BLOCK)]
    : [0, 0];
  const [cx1, cy1] = within
    ? [Math.ceil(within.x1 / BLOCK), Math.ceil(within.y1 / BLOCK)]
    : [EMBEDDING_SIDE, EMBEDDING_SIDE];
  for (let cy = cy0; cy < cy1; cy++) {
    for (let cx = cx0; cx < cx1; cx++) {
      let inside = 0;
      for (let dy = 0; dy < BLOCK; dy++) {
        const row = (cy * BLOCK + dy) * LOW_RES_SIDE + cx * BLOCK;
        for (let dx = 0; dx < BLOCK; dx++) if (lowResLogits[row + dx] > 0) inside++;
      }
      if (inside > 0) weights.push({ cell: cy * EMBEDDING_SIDE + cx, weight: inside });
    }
  }
  if (weights.length === 0) return new Float32Array(0);
  const sum = new Float64Array(EMBEDDING_DIM);
  for (let c = 0; c < EMBEDDING_DIM; c++) {
    const channel = c * plane;
    let acc = 0;
    for (const { cell, weight } of weights) acc += weight * imageEmbeddings[channel + cell];
    sum[c] = acc;
  }
  let norm = 0;
  for (const v of sum) norm += v * v;
  norm = Math.sqrt(norm) || 1;
  return Float32Array.from(sum, (v) => v / norm);
}
