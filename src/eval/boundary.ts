/**
 * Boundary accuracy F of the DAVIS benchmark (`db_eval_boundary`): boundaries from `seg2bmap`,
 * matched within a tolerance of `ceil(0.008 * image diagonal)` pixels by dilating with a disk,
 * then precision, recall and their harmonic mean.
 * @module
 */

/** DAVIS' default boundary tolerance, as a fraction of the image diagonal. */
export const DAVIS_BOUND_THRESHOLD = 0.008;

/**
 * Match tolerance in pixels: `boundThreshold` itself when it is >= 1, else
 * `ceil(boundThreshold * sqrt(width^2 + height^2))`, as DAVIS computes it.
 *
 * @example
 * ```ts
 * boundaryTolerance(854, 480); // 8
 * ```
 */
export function boundaryTolerance(
  width: number,
  height: number,
  boundThreshold: number = DAVIS_BOUND_THRESHOLD,
): number {
  return boundThreshold >= 1
    ? boundThreshold
    : Math.ceil(boundThreshold * Math.hypot(width, height));
}

/**
 * Boundary map of a mask as DAVIS' `_seg2bmap` draws it at the mask's own size: a pixel is on
 * the boundary when it differs from its east, south or south-east neighbour (on the last row
 * only east counts, on the last column only south, and the bottom-right pixel is never set).
 *
 * @example
 * ```ts
 * // 3x3 with the centre set: the boundary is the 2x2 square at the top-left of it plus the centre.
 * seg2bmap(new Uint8Array([0, 0, 0, 0, 1, 0, 0, 0, 0]), 3, 3); // [1, 1, 0, 1, 1, 0, 0, 0, 0]
 * ```
 */
export function seg2bmap(seg: Uint8Array, width: number, height: number): Uint8Array {
  const b = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      const v = seg[i] !== 0;
      const lastRow = y === height - 1, lastCol = x === width - 1;
      if (lastRow && lastCol) continue;
      const e = !lastCol && seg[i + 1] !== 0;
      const s = !lastRow && seg[i + width] !== 0;
      const se = !lastRow && !lastCol && seg[i + width + 1] !== 0;
      let edge: boolean;
      if (lastRow) edge = v !== e;
      else if (lastCol) edge = v !== s;
      else edge = v !== e || v !== s || v !== se;
      b[i] = edge ? 1 : 0;
    }
  }
  return b;
}

/** Precision, recall and F of one boundary comparison. */
export interface BoundaryScore {
  readonly precision: number;
  readonly recall: number;
  readonly f: number;
}

/**
 * Boundary F-measure of a prediction against the ground truth, both same-sized binary masks.
 * Empty boundaries follow DAVIS: both empty gives F = 1, exactly one empty gives F = 0.
 *
 * @example
 * ```ts
 * const { f } = boundaryFMeasure(gtMask, predMask, 480, 270);
 * ```
 */
export function boundaryFMeasure(
  groundTruth: Uint8Array,
  prediction: Uint8Array,
  width: number,
  height: number,
  boundThreshold: number = DAVIS_BOUND_THRESHOLD,
): BoundaryScore {
  const radius = boundaryTolerance(width, height, boundThreshold);
  const predBoundary = seg2bmap(prediction, width, height);
  const gtBoundary = seg2bmap(groundTruth, width, height);
  const predCount = count(predBoundary), gtCount = count(gtBoundary);
  let precision: number, recall: number;
  if (predCount === 0 && gtCount === 0) {
    precision = 1;
    recall = 1;
  } else if (predCount === 0) {
    precision = 1;
    recall = 0;
  } else if (gtCount === 0) {
    precision = 0;
    recall = 1;
  } else {
    const gtDilated = dilateWithDisk(gtBoundary, width, height, radius);
    const predDilated = dilateWithDisk(predBoundary, width, height, radius);
    precision = countBoth(predBoundary, gtDilated) / predCount;
    recall = countBoth(gtBoundary, predDilated) / gtCount;
  }
  const f = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { precision, recall, f };
}

/** Dilation with skimage's `disk(radius)` (offsets with dx^2 + dy^2 <= radius^2), stamped as row spans. */
function dilateWithDisk(
  boundary: Uint8Array,
  width: number,
  height: number,
  radius: number,
): Uint8Array {
  const out = new Uint8Array(boundary.length);
  const halfWidths: number[] = [];
  for (let dy = -radius; dy <= radius; dy++) {
    halfWidths.push(Math.floor(Math.sqrt(radius * radius - dy * dy)));
  }
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (boundary[y * width + x] === 0) continue;
      for (let dy = -radius; dy <= radius; dy++) {
        const ny = y + dy;
        if (ny < 0 || ny >= height) continue;
        const half = halfWidths[dy + radius];
        const x0 = Math.max(0, x - half), x1 = Math.min(width - 1, x + half);
        out.fill(1, ny * width + x0, ny * width + x1 + 1);
      }
    }
  }
  return out;
}

function count(mask: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < mask.length; i++) n += mask[i];
  return n;
}

function countBoth(a: Uint8Array, b: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < a.length; i++) n += a[i] & b[i];
  return n;
}
