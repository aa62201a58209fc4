/**
 * The contract between the segmentation logic (tracker, everything passes) and a model.
 * The ONNX TinySAM implementation is the real one; tests also use a classical double.
 * @module
 */
import type { Frame } from "../frame.ts";
import type { BinaryMask, BoxXyxy } from "./mask.ts";
import type { PixelWindow } from "./geometry/pixel_window.ts";

/** Side of the square low-resolution logit grid the decoder returns (covers the padded 1024 frame). */
export const LOW_RES_SIDE = 256;
/** Number of decoder outputs per prompt set: 0 is the single-mask output, 1..3 the multimask outputs. */
export const DECODER_OUTPUTS = 4;

/** A point prompt in frame pixels; `positive` false marks background. */
export interface PointPrompt {
  readonly x: number;
  readonly y: number;
  readonly positive: boolean;
}

/** One object's prompt for one decoder call, in frame pixels. */
export interface PromptSet {
  readonly points: readonly PointPrompt[];
  readonly box?: BoxXyxy;
  /** Previous low-res logits (`LOW_RES_SIDE`^2, one output) fed back as `mask_input`. */
  readonly maskInput?: Float32Array;
}

/** A frame's image embedding plus what is needed to map between frame and model coordinates. */
export interface FrameEmbedding {
  readonly frameWidth: number;
  readonly frameHeight: number;
}

/** The decoder's answer for one prompt set. */
export interface DecodedPrompt {
  /** `[DECODER_OUTPUTS, LOW_RES_SIDE, LOW_RES_SIDE]` logits over the padded 1024 frame. */
  readonly lowResLogits: Float32Array;
  /** Predicted IoU per output, `[DECODER_OUTPUTS]`. */
  readonly iouPredictions: Float32Array;
}

/**
 * A promptable segmentation model.
 *
 * @example
 * ```ts
 * const embedding = await segmenter.embed(frame);
 * const [decoded] = await segmenter.decode(embedding, [{ points: [{ x: 320, y: 240, positive: true }] }]);
 * const logits = segmenter.upscaleLogits(embedding, outputLogits(decoded, 0));
 * ```
 */
export interface Segmenter {
  /** Runs the image encoder on one frame. */
  embed(frame: Frame): Promise<FrameEmbedding>;
  /** Decodes all prompt sets against one embedding in a single batched call. */
  decode(embedding: FrameEmbedding, prompts: readonly PromptSet[]): Promise<DecodedPrompt[]>;
  /**
   * Upscales one output's low-res logits to frame-sized logits (mask = logit > 0). With a
   * `window`, only the pixels inside it need be right (others may be `-Infinity`): enough for a
   * caller that looks only inside a window covering the output's positive low-res cells.
   */
  upscaleLogits(
    embedding: FrameEmbedding,
    lowResLogits: Float32Array,
    window?: PixelWindow,
  ): Float32Array;
  /**
   * What the model sees under a region: a unit-length descriptor of the region whose low-res
   * logits (`LOW_RES_SIDE`^2, one output) are positive, e.g. the image embedding averaged over
   * it. Two regions showing the same object have descriptors with a high dot product. Optional:
   * a segmenter without an embedding worth describing omits it, and the tracker's appearance
   * memory then keeps colours only. Returns an empty array for an empty region. `within` (cells of
   * the low-res grid) may say where all the positive logits are, so that only they are read.
   */
  describe?(
    embedding: FrameEmbedding,
    lowResLogits: Float32Array,
    within?: PixelWindow,
  ): Float32Array;
  /** Releases sessions and buffers. */
  dispose(): Promise<void>;
  /**
   * The same model at a lower priority, where there is one: work that takes long and can wait (a
   * live run's discovery passes) goes there, so that it never holds up tracking. Owned by this
   * segmenter (released with it).
   */
  readonly background?: Segmenter;
}

/** The `LOW_RES_SIDE`^2 logits of one output of a decoded prompt (a view, not a copy). */
export function outputLogits(decoded: DecodedPrompt, output: number): Float32Array {
  const n = LOW_RES_SIDE * LOW_RES_SIDE;
  return decoded.lowResLogits.subarray(output * n, (output + 1) * n);
}

/** Thresholds frame-sized logits into a binary mask. */
export function maskFromLogits(
  logits: Float32Array,
  width: number,
  height: number,
  threshold = 0,
): BinaryMask {
  const data = new Uint8Array(width * height);
  for (let i = 0; i < data.length; i++) data[i] = logits[i] > threshold ? 1 : 0;
  return { width, height, data };
}
