/**
 * Point grids of the everything passes: `n x n` points at the centres of an even partition of
 * a region, as SAM's `build_point_grid` (offset `1 / 2n`, step `1 / n`) scaled to the region.
 * @module
 */
import type { BoxXyxy } from "../mask.ts";

/** A prompt location in frame pixels (continuous coordinates: pixel (i, j) spans [i, i + 1)). */
export interface GridPoint {
  readonly x: number;
  readonly y: number;
}

/**
 * The `pointsPerSide^2` grid points over `region` (`[x0, y0, x1, y1]` in frame pixels), row by
 * row, top to bottom: point (i, j) is at `x0 + (i + 0.5) / n * (x1 - x0)`,
 * `y0 + (j + 0.5) / n * (y1 - y0)`.
 *
 * @example
 * ```ts
 * pointGrid(2, [0, 0, 100, 50]);
 * // [{ x: 25, y: 12.5 }, { x: 75, y: 12.5 }, { x: 25, y: 37.5 }, { x: 75, y: 37.5 }]
 * ```
 */
export function pointGrid(pointsPerSide: number, region: BoxXyxy): GridPoint[] {
  const [x0, y0, x1, y1] = region;
  const points: GridPoint[] = [];
  for (let j = 0; j < pointsPerSide; j++) {
    const y = y0 + (j + 0.5) / pointsPerSide * (y1 - y0);
    for (let i = 0; i < pointsPerSide; i++) {
      points.push({ x: x0 + (i + 0.5) / pointsPerSide * (x1 - x0), y });
    }
  }
  return points;
}

/**
 * Row-major index of the pixel containing `point` in a `width x height` frame (coordinates
 * floored, clamped to the frame), as TinySAM looks points up in its high-confidence map.
 *
 * @example
 * ```ts
 * pixelIndexOf({ x: 7.5, y: 2.5 }, 10, 5); // 27
 * ```
 */
export function pixelIndexOf(point: GridPoint, width: number, height: number): number {
  const x = Math.min(width - 1, Math.max(0, Math.floor(point.x)));
  const y = Math.min(height - 1, Math.max(0, Math.floor(point.y)));
  return y * width + x;
}
