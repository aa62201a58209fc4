/**
 * COCO-compatible run-length encoding of binary masks, as pycocotools writes it: runs over the
 * mask in column-major order (down each column, then the next column), alternating zeros and
 * ones and starting with a (possibly empty) run of zeros. Areas, boxes and IoU are computed on
 * the runs without decoding.
 * @module
 */
import type { BinaryMask, BoxXywh, Rle } from "./mask.ts";

/**
 * Encodes a row-major binary mask (any non-zero byte is foreground) as a COCO RLE.
 *
 * @example
 * ```ts
 * // 2 rows x 3 columns, foreground at (x=1, y=0) and (x=1, y=1): column-major 0 0 1 1 0 0
 * const rle = encodeRle({ width: 3, height: 2, data: new Uint8Array([0, 1, 0, 0, 1, 0]) });
 * // rle.counts -> [2, 2, 2], rle.size -> [2, 3]
 * ```
 */
export function encodeRle(mask: BinaryMask): Rle {
  const { width, height, data } = mask;
  checkMaskShape(mask);
  const counts: number[] = [];
  let current = 0;
  let run = 0;
  for (let x = 0; x < width; x++) {
    for (let i = x, y = 0; y < height; y++, i += width) {
      const value = data[i] !== 0 ? 1 : 0;
      if (value !== current) {
        counts.push(run);
        run = 0;
        current = value;
      }
      run++;
    }
  }
  counts.push(run);
  return { size: [height, width], counts };
}

/**
 * Decodes a COCO RLE into a row-major binary mask (bytes 0/1).
 * Throws when the runs do not add up to `height * width`.
 *
 * @example
 * ```ts
 * const mask = decodeRle({ size: [2, 3], counts: [2, 2, 2] });
 * // mask.data -> [0, 1, 0, 0, 1, 0]
 * ```
 */
export function decodeRle(rle: Rle): BinaryMask {
  const [height, width] = rle.size;
  checkRle(rle);
  const data = new Uint8Array(width * height);
  let pos = 0;
  for (let r = 0; r < rle.counts.length; r++) {
    const run = rle.counts[r];
    if ((r & 1) === 1) {
      for (let k = pos; k < pos + run; k++) {
        const x = Math.floor(k / height);
        data[(k - x * height) * width + x] = 1;
      }
    }
    pos += run;
  }
  return { width, height, data };
}

/**
 * Number of foreground pixels of an RLE (sum of the odd runs).
 *
 * @example
 * ```ts
 * rleArea({ size: [2, 3], counts: [2, 2, 2] }); // 2
 * ```
 */
export function rleArea(rle: Rle): number {
  let area = 0;
  for (let r = 1; r < rle.counts.length; r += 2) area += rle.counts[r];
  return area;
}

/**
 * Tight box `[x, y, w, h]` of an RLE's foreground, as pycocotools' `toBbox` computes it
 * (`w = xmax - xmin + 1`); `[0, 0, 0, 0]` for an empty mask.
 *
 * @example
 * ```ts
 * rleToBbox({ size: [2, 3], counts: [2, 2, 2] }); // [1, 0, 1, 2]
 * ```
 */
export function rleToBbox(rle: Rle): BoxXywh {
  const height = rle.size[0];
  let xMin = Infinity, yMin = Infinity, xMax = -1, yMax = -1;
  let pos = 0;
  for (let r = 0; r < rle.counts.length; r++) {
    const run = rle.counts[r];
    if ((r & 1) === 1 && run > 0) {
      const start = pos, end = pos + run - 1;
      const x0 = Math.floor(start / height), x1 = Math.floor(end / height);
      const y0 = start - x0 * height, y1 = end - x1 * height;
      if (x0 < xMin) xMin = x0;
      if (x1 > xMax) xMax = x1;
      if (x1 > x0) {
        // The run wraps over at least one column end, so it covers rows 0 and height - 1.
        yMin = 0;
        yMax = height - 1;
      } else {
        if (y0 < yMin) yMin = y0;
        if (y1 > yMax) yMax = y1;
      }
    }
    pos += run;
  }
  if (xMax < 0) return [0, 0, 0, 0];
  return [xMin, yMin, xMax - xMin + 1, yMax - yMin + 1];
}

/**
 * Foreground pixels shared by two RLEs of the same size, computed by merging the runs.
 *
 * @example
 * ```ts
 * rleIntersectionArea({ size: [1, 4], counts: [0, 2, 2] }, { size: [1, 4], counts: [1, 3] }); // 1
 * ```
 */
export function rleIntersectionArea(a: Rle, b: Rle): number {
  checkSameSize(a, b);
  let ia = 0, ib = 0;
  let leftA = a.counts.length > 0 ? a.counts[0] : 0;
  let leftB = b.counts.length > 0 ? b.counts[0] : 0;
  let onA = false, onB = false;
  let inter = 0;
  while (ia < a.counts.length && ib < b.counts.length) {
    // Skip exhausted (including empty) runs, toggling the value each time.
    if (leftA === 0) {
      ia++;
      if (ia < a.counts.length) leftA = a.counts[ia];
      onA = !onA;
      continue;
    }
    if (leftB === 0) {
      ib++;
      if (ib < b.counts.length) leftB = b.counts[ib];
      onB = !onB;
      continue;
    }
    const step = leftA < leftB ? leftA : leftB;
    if (onA && onB) inter += step;
    leftA -= step;
    leftB -= step;
  }
  return inter;
}

/**
 * Intersection over union of two RLEs of the same size, without decoding them.
 * Two empty masks have IoU 0 (as pycocotools' `iou` returns).
 *
 * @example
 * ```ts
 * rleIou({ size: [1, 4], counts: [0, 2, 2] }, { size: [1, 4], counts: [1, 3] }); // 1 / 4
 * ```
 */
export function rleIou(a: Rle, b: Rle): number {
  const inter = rleIntersectionArea(a, b);
  const union = rleArea(a) + rleArea(b) - inter;
  return union > 0 ? inter / union : 0;
}

/**
 * Writes RLE counts in the compressed string form pycocotools stores in COCO JSON
 * (`rleToString`: deltas against the run two back from the third run on, 5-bit groups with a
 * continuation bit, offset by 48).
 *
 * @example
 * ```ts
 * rleCountsToString([2, 2, 2]); // "222"
 * ```
 */
export function rleCountsToString(counts: readonly number[]): string {
  let out = "";
  for (let i = 0; i < counts.length; i++) {
    let x = counts[i];
    if (i > 2) x -= counts[i - 2];
    let more = true;
    while (more) {
      let c = x & 0x1f;
      x = Math.floor(x / 32);
      more = (c & 0x10) !== 0 ? x !== -1 : x !== 0;
      if (more) c |= 0x20;
      out += String.fromCharCode(c + 48);
    }
  }
  return out;
}

/**
 * Reads the compressed string form of RLE counts (pycocotools' `rleFrString`).
 * Throws on characters outside the alphabet or a truncated final group.
 *
 * @example
 * ```ts
 * rleCountsFromString("222"); // [2, 2, 2]
 * ```
 */
export function rleCountsFromString(text: string): number[] {
  const counts: number[] = [];
  let p = 0;
  while (p < text.length) {
    let x = 0;
    let k = 0;
    let more = true;
    while (more) {
      if (p >= text.length) throw new Error("RLE string ends inside a run");
      const c = text.charCodeAt(p) - 48;
      if (c < 0 || c > 63) throw new Error(`RLE string has an invalid character at ${p}`);
      x += (c & 0x1f) * 2 ** (5 * k);
      more = (c & 0x20) !== 0;
      p++;
      k++;
      if (!more && (c & 0x10) !== 0) x -= 2 ** (5 * k);
    }
    if (counts.length > 2) x += counts[counts.length - 2];
    counts.push(x);
  }
  return counts;
}

/**
 * Builds an `Rle` from COCO JSON, whose `counts` is either a number array or the compressed
 * string; validates that the runs cover the mask exactly.
 *
 * @example
 * ```ts
 * rleFromJson({ size: [2, 3], counts: "222" }); // { size: [2, 3], counts: [2, 2, 2] }
 * ```
 */
export function rleFromJson(
  json: { size: readonly number[]; counts: readonly number[] | string },
): Rle {
  if (json.size.length !== 2) throw new Error("RLE size must be [height, width]");
  const counts = typeof json.counts === "string"
    ? rleCountsFromString(json.counts)
    : [...json.counts];
  const rle: Rle = { size: [json.size[0], json.size[1]], counts };
  checkRle(rle);
  return rle;
}

function checkMaskShape(mask: BinaryMask): void {
  if (mask.data.length !== mask.width * mask.height) {
    throw new Error(
      `mask data has ${mask.data.length} bytes, expected ${mask.width}x${mask.height}`,
    );
  }
}

function checkRle(rle: Rle): void {
  const [height, width] = rle.size;
  if (!Number.isInteger(height) || !Number.isInteger(width) || height < 0 || width < 0) {
    throw new Error(`RLE size [${height}, ${width}] is not a pair of non-negative integers`);
  }
  let total = 0;
  for (const run of rle.counts) {
    if (!Number.isInteger(run) || run < 0) throw new Error(`RLE run ${run} is not a count`);
    total += run;
  }
  if (total !== width * height) {
    throw new Error(`RLE runs cover ${total} pixels, expected ${height}x${width}`);
  }
}

function checkSameSize(a: Rle, b: Rle): void {
  if (a.size[0] !== b.size[0] || a.size[1] !== b.size[1]) {
    throw new Error(`RLE sizes differ: [${a.size}] vs [${b.size}]`);
  }
}
