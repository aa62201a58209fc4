/**
 * Mask value types shared by the model, the tracker, rendering and export.
 * @module
 */
import type { Frame } from "../frame.ts";

/**
 * A binary mask at frame resolution, row-major, one byte per pixel (0 or 1).
 *
 * @example
 * ```ts
 * const mask: BinaryMask = { width: 4, height: 2, data: new Uint8Array(8) };
 * ```
 */
export interface BinaryMask {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

/**
 * COCO run-length encoding: `size` is `[height, width]`, `counts` are run lengths over the
 * mask in column-major order, starting with a run of zeros (possibly empty), as pycocotools writes.
 */
export interface Rle {
  readonly size: readonly [number, number];
  readonly counts: readonly number[];
}

/** Axis-aligned box in frame pixels, COCO order: `[x, y, width, height]`. */
export type BoxXywh = readonly [number, number, number, number];

/** Axis-aligned box in frame pixels as corners: `[x0, y0, x1, y1]`. */
export type BoxXyxy = readonly [number, number, number, number];

/** One object's segmentation in one frame. */
export interface ObjectMask {
  /** Stable object id (>= 1; 0 is background in label maps). */
  readonly id: number;
  readonly mask: BinaryMask;
  /** Confidence in [0, 1] (the model's predicted IoU for the chosen output). */
  readonly score: number;
  /** Tight bounding box of the mask (`[x, y, w, h]`). */
  readonly bbox: BoxXywh;
  readonly label?: string;
}

/** Marker drawn on the overlay for the prompt that produced a mask. */
export interface PromptMarker {
  readonly objectId: number;
  readonly points: readonly { x: number; y: number; positive: boolean }[];
  readonly box?: BoxXyxy;
}

/** Everything the segmentation stages attach to one frame. */
export interface FrameMasks {
  readonly frameIndex: number;
  readonly ptsSeconds: number;
  readonly width: number;
  readonly height: number;
  readonly objects: readonly ObjectMask[];
  readonly markers?: readonly PromptMarker[];
}

/**
 * A frame's masks: the frame's index, time and size, its objects and (when there are any) the
 * prompt markers to draw.
 *
 * @example
 * ```ts
 * const empty = frameMasksOf(frame, []);
 * ```
 */
export function frameMasksOf(
  frame: Pick<Frame, "index" | "ptsSeconds" | "width" | "height">,
  objects: readonly ObjectMask[],
  markers: readonly PromptMarker[] = [],
): FrameMasks {
  return {
    frameIndex: frame.index,
    ptsSeconds: frame.ptsSeconds,
    width: frame.width,
    height: frame.height,
    objects,
    ...(markers.length > 0 ? { markers } : {}),
  };
}

/** The element that flows between the segmentation stages and the outputs: a frame and its masks. */
export interface SegmentedFrame {
  readonly frame: Frame;
  readonly masks: FrameMasks;
}
