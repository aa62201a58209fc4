/**
 * Connected components of binary masks and SAM's removal of small holes and islands
 * (`remove_small_regions` in segment-anything's `utils/amg.py`).
 * @module
 */
import type { BinaryMask } from "./mask.ts";

/** Pixel neighbourhood of a connected component: 4 (edges) or 8 (edges and corners). */
export type Connectivity = 4 | 8;

/** Labelled connected components of a mask's foreground. */
export interface Components {
  /** Number of components (labels run 1..count). */
  readonly count: number;
  /** Row-major label per pixel: 0 for background, 1..count for a component. */
  readonly labels: Int32Array;
  /** Pixel count per label; index 0 holds the background's count. */
  readonly areas: readonly number[];
}

/**
 * Labels the connected components of the foreground (non-zero bytes), in raster order of each
 * component's first pixel.
 *
 * @example
 * ```ts
 * const { count, areas } = connectedComponents(
 *   { width: 3, height: 1, data: new Uint8Array([1, 0, 1]) },
 * );
 * // count -> 2, areas -> [1, 1, 1]
 * ```
 */
export function connectedComponents(mask: BinaryMask, connectivity: Connectivity = 8): Components {
  const { width, height, data } = mask;
  const labels = new Int32Array(width * height);
  const areas: number[] = [0];
  const stack = new Int32Array(width * height);
  let count = 0;
  for (let start = 0; start < data.length; start++) {
    if (data[start] === 0) {
      areas[0]++;
      continue;
    }
    if (labels[start] !== 0) continue;
    count++;
    let area = 0;
    let top = 0;
    stack[top++] = start;
    labels[start] = count;
    while (top > 0) {
      const p = stack[--top];
      area++;
      const x = p % width;
      const y = (p - x) / width;
      const x0 = x > 0 ? x - 1 : x, x1 = x < width - 1 ? x + 1 : x;
      const y0 = y > 0 ? y - 1 : y, y1 = y < height - 1 ? y + 1 : y;
      for (let ny = y0; ny <= y1; ny++) {
        for (let nx = x0; nx <= x1; nx++) {
          if (connectivity === 4 && nx !== x && ny !== y) continue;
          const q = ny * width + nx;
          if (data[q] !== 0 && labels[q] === 0) {
            labels[q] = count;
            stack[top++] = q;
          }
        }
      }
    }
    areas.push(area);
  }
  return { count, labels, areas };
}

/** Which small regions `removeSmallRegions` removes. */
export type SmallRegionMode = "holes" | "islands";

/** A mask after small-region removal, and whether anything changed. */
export interface RegionCleanup {
  readonly mask: BinaryMask;
  readonly changed: boolean;
}

/**
 * Removes small disconnected regions as SAM does. `"holes"` fills background components
 * (found on the inverted mask) smaller than `areaThreshold` pixels; SAM does not exempt the
 * outer background, so a small background area cut off at the frame border is filled too.
 * `"islands"` drops foreground components smaller than `areaThreshold`, keeping the largest
 * one if all are small. Components use 8-connectivity by default, as SAM's
 * `cv2.connectedComponentsWithStats(..., 8)`.
 *
 * @example
 * ```ts
 * const mask = { width: 3, height: 3, data: new Uint8Array([1, 1, 1, 1, 0, 1, 1, 1, 1]) };
 * removeSmallRegions(mask, 2, "holes").mask.data; // all ones: the 1-pixel hole is filled
 * ```
 */
export function removeSmallRegions(
  mask: BinaryMask,
  areaThreshold: number,
  mode: SmallRegionMode,
  connectivity: Connectivity = 8,
): RegionCleanup {
  const fillHoles = mode === "holes";
  const working = new Uint8Array(mask.data.length);
  for (let i = 0; i < working.length; i++) {
    working[i] = (mask.data[i] !== 0) !== fillHoles ? 1 : 0;
  }
  const { count, labels, areas } = connectedComponents(
    { width: mask.width, height: mask.height, data: working },
    connectivity,
  );
  const small = new Uint8Array(count + 1);
  let anySmall = false;
  for (let label = 1; label <= count; label++) {
    if (areas[label] < areaThreshold) {
      small[label] = 1;
      anySmall = true;
    }
  }
  if (!anySmall) return { mask, changed: false };

  const keep = new Uint8Array(count + 1);
  if (fillHoles) {
    // The result is the original foreground (label 0 of the inverted mask) plus the small holes.
    keep[0] = 1;
    for (let label = 1; label <= count; label++) keep[label] = small[label];
  } else {
    let kept = 0;
    for (let label = 1; label <= count; label++) {
      keep[label] = small[label] ? 0 : 1;
      kept += keep[label];
    }
    if (kept === 0) {
      let largest = 1;
      for (let label = 2; label <= count; label++) {
        if (areas[label] > areas[largest]) largest = label;
      }
      keep[largest] = 1;
    }
  }
  const data = new Uint8Array(mask.data.length);
  for (let i = 0; i < data.length; i++) data[i] = keep[labels[i]];
  return { mask: { width: mask.width, height: mask.height, data }, changed: true };
}
