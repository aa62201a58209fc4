/**
 * Boxes of masks and greedy box non-maximum suppression.
 *
 * Box conventions: `BoxXywh` is COCO's `[x, y, w, h]` with `w = xmax - xmin + 1` (pixels
 * counted inclusively, as pycocotools' `toBbox`); the matching `BoxXyxy` is the continuous
 * extent `[xmin, ymin, xmax + 1, ymax + 1]`, so that `x1 - x0 = w`.
 * @module
 */
import type { BinaryMask, BoxXywh, BoxXyxy } from "../mask.ts";

/**
 * Tight `[x, y, w, h]` box of a mask's foreground; `[0, 0, 0, 0]` when the mask is empty.
 *
 * @example
 * ```ts
 * maskToBbox({ width: 3, height: 2, data: new Uint8Array([0, 1, 0, 0, 1, 1]) }); // [1, 0, 2, 2]
 * ```
 */
export function maskToBbox(mask: BinaryMask): BoxXywh {
  const { width, height, data } = mask;
  let xMin = width, yMin = height, xMax = -1, yMax = -1;
  for (let y = 0, i = 0; y < height; y++) {
    let rowMin = -1, rowMax = -1;
    for (let x = 0; x < width; x++, i++) {
      if (data[i] !== 0) {
        if (rowMin < 0) rowMin = x;
        rowMax = x;
      }
    }
    if (rowMin >= 0) {
      if (y < yMin) yMin = y;
      yMax = y;
      if (rowMin < xMin) xMin = rowMin;
      if (rowMax > xMax) xMax = rowMax;
    }
  }
  if (xMax < 0) return [0, 0, 0, 0];
  return [xMin, yMin, xMax - xMin + 1, yMax - yMin + 1];
}

/**
 * Number of foreground pixels of a mask.
 *
 * @example
 * ```ts
 * maskArea({ width: 2, height: 1, data: new Uint8Array([1, 0]) }); // 1
 * ```
 */
export function maskArea(mask: BinaryMask): number {
  let area = 0;
  for (let i = 0; i < mask.data.length; i++) if (mask.data[i] !== 0) area++;
  return area;
}

/**
 * Converts `[x, y, w, h]` to the continuous corners `[x, y, x + w, y + h]`.
 *
 * @example
 * ```ts
 * xywhToXyxy([1, 0, 2, 2]); // [1, 0, 3, 2]
 * ```
 */
export function xywhToXyxy(box: BoxXywh): BoxXyxy {
  return [box[0], box[1], box[0] + box[2], box[1] + box[3]];
}

/**
 * Converts corners `[x0, y0, x1, y1]` to `[x0, y0, x1 - x0, y1 - y0]`.
 *
 * @example
 * ```ts
 * xyxyToXywh([1, 0, 3, 2]); // [1, 0, 2, 2]
 * ```
 */
export function xyxyToXywh(box: BoxXyxy): BoxXywh {
  return [box[0], box[1], box[2] - box[0], box[3] - box[1]];
}

/**
 * Area of a corner box (`(x1 - x0) * (y1 - y0)`, 0 when degenerate).
 *
 * @example
 * ```ts
 * boxArea([0, 0, 2, 3]); // 6
 * ```
 */
export function boxArea(box: BoxXyxy): number {
  const w = box[2] - box[0], h = box[3] - box[1];
  return w > 0 && h > 0 ? w * h : 0;
}

/**
 * Intersection over union of two corner boxes, computed as torchvision's `box_iou` does
 * (continuous areas, no +1). Two empty boxes have IoU 0.
 *
 * @example
 * ```ts
 * boxIou([0, 0, 2, 2], [1, 0, 3, 2]); // 2 / 6
 * ```
 */
export function boxIou(a: BoxXyxy, b: BoxXyxy): number {
  const iw = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
  const ih = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
  const inter = iw > 0 && ih > 0 ? iw * ih : 0;
  const union = boxArea(a) + boxArea(b) - inter;
  return union > 0 ? inter / union : 0;
}

/**
 * Greedy non-maximum suppression: visits boxes by descending score and keeps a box unless it
 * overlaps an already kept box with IoU strictly above `iouThreshold` (torchvision's `nms`).
 * Equal scores keep their input order. Returns the kept indices, highest score first.
 *
 * @example
 * ```ts
 * const kept = nmsBoxes([[0, 0, 10, 10], [1, 1, 10, 10], [20, 20, 30, 30]], [0.9, 0.8, 0.7], 0.7);
 * // kept -> [0, 2]  (box 1 overlaps box 0 with IoU 0.81)
 * ```
 */
export function nmsBoxes(
  boxes: readonly BoxXyxy[],
  scores: readonly number[],
  iouThreshold: number,
): number[] {
  if (boxes.length !== scores.length) {
    throw new Error(`nmsBoxes got ${boxes.length} boxes but ${scores.length} scores`);
  }
  const order = boxes.map((_, i) => i).sort((i, j) => scores[j] - scores[i] || i - j);
  const kept: number[] = [];
  for (const i of order) {
    let suppressed = false;
    for (const k of kept) {
      if (boxIou(boxes[i], boxes[k]) > iouThreshold) {
        suppressed = true;
        break;
      }
    }
    if (!suppressed) kept.push(i);
  }
  return kept;
}
