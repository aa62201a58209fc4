/**
 * How one object moved between two frames, measured on the pixels of its mask: a coarse block
 * search at the top of the pyramid (large motions), then Gauss-Newton (Lucas-Kanade) refinement of
 * a similarity (translation, scale, rotation) at each finer level (sub-pixel precision). Only the
 * mask's own pixels are used (at the motion images' resolution its edge pixels mix object and
 * background, which locates a textureless object by its outline); pixels around it would show
 * the background and drag the estimate towards the background's motion. Scale and rotation are
 * measured on the inner pixels only. Residuals are weighted robustly (Huber, then Tukey), so
 * pixels taken over by an occluder count less, then not at all.
 * @module
 */
import type { BinaryMask } from "../mask.ts";
import type { PixelWindow } from "../geometry/pixel_window.ts";
import { sampleGray } from "./gray_image.ts";
import type { ImagePyramid, PyramidLevel } from "./image_pyramid.ts";
import {
  applyMotion,
  frameMotion,
  gridMotion,
  NO_MOTION,
  type Similarity,
  translation,
} from "./similarity.ts";

/** Options of {@link estimateObjectMotion}; every value has a default. */
export interface ObjectMotionOptions {
  /** Block search radius at the coarsest level used, in that level's pixels (default 3). */
  readonly searchRadius?: number;
  /**
   * Block search radius in frame pixels, when that is wider than `searchRadius` (for motion over
   * many frames with no guess to start from; default 0). Cut to about two million point
   * comparisons.
   */
  readonly searchReachPx?: number;
  /**
   * Estimate a scale and a rotation as well as a translation (default true; only for objects at
   * least 12 level pixels across).
   */
  readonly estimateSimilarity?: boolean;
  /** Largest scale change accepted between two frames (default 0.15). */
  readonly maxScaleStep?: number;
  /** Gauss-Newton iterations per level at most (default 8). */
  readonly iterations?: number;
  /** Luma error (0..255) under which a point counts as matched (default 14). */
  readonly inlierThreshold?: number;
  /** Huber threshold of the robust weights, in luma units (default 10). */
  readonly huber?: number;
  /** Luma error beyond which a pixel is ignored in the final iterations (Tukey; default 30). */
  readonly outlierThreshold?: number;
  /** Most points per level (sampled evenly beyond; default 1500). */
  readonly maxPoints?: number;
  /** The mask's area in pixels, when known (sizes the sampling of large objects). */
  readonly area?: number;
}

/** The measured motion of an object and how well it explains the pixels. */
export interface ObjectMotionEstimate {
  /** Frame-pixel motion from the previous frame to the next. */
  readonly motion: Similarity;
  /** Mean absolute luma error (0..255) of the object's pixels after alignment. */
  readonly residual: number;
  /** Share of the object's pixels matched within the inlier threshold after alignment. */
  readonly inlierShare: number;
  /**
   * Smallest eigenvalue of the translation's normal matrix per point (mean squared gradient
   * along the weakest direction): near 0 the position is unconstrained (no texture, no edge).
   */
  readonly conditioning: number;
  /** Object pixels the estimate used at the finest level (0: nothing measured, no motion). */
  readonly points: number;
}

/** The object's pixels on one pyramid level. */
interface LevelPoints {
  readonly u: Float32Array;
  readonly v: Float32Array;
  readonly template: Float32Array;
  /** 1 for pixels well inside the mask (fully covered, every neighbour covered), 0 at its edge. */
  readonly inner: Uint8Array;
  readonly count: number;
  readonly cx: number;
  readonly cy: number;
  /** Smaller side of the object's extent on this level, in level pixels. */
  readonly extent: number;
  /** Mean squared distance of the points from their centroid. */
  readonly spread: number;
}

/** Fewest points (and level pixels across) for a level to be used. */
const MIN_POINTS = 12;
const MIN_EXTENT = 5;
/** Fewest object pixels on the finest level for a measurement. */
const MIN_OBJECT_POINTS = 4;
/** An object whose expected position leaves less than this share of it inside is not measured. */
const MIN_INSIDE_SHARE = 0.25;
/** Smallest object (level pixels across) whose scale and rotation are estimated. */
const MIN_SIMILARITY_EXTENT = 12;

/** The mask's pixels on a level of the previous frame's pyramid. */
function levelPoints(
  mask: BinaryMask,
  bounds: PixelWindow,
  level: PyramidLevel,
  maxPoints: number,
  excluded: ((x: number, y: number) => boolean) | undefined,
  area: number | undefined,
): LevelPoints {
  const k = level.scale, { width, height } = level.image;
  const u0 = Math.max(0, Math.floor(bounds.x0 / k) - 1);
  const v0 = Math.max(0, Math.floor(bounds.y0 / k) - 1);
  const u1 = Math.min(width, Math.ceil(bounds.x1 / k) + 1);
  const v1 = Math.min(height, Math.ceil(bounds.y1 / k) + 1);
  const gw = Math.max(0, u1 - u0), gh = Math.max(0, v1 - v0);
  // Large objects are sampled on a regular sub-grid of cells (from the mask's area, known or
  // estimated from its bounds), so the work stays bounded whatever their size.
  const cells = (area ?? (bounds.x1 - bounds.x0) * (bounds.y1 - bounds.y0)) / (k * k);
  const stride = Math.max(1, Math.floor(Math.sqrt(cells / maxPoints)));
  // 1: some of the cell is in the mask; 2: all of its samples are (2x2 samples per cell).
  const occupied = new Uint8Array(gw * gh);
  const a = k >= 2 ? Math.floor(k / 4) : 0, b = k >= 2 ? Math.floor((3 * k) / 4) : 0;
  const samples = k >= 2 ? 4 : 1;
  const mw = mask.width, mh = mask.height, data = mask.data;
  let minU = Infinity, maxU = -1, minV = Infinity, maxV = -1;
  for (let v = v0; v < v1; v += stride) {
    const ya = v * k + a, yb = v * k + b;
    const rowA = ya < mh ? ya * mw : -1, rowB = yb < mh ? yb * mw : -1;
    for (let u = u0; u < u1; u += stride) {
      const xa = u * k + a, xb = u * k + b;
      let hits = 0;
      if (rowA >= 0) {
        if (xa < mw && data[rowA + xa] !== 0) hits++;
        if (samples === 4 && xb < mw && data[rowA + xb] !== 0) hits++;
      }
      if (samples === 4 && rowB >= 0) {
        if (xa < mw && data[rowB + xa] !== 0) hits++;
        if (xb < mw && data[rowB + xb] !== 0) hits++;
      }
      if (hits === 0) continue;
      occupied[(v - v0) * gw + (u - u0)] = hits === samples ? 2 : 1;
      if (u < minU) minU = u;
      if (u > maxU) maxU = u;
      if (v < minV) minV = v;
      if (v > maxV) maxV = v;
    }
  }
  const capacity = Math.ceil(gw / stride) * Math.ceil(gh / stride);
  const us = new Int32Array(capacity), vs = new Int32Array(capacity);
  const inners = new Uint8Array(capacity);
  let n = 0;
  for (let gy = 0; gy < gh; gy += stride) {
    for (let gx = 0; gx < gw; gx += stride) {
      const i = gy * gw + gx;
      if (occupied[i] === 0) continue;
      const r = stride, row = r * gw;
      const inner = occupied[i] === 2 && gx >= r && gy >= r && gx < gw - r && gy < gh - r &&
        occupied[i - row - r] === 2 && occupied[i - row] === 2 && occupied[i - row + r] === 2 &&
        occupied[i - r] === 2 && occupied[i + r] === 2 &&
        occupied[i + row - r] === 2 && occupied[i + row] === 2 && occupied[i + row + r] === 2;
      if (excluded?.(Math.floor((u0 + gx + 0.5) * k), Math.floor((v0 + gy + 0.5) * k))) continue;
      us[n] = u0 + gx;
      vs[n] = v0 + gy;
      inners[n] = inner ? 1 : 0;
      n++;
    }
  }
  const step = Math.max(1, Math.ceil(n / maxPoints));
  const total = Math.ceil(n / step);
  const u = new Float32Array(total), v = new Float32Array(total);
  const template = new Float32Array(total), inner = new Uint8Array(total);
  let sx = 0, sy = 0;
  const image = level.image.data;
  for (let i = 0, j = 0; j < total; i += step, j++) {
    u[j] = us[i];
    v[j] = vs[i];
    inner[j] = inners[i];
    template[j] = image[vs[i] * width + us[i]];
    sx += u[j];
    sy += v[j];
  }
  const extent = maxU < 0 ? 0 : Math.min(maxU - minU + 1, maxV - minV + 1);
  const cx = total > 0 ? sx / total : 0, cy = total > 0 ? sy / total : 0;
  let spread = 0;
  for (let j = 0; j < total; j++) spread += (u[j] - cx) ** 2 + (v[j] - cy) ** 2;
  return {
    u,
    v,
    template,
    inner,
    count: total,
    cx,
    cy,
    extent,
    spread: total > 0 ? spread / total : 0,
  };
}

/** Integer block search around the guess on one level; returns the best level translation. */
function blockSearch(
  points: LevelPoints,
  next: PyramidLevel,
  tu: number,
  tv: number,
  radius: number,
): { tu: number; tv: number } {
  const { width, height, data } = next.image;
  const bu = Math.round(tu), bv = Math.round(tv);
  let best = Infinity, bestU = tu, bestV = tv;
  for (let dv = -radius; dv <= radius; dv++) {
    for (let du = -radius; du <= radius; du++) {
      const ou = bu + du, ov = bv + dv;
      let sad = 0, total = 0;
      for (let i = 0; i < points.count; i++) {
        const x = points.u[i] + ou, y = points.v[i] + ov;
        if (x < 0 || y < 0 || x >= width || y >= height) continue;
        sad += Math.abs(data[y * width + x] - points.template[i]);
        total++;
      }
      // Offsets that push most of the object outside the image are not comparable.
      if (total < 0.25 * points.count) continue;
      const cost = sad / total + 1e-3 * (du * du + dv * dv);
      if (cost < best) {
        best = cost;
        bestU = ou;
        bestV = ov;
      }
    }
  }
  return { tu: bestU, tv: bestV };
}

/** How a refinement weighs residuals. */
type Robust = "huber" | "tukey";

/**
 * Gauss-Newton on one level. The motion is parameterised about the points' centroid `c` as
 * `u' = c + [p -q; q p](u - c) + d`; `params` says how many of `(d_u, d_v, p, q)` are free (2:
 * translation, 4: similarity).
 */
function refine(
  points: LevelPoints,
  next: PyramidLevel,
  start: Similarity,
  params: 2 | 4,
  iterations: number,
  maxScaleStep: number,
  robust: Robust,
  threshold: number,
): Similarity {
  const { cx, cy } = points;
  let p = params === 4 ? start.a : 1, q = params === 4 ? start.b : 0;
  // u' = A u + t  =>  d = A c + t - c
  let du = start.a * cx - start.b * cy + start.tx - cx;
  let dv = start.b * cx + start.a * cy + start.ty - cy;
  if (params === 2) {
    // Keep the centroid's displacement when scale and rotation are dropped.
    p = 1;
    q = 0;
  }
  const normal = new Float64Array(16), rhs = new Float64Array(4), jac = new Float64Array(4);
  const { width, height } = next.image;
  for (let iteration = 0; iteration < iterations; iteration++) {
    normal.fill(0);
    rhs.fill(0);
    let used = 0;
    for (let i = 0; i < points.count; i++) {
      const ru = points.u[i] - cx, rv = points.v[i] - cy;
      const x = cx + p * ru - q * rv + du, y = cy + q * ru + p * rv + dv;
      if (x < 0 || y < 0 || x > width - 1 || y > height - 1) continue;
      const e = sampleGray(next.image, x, y) - points.template[i];
      const ae = Math.abs(e);
      let w: number;
      if (robust === "huber") w = ae <= threshold ? 1 : threshold / ae;
      else if (ae >= threshold) continue;
      else w = (1 - (ae / threshold) ** 2) ** 2;
      const gx = sampleGray(next.gradX, x, y), gy = sampleGray(next.gradY, x, y);
      jac[0] = gx;
      jac[1] = gy;
      // Only the object's inner pixels speak for its scale and rotation: at its edge, shrinking
      // the object trades background (which changes from frame to frame) for object pixels, so
      // edges alone would make every object seem to shrink.
      const own = points.inner[i] === 1;
      jac[2] = own ? gx * ru + gy * rv : 0;
      jac[3] = own ? gy * ru - gx * rv : 0;
      for (let r = 0; r < params; r++) {
        rhs[r] += w * jac[r] * e;
        for (let c = r; c < params; c++) normal[r * 4 + c] += w * jac[r] * jac[c];
      }
      used++;
    }
    if (used < MIN_POINTS) break;
    for (let r = 0; r < params; r++) {
      for (let c = 0; c < r; c++) normal[r * 4 + c] = normal[c * 4 + r];
    }
    // Levenberg damping keeps a nearly flat direction from taking a wild step.
    const damping = 1e-3 * (normal[0] + normal[5]) + 1e-6;
    for (let r = 0; r < params; r++) normal[r * 5] += damping;
    if (params === 4) {
      // A weak prior towards no scale change and no rotation (a twentieth of what moving the
      // object's pixels by that much costs on average): a shape that cannot show them (a plain
      // disc's rotation) keeps neither, any real evidence overrides it.
      const prior = 0.05 * (normal[0] + normal[5]) / 2 * points.spread;
      normal[10] += prior;
      normal[15] += prior;
      rhs[2] += prior * (p - 1);
      rhs[3] += prior * q;
    }
    const step = solve(normal, rhs, params);
    if (!step) break;
    du -= step[0];
    dv -= step[1];
    if (params === 4) {
      p -= Math.max(-0.05, Math.min(0.05, step[2]));
      q -= Math.max(-0.05, Math.min(0.05, step[3]));
      const scale = Math.hypot(p, q);
      const clamped = Math.max(1 - maxScaleStep, Math.min(1 + maxScaleStep, scale));
      p *= clamped / scale;
      q *= clamped / scale;
    }
    const small = Math.abs(step[0]) < 0.005 && Math.abs(step[1]) < 0.005 &&
      (params === 2 || (Math.abs(step[2]) < 1e-4 && Math.abs(step[3]) < 1e-4));
    if (small) break;
  }
  // Back to u' = A u + t.
  return { a: p, b: q, tx: cx - p * cx + q * cy + du, ty: cy - q * cx - p * cy + dv };
}

/** Solves the symmetric `n x n` system (row stride 4) by Gaussian elimination. */
function solve(matrix: Float64Array, rhs: Float64Array, n: number): number[] | undefined {
  const m = Array.from({ length: n }, (_, r) => [
    ...Array.from({ length: n }, (_, c) => matrix[r * 4 + c]),
    rhs[r],
  ]);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(m[r][col]) > Math.abs(m[pivot][col])) pivot = r;
    if (!(Math.abs(m[pivot][col]) > 1e-12)) return undefined;
    [m[col], m[pivot]] = [m[pivot], m[col]];
    for (let r = col + 1; r < n; r++) {
      const f = m[r][col] / m[col][col];
      for (let c = col; c <= n; c++) m[r][c] -= f * m[col][c];
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let v = m[r][n];
    for (let c = r + 1; c < n; c++) v -= m[r][c] * x[c];
    x[r] = v / m[r][r];
  }
  return x;
}

/** Most point comparisons a block search may make (a wide reach is cut to it). */
const MAX_SEARCH_WORK = 2_000_000;

/** The block search radius in top-level pixels: the options' radius or reach, within the budget. */
function searchRadiusFor(points: number, topCell: number, options: ObjectMotionOptions): number {
  const radius = options.searchRadius ?? 3;
  const wanted = Math.ceil((options.searchReachPx ?? 0) / topCell);
  if (wanted <= radius) return radius;
  const affordable = Math.floor((Math.sqrt(MAX_SEARCH_WORK / Math.max(1, points)) - 1) / 2);
  return Math.max(radius, Math.min(wanted, affordable));
}

/**
 * Residual statistics of the object's pixels under a level motion, over the pixels it keeps
 * inside the image (`insideShare` of them).
 */
function fit(
  points: LevelPoints,
  next: PyramidLevel,
  m: Similarity,
  inlierThreshold: number,
): { residual: number; inlierShare: number; conditioning: number; insideShare: number } {
  let sum = 0, inliers = 0, counted = 0, gxx = 0, gxy = 0, gyy = 0;
  const { width, height } = next.image;
  for (let i = 0; i < points.count; i++) {
    const { x, y } = applyMotion(m, points.u[i], points.v[i]);
    if (x < 0 || y < 0 || x > width - 1 || y > height - 1) continue;
    const gx = sampleGray(next.gradX, x, y), gy = sampleGray(next.gradY, x, y);
    gxx += gx * gx;
    gxy += gx * gy;
    gyy += gy * gy;
    const e = Math.abs(sampleGray(next.image, x, y) - points.template[i]);
    sum += e;
    if (e <= inlierThreshold) inliers++;
    counted++;
  }
  const total = Math.max(1, points.count);
  const trace = (gxx + gyy) / total, det = (gxx * gyy - gxy * gxy) / (total * total);
  const conditioning = trace / 2 - Math.sqrt(Math.max(0, (trace * trace) / 4 - det));
  return {
    residual: counted > 0 ? sum / counted : Infinity,
    inlierShare: counted > 0 ? inliers / counted : 0,
    conditioning,
    insideShare: counted / total,
  };
}

/**
 * The motion of the object under `mask` (its tight `bounds`) from the frame of `previous` to the
 * frame of `next`. `guess` is the expected frame-pixel motion (for example the last one); the
 * block search looks around it. Pixels for which `excluded(x, y)` holds (frame coordinates; for
 * example where another object borders this one, whose edge moves with that object) are not
 * used. An object too small to measure gets `guess` with `points` 0.
 *
 * @example
 * ```ts
 * const estimate = estimateObjectMotion(buildPyramid(frameA), buildPyramid(frameB), mask, bounds);
 * const moved = warpMask(mask, bounds, estimate.motion);
 * ```
 */
export function estimateObjectMotion(
  previous: ImagePyramid,
  next: ImagePyramid,
  mask: BinaryMask,
  bounds: PixelWindow,
  guess: Similarity = NO_MOTION,
  options: ObjectMotionOptions = {},
  excluded?: (x: number, y: number) => boolean,
): ObjectMotionEstimate {
  const maxPoints = options.maxPoints ?? 1500;
  const levels = Math.min(previous.levels.length, next.levels.length);
  const perLevel: LevelPoints[] = [];
  for (let l = 0; l < levels; l++) {
    const points = levelPoints(
      mask,
      bounds,
      previous.levels[l],
      maxPoints,
      excluded,
      options.area,
    );
    if (l > 0 && (points.count < MIN_POINTS || points.extent < MIN_EXTENT)) break;
    perLevel.push(points);
  }
  const finest = perLevel[0];
  if (!finest || finest.count < MIN_OBJECT_POINTS) {
    return { motion: guess, residual: Infinity, inlierShare: 0, conditioning: 0, points: 0 };
  }
  const cell0 = previous.levels[0].scale;
  const fitOf = (m: Similarity) =>
    fit(finest, next.levels[0], gridMotion(m, cell0, cell0), options.inlierThreshold ?? 14);
  const atGuess = fitOf(guess);
  if (atGuess.insideShare < MIN_INSIDE_SHARE) {
    // Carried mostly out of the frame: the few pixels left cannot place the object, and a search
    // would settle wherever more of it fits inside. It keeps moving as expected.
    return { motion: guess, residual: Infinity, inlierShare: 0, conditioning: 0, points: 0 };
  }
  const top = perLevel.length - 1;
  const topCell = previous.levels[top].scale;
  const start = gridMotion(guess, topCell, topCell);
  const topPoints = perLevel[top];
  // The block search measures the centroid's translation; the guess's rotation and scale are
  // dropped at the top level.
  const moved = applyMotion(start, topPoints.cx, topPoints.cy);
  const found = blockSearch(
    topPoints,
    next.levels[top],
    moved.x - topPoints.cx,
    moved.y - topPoints.cy,
    searchRadiusFor(topPoints.count, topCell, options),
  );
  let motion = frameMotion(translation(found.tu, found.tv), topCell);
  const iterations = options.iterations ?? 8;
  const maxScaleStep = options.maxScaleStep ?? 0.15;
  const huber = options.huber ?? 10;
  const withSimilarity = options.estimateSimilarity ?? true;
  /** The motion refined on level `l` from `start` (frame pixels in and out). */
  const refineOn = (l: number, start: Similarity): Similarity => {
    const cell = previous.levels[l].scale;
    const points = perLevel[l];
    const params = withSimilarity && points.extent >= MIN_SIMILARITY_EXTENT ? 4 : 2;
    let level = refine(
      points,
      next.levels[l],
      gridMotion(start, cell, cell),
      params,
      iterations,
      maxScaleStep,
      "huber",
      huber,
    );
    if (l === 0) {
      // Pixels the object no longer shows (an occluder, uncovered background) are dropped.
      level = refine(
        points,
        next.levels[l],
        level,
        params,
        Math.ceil(iterations / 2),
        maxScaleStep,
        "tukey",
        options.outlierThreshold ?? 30,
      );
    }
    return frameMotion(level, cell);
  };
  for (let l = top; l >= 0; l--) motion = refineOn(l, motion);
  let quality = fitOf(motion);
  // The search can settle on a wrong spot that fits worse than the expected position (a shape or
  // shading that changed since the anchor): then the estimate is taken again from the guess.
  if (atGuess.residual < quality.residual) {
    const retaken = refineOn(0, guess);
    const again = fitOf(retaken);
    if (again.residual < quality.residual) {
      motion = retaken;
      quality = again;
    }
  }
  const { residual, inlierShare, conditioning } = quality;
  return { motion, residual, inlierShare, conditioning, points: finest.count };
}
