/**
 * The two ONNX models built from a TinySAM checkpoint: the image encoder and the batched
 * prompt decoder (contracts in DESIGN.md).
 * @module
 */
import { GraphBuilder } from "../onnx/graph.ts";
import type { StateDict } from "../tensor.ts";
import { EMBEDDING_DIM, EMBEDDING_SIDE, IMAGE_SIZE } from "./architecture.ts";
import { imageEncoder } from "./image_encoder.ts";
import { float32Layers, type LayerEmitter, ModelContext } from "./layers.ts";
import { promptedMaskDecoder } from "./mask_decoder.ts";
import { Weights } from "./weights.ts";

/** ONNX opset the graphs are written against. */
export const OPSET = 17;

const LOW_RES = 4 * EMBEDDING_SIDE;

/** Graph input and output names, shared by the builder and the sessions. */
export const ENCODER_IO = { input: "pixels", output: "image_embeddings" } as const;
export const DECODER_IO = {
  imageEmbeddings: "image_embeddings",
  pointCoords: "point_coords",
  pointLabels: "point_labels",
  maskInput: "mask_input",
  hasMaskInput: "has_mask_input",
  lowResMasks: "low_res_masks",
  iouPredictions: "iou_predictions",
} as const;

/**
 * Builds the image encoder: `pixels [1, 3, 1024, 1024]` -> `image_embeddings [1, 256, 64, 64]`.
 *
 * @example
 * ```ts
 * const onnxBytes = buildEncoderModel(await readCheckpoint("tinysam_42.3.pth"));
 * ```
 */
export function buildEncoderModel(
  dict: StateDict,
  layers: LayerEmitter = float32Layers,
  finish?: (g: GraphBuilder) => void,
): Uint8Array {
  const g = new GraphBuilder("tinysam_image_encoder");
  const ctx = new ModelContext(g, new Weights(dict), layers);
  const pixels = g.input(ENCODER_IO.input, "float32", [1, 3, IMAGE_SIZE, IMAGE_SIZE]);
  const embeddings = imageEncoder(ctx, pixels);
  g.output(embeddings, ENCODER_IO.output, "float32", [
    1,
    EMBEDDING_DIM,
    EMBEDDING_SIDE,
    EMBEDDING_SIDE,
  ]);
  finish?.(g);
  return g.toModel({ opset: OPSET, docString: "TinySAM vit_t image encoder" });
}

/**
 * Builds the batched decoder: B prompt sets of N points against one image embedding ->
 * `low_res_masks [B, 4, 256, 256]`, `iou_predictions [B, 4]`. `layers` decides how weighted
 * layers are emitted (float32 or quantized); `finish` may add outputs before serialization.
 */
export function buildDecoderModel(
  dict: StateDict,
  layers: LayerEmitter = float32Layers,
  finish?: (g: GraphBuilder) => void,
): Uint8Array {
  const g = new GraphBuilder("tinysam_prompt_decoder");
  const ctx = new ModelContext(g, new Weights(dict), layers);
  const io = DECODER_IO;
  const inputs = {
    imageEmbeddings: g.input(io.imageEmbeddings, "float32", [
      1,
      EMBEDDING_DIM,
      EMBEDDING_SIDE,
      EMBEDDING_SIDE,
    ]),
    pointCoords: g.input(io.pointCoords, "float32", ["batch", "points", 2]),
    pointLabels: g.input(io.pointLabels, "float32", ["batch", "points"]),
    maskInput: g.input(io.maskInput, "float32", ["batch", 1, LOW_RES, LOW_RES]),
    hasMaskInput: g.input(io.hasMaskInput, "float32", ["batch"]),
  };
  const { lowResMasks, iouPredictions } = promptedMaskDecoder(ctx, inputs);
  g.output(lowResMasks, io.lowResMasks, "float32", ["batch", 4, LOW_RES, LOW_RES]);
  g.output(iouPredictions, io.iouPredictions, "float32", ["batch", 4]);
  finish?.(g);
  return g.toModel({ opset: OPSET, docString: "TinySAM prompt encoder + mask decoder, batched" });
}
