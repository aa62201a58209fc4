/**
 * Everything masks as a frame's `FrameMasks`, the form the overlay and the mask exports take.
 * @module
 */
import { type FrameMasks, frameMasksOf, type ObjectMask } from "../mask.ts";
import { decodeRle } from "../rle.ts";
import type { EverythingMask } from "./everything_mask.ts";

/** Which frame the masks belong to. */
export interface FrameRef {
  readonly index: number;
  readonly ptsSeconds: number;
  readonly width: number;
  readonly height: number;
}

/**
 * Numbers the masks `firstId, firstId + 1, ...` in the order given (best first) and lists them
 * largest first, so that where masks overlap (a region and a part of it) the smaller one is
 * drawn on top and wins in label maps. Scores are the predicted IoUs clamped to [0, 1].
 *
 * @example
 * ```ts
 * const { masks } = await hierarchicalEverything(segmenter, embedding);
 * const frameMasks = everythingFrameMasks(frame, masks);
 * await Deno.writeFile("overlay.png", encodeFramePng(renderOverlay(frame, frameMasks)));
 * ```
 */
export function everythingFrameMasks(
  frame: FrameRef,
  masks: readonly EverythingMask[],
  firstId = 1,
): FrameMasks {
  const objects: ObjectMask[] = masks.map((m, rank) => {
    if (m.rle.size[0] !== frame.height || m.rle.size[1] !== frame.width) {
      throw new Error(
        `everything mask ${rank} is ${m.rle.size[1]}x${
          m.rle.size[0]
        }, frame ${frame.index} is ${frame.width}x${frame.height}`,
      );
    }
    return {
      id: firstId + rank,
      mask: decodeRle(m.rle),
      score: Math.min(1, Math.max(0, m.predictedIou)),
      bbox: m.bbox,
    };
  });
  objects.sort((a, b) => masks[b.id - firstId].area - masks[a.id - firstId].area || a.id - b.id);
  return frameMasksOf(frame, objects);
}
