/**
 * Discovery's bookkeeping: which masks of an everything pass are objects the tracker already
 * follows (refresh them), objects it lost (bring them back under their id), or new objects.
 * Pure: it decides, the discovery step applies the decisions to the tracker.
 * @module
 */
import { boxIou } from "../geometry/boxes.ts";
import type { BoxXyxy } from "../mask.ts";
import { maskIou, type MeasuredMask, shiftedIntersection } from "./mask_overlap.ts";

/** An object the tracker holds, as discovery sees it. */
export interface KnownObject extends MeasuredMask {
  readonly id: number;
  /** `tracked`: its mask is on the current frame; `lost`: its mask is the last one before it was lost. */
  readonly status: "tracked" | "lost";
  /** Where a lost object should be now (its last reliable box moved by its velocity). */
  readonly expectedBox: BoxXyxy;
  /** Its usual area when fully visible (0 when unknown). */
  readonly referenceArea: number;
}

/** A mask found on the current frame (best first), with the decoder's confidence. */
export interface FoundMask extends MeasuredMask {
  readonly predictedIou: number;
}

/** Thresholds of {@link reconcileDiscoveries}; all have defaults. */
export interface ReconcileOptions {
  /** Mask IoU at which a found mask is the same object as a known one (default 0.5). */
  readonly matchIou?: number;
  /**
   * A found mask can be a lost object only if its area is within this factor of the object's
   * usual area, either way (default 2).
   */
  readonly lostAreaFactor?: number;
  /** A new object must cover at least this share of the frame (default 0.001), and at least 16 px. */
  readonly minAreaShare?: number;
  /** A new object must cover at most this share of the frame (default 0.5: larger is background). */
  readonly maxAreaShare?: number;
  /** A new object may share at most this fraction of its pixels with known objects (default 0.2). */
  readonly maxOverlapShare?: number;
}

/** What to do with the masks of one pass (indices into the found masks). */
export interface Reconciliation {
  /** Tracked objects matched by a found mask. */
  readonly refresh: readonly {
    readonly id: number;
    readonly found: number;
    readonly iou: number;
  }[];
  /** Lost objects matched by a found mask. */
  readonly reacquire: readonly {
    readonly id: number;
    readonly found: number;
    readonly iou: number;
  }[];
  /** Unmatched found masks fit to be new objects, best first. */
  readonly add: readonly number[];
}

/**
 * Matches found masks to known objects one to one, greedily by decreasing IoU (at least
 * `matchIou`). A tracked object is compared by mask IoU where it is now. A lost object's last
 * mask is often a sliver (it was lost while being covered), so a found mask of plausible area
 * is compared with it both by mask IoU (where it was last seen, and moved to where its motion
 * says it should be now) and by box IoU with its expected box; the best counts. The unmatched masks that
 * are neither tiny nor background-sized and that are mostly new pixels (not a part of a known
 * or an already accepted object) are proposed as new objects, in the given order.
 *
 * @example
 * ```ts
 * const { refresh, reacquire, add } = reconcileDiscoveries(found, known, 640, 360);
 * ```
 */
export function reconcileDiscoveries(
  found: readonly FoundMask[],
  known: readonly KnownObject[],
  frameWidth: number,
  frameHeight: number,
  options: ReconcileOptions = {},
): Reconciliation {
  const matchIou = options.matchIou ?? 0.5;
  const areaFactor = options.lostAreaFactor ?? 2;
  const pairs: { found: number; object: number; iou: number }[] = [];
  found.forEach((f, i) => {
    known.forEach((k, j) => {
      const iou = k.status === "tracked" ? maskIou(f, k) : lostObjectIou(f, k, areaFactor);
      if (iou >= matchIou) pairs.push({ found: i, object: j, iou });
    });
  });
  pairs.sort((a, b) => b.iou - a.iou || a.found - b.found || a.object - b.object);
  const foundTaken = new Set<number>(), objectTaken = new Set<number>();
  const refresh: { id: number; found: number; iou: number }[] = [];
  const reacquire: { id: number; found: number; iou: number }[] = [];
  for (const pair of pairs) {
    if (foundTaken.has(pair.found) || objectTaken.has(pair.object)) continue;
    foundTaken.add(pair.found);
    objectTaken.add(pair.object);
    const object = known[pair.object];
    (object.status === "tracked" ? refresh : reacquire).push({
      id: object.id,
      found: pair.found,
      iou: pair.iou,
    });
  }

  const frameArea = frameWidth * frameHeight;
  const minArea = Math.max(16, (options.minAreaShare ?? 0.001) * frameArea);
  const maxArea = (options.maxAreaShare ?? 0.5) * frameArea;
  const maxOverlap = options.maxOverlapShare ?? 0.2;
  // Masks new objects must keep clear of: objects on this frame (tracked, or just found again).
  const present: MeasuredMask[] = [
    ...known.filter((k) => k.status === "tracked"),
    ...reacquire.map((r) => found[r.found]),
  ];
  const add: number[] = [];
  found.forEach((f, i) => {
    if (foundTaken.has(i) || f.area < minArea || f.area > maxArea) return;
    let shared = 0;
    for (const other of present) shared += shiftedIntersection(f, other);
    if (shared > maxOverlap * f.area) return;
    add.push(i);
    present.push(f);
  });
  return { refresh, reacquire, add };
}

/**
 * How well a found mask matches a lost object: 0 for an implausible area, else the best of the
 * mask IoU with its last mask (where it was, and moved by the motion estimate) and the box IoU
 * with its expected box.
 */
function lostObjectIou(found: FoundMask, lost: KnownObject, areaFactor: number): number {
  if (
    lost.referenceArea > 0 &&
    (found.area > areaFactor * lost.referenceArea || found.area * areaFactor < lost.referenceArea)
  ) return 0;
  const dx = Math.round(lost.expectedBox[0] - lost.box[0]);
  const dy = Math.round(lost.expectedBox[1] - lost.box[1]);
  return Math.max(
    maskIou(found, lost),
    dx === 0 && dy === 0 ? 0 : maskIou(found, lost, dx, dy),
    boxIou(found.box, lost.expectedBox),
  );
}
