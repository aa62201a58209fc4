/**
 * Turns prompt sets (frame pixels) into the decoder graph's input tensors (1024-frame pixels).
 * @module
 */
import { LOW_RES_SIDE, type PromptSet } from "../segment/segmenter.ts";
import { toModelCoords } from "./preprocess.ts";

/** Point labels understood by the decoder graph. */
export const POINT_LABEL = {
  padding: -1,
  negative: 0,
  positive: 1,
  boxTopLeft: 2,
  boxBottomRight: 3,
} as const;

/** Input tensors of one decoder call: B prompt sets of N tokens each. */
export interface DecoderBatch {
  readonly batch: number;
  readonly points: number;
  /** `[B, N, 2]` */
  readonly pointCoords: Float32Array;
  /** `[B, N]` */
  readonly pointLabels: Float32Array;
  /** `[B, 1, 256, 256]` */
  readonly maskInput: Float32Array;
  /** `[B]` */
  readonly hasMaskInput: Float32Array;
}

/**
 * Sparse tokens a prompt set produces: its points, plus two box corners, or one padding point
 * when there is no box (as the reference prompt encoder pads points-only prompts).
 */
export function tokenCount(prompt: PromptSet): number {
  return prompt.points.length + (prompt.box ? 2 : 1);
}

/**
 * Builds one decoder batch. All prompt sets must have the same {@link tokenCount}: padding a
 * shorter prompt with extra "not a point" tokens would change its result.
 *
 * @example
 * ```ts
 * const batch = decoderBatch([{ points: [{ x: 320, y: 240, positive: true }] }], 640, 480);
 * ```
 */
export function decoderBatch(
  prompts: readonly PromptSet[],
  frameWidth: number,
  frameHeight: number,
): DecoderBatch {
  if (prompts.length === 0) throw new Error("decoderBatch needs at least one prompt set");
  const points = tokenCount(prompts[0]);
  const batch = prompts.length;
  const plane = LOW_RES_SIDE * LOW_RES_SIDE;
  const pointCoords = new Float32Array(batch * points * 2);
  const pointLabels = new Float32Array(batch * points);
  const maskInput = new Float32Array(batch * plane);
  const hasMaskInput = new Float32Array(batch);
  prompts.forEach((prompt, b) => {
    if (prompt.points.length === 0 && !prompt.box) {
      throw new Error("a prompt set needs a point or a box");
    }
    if (tokenCount(prompt) !== points) {
      throw new Error("prompt sets of one decoder batch must have equal token counts");
    }
    let t = b * points;
    const put = (x: number, y: number, label: number) => {
      const [mx, my] = label === POINT_LABEL.padding
        ? [0, 0]
        : toModelCoords(x, y, frameWidth, frameHeight);
      pointCoords[t * 2] = mx;
      pointCoords[t * 2 + 1] = my;
      pointLabels[t++] = label;
    };
    for (const p of prompt.points) {
      put(p.x, p.y, p.positive ? POINT_LABEL.positive : POINT_LABEL.negative);
    }
    if (prompt.box) {
      const [x0, y0, x1, y1] = prompt.box;
      put(x0, y0, POINT_LABEL.boxTopLeft);
      put(x1, y1, POINT_LABEL.boxBottomRight);
    } else {
      put(0, 0, POINT_LABEL.padding);
    }
    if (prompt.maskInput) {
      if (prompt.maskInput.length !== plane) throw new Error(`maskInput must hold ${plane} logits`);
      maskInput.set(prompt.maskInput, b * plane);
      hasMaskInput[b] = 1;
    }
  });
  return { batch, points, pointCoords, pointLabels, maskInput, hasMaskInput };
}
