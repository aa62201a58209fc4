/**
 * Where a lost object is looked for near where it should be: a search box around its last
 * reliable box, moved by its velocity and widened the longer it stays lost, sampled with a grid
 * of positive points (shifted on every frame, so successive frames probe different spots); and
 * how likely a find is to be the object by where it is (the motion prior). The whole-frame scan
 * and the decision live in `reacquisition.ts`.
 * @module
 */
import type { BoxXyxy } from "../mask.ts";
import { predictBox } from "./motion.ts";
import type { ObjectTrack } from "./object_state.ts";
import { clipBox, growBox } from "../geometry/pixel_window.ts";
import type { ReacquisitionOptions } from "./reacquisition.ts";

/** Search points spent every frame on the spots nearest the expected position. */
const NEAREST_EVERY_FRAME = 2;

/**
 * Whether a lost object is searched for on `frameIndex`: every frame at first, every
 * `slowEvery`-th frame after `slowAfter` frames, not at all after `forFrames`.
 */
export function searchesOn(
  lostSince: number,
  frameIndex: number,
  options: ReacquisitionOptions = {},
): boolean {
  const lostFor = frameIndex - lostSince;
  if (lostFor >= (options.forFrames ?? 150)) return false;
  if (lostFor < (options.slowAfter ?? 30)) return true;
  return lostFor % (options.slowEvery ?? 3) === 0;
}

/** The part of an object's state the search box is derived from. */
export type SearchSource = Pick<
  ObjectTrack,
  "referenceBounds" | "referenceFrame" | "velocity" | "lostSince"
>;

/**
 * Where a lost object is expected on frame `frameIndex`: its last reliable box moved by its
 * velocity (extrapolated for at most `maxTravelFrames`), shifted to keep at least half the object
 * inside the frame on each axis even when the motion estimate points outside.
 *
 * @example
 * ```ts
 * const [x0, y0, x1, y1] = expectedBox(track, frame.index, frame.width, frame.height);
 * ```
 */
export function expectedBox(
  source: SearchSource,
  frameIndex: number,
  width: number,
  height: number,
  options: ReacquisitionOptions = {},
): BoxXyxy {
  const { referenceBounds: b } = source;
  const w = b.x1 - b.x0, h = b.y1 - b.y0;
  const travel = Math.min(frameIndex - source.referenceFrame, options.maxTravelFrames ?? 30);
  const [x0, y0, x1, y1] = predictBox(
    [b.x0, b.y0, b.x1, b.y1],
    source.velocity,
    Math.max(0, travel),
  );
  const dx = Math.max(0, -(x0 + w / 2)) - Math.max(0, x1 - w / 2 - width);
  const dy = Math.max(0, -(y0 + h / 2)) - Math.max(0, y1 - h / 2 - height);
  return [x0 + dx, y0 + dy, x1 + dx, y1 + dy];
}

/**
 * Where to look for a lost object on frame `frameIndex`: its {@link expectedBox}, grown by a
 * share of its size plus a margin that widens the longer it is lost, clipped to the frame.
 *
 * @example
 * ```ts
 * const box = searchBox(track, frame.index, frame.width, frame.height);
 * ```
 */
export function searchBox(
  source: SearchSource,
  frameIndex: number,
  width: number,
  height: number,
  options: ReacquisitionOptions = {},
): BoxXyxy {
  const { referenceBounds: b } = source;
  const w = b.x1 - b.x0, h = b.y1 - b.y0;
  const lostFor = Math.max(0, frameIndex - source.lostSince);
  const share = options.marginShare ?? 0.3, growth = (options.growthPx ?? 2) * lostFor;
  const mx = Math.min(share * w + growth, 2 * w + 8), my = Math.min(share * h + growth, 2 * h + 8);
  return clipBox(
    growBox(expectedBox(source, frameIndex, width, height, options), mx, my),
    width,
    height,
  );
}

/**
 * How plausible it is, by where it is, that a find centred at `(x, y)` is the lost object: a
 * Gaussian of the distance to the centre of its {@link expectedBox}, whose width is the object's
 * size plus `growthPx` per frame lost (an object hidden longer may have gone further astray).
 * 1 where it is expected, 0.61 one width away, 0.14 two widths away.
 *
 * @example
 * ```ts
 * const prior = motionPrior(track, frame.index, 320, 180, frame.width, frame.height);
 * ```
 */
export function motionPrior(
  source: SearchSource,
  frameIndex: number,
  x: number,
  y: number,
  width: number,
  height: number,
  options: ReacquisitionOptions = {},
): number {
  const [x0, y0, x1, y1] = expectedBox(source, frameIndex, width, height, options);
  const b = source.referenceBounds;
  const lostFor = Math.max(0, frameIndex - source.lostSince);
  const sigma = Math.max(b.x1 - b.x0, b.y1 - b.y0, 1) + (options.growthPx ?? 2) * lostFor;
  const d2 = (x - (x0 + x1) / 2) ** 2 + (y - (y0 + y1) / 2) ** 2;
  return Math.exp(-d2 / (2 * sigma * sigma));
}

/**
 * Positive points for the search: the box's centre (where the object is expected) and a
 * `gridSide x gridSide` grid over the box whose phase moves on every frame, without points where
 * `excluded` holds (inside other objects). At most `maxPrompts` are returned: the centre first,
 * the grid point nearest it, and the others in turns from frame to frame.
 *
 * @example
 * ```ts
 * const points = searchPoints(box, frame.index, (x, y) => false);
 * ```
 */
export function searchPoints(
  box: BoxXyxy,
  frameIndex: number,
  excluded: (x: number, y: number) => boolean,
  options: ReacquisitionOptions = {},
): { x: number; y: number }[] {
  const side = options.gridSide ?? 4;
  const [x0, y0, x1, y1] = box;
  if (!(x1 > x0 && y1 > y0)) return [];
  // Golden-ratio steps spread the phases of successive frames evenly.
  const phaseX = (frameIndex * 0.618034) % 1, phaseY = (frameIndex * 0.381966 + 0.5) % 1;
  const stepX = (x1 - x0) / side, stepY = (y1 - y0) / side;
  const cx = (x0 + x1) / 2, cy = (y0 + y1) / 2;
  const points: { x: number; y: number; d: number }[] = [];
  for (let j = 0; j < side; j++) {
    for (let i = 0; i < side; i++) {
      const x = Math.min(x1 - 1, Math.floor(x0 + (i + phaseX) * stepX));
      const y = Math.min(y1 - 1, Math.floor(y0 + (j + phaseY) * stepY));
      if (excluded(x, y)) continue;
      points.push({ x, y, d: (x - cx) ** 2 + (y - cy) ** 2 });
    }
  }
  points.sort((a, b) => a.d - b.d);
  // The expected position itself comes first: the grid's spacing grows with the box and can
  // straddle a small object sitting right where it was expected.
  const centre = { x: Math.floor(cx), y: Math.floor(cy), d: -1 };
  if (!excluded(centre.x, centre.y)) {
    const same = points.findIndex((p) => p.x === centre.x && p.y === centre.y);
    if (same >= 0) points.splice(same, 1);
    points.unshift(centre);
  }
  const budget = options.maxPrompts ?? 6;
  if (points.length <= budget) return points.map(({ x, y }) => ({ x, y }));
  // The points nearest the expected position every frame; the others in turns, so the whole box
  // is covered every few frames within the budget.
  const nearest = Math.min(NEAREST_EVERY_FRAME, budget);
  const rest = points.slice(nearest);
  const turn = budget - nearest;
  const start = (frameIndex * turn) % rest.length;
  const chosen = [...points.slice(0, nearest)];
  for (let k = 0; k < turn; k++) chosen.push(rest[(start + k) % rest.length]);
  return chosen.map(({ x, y }) => ({ x, y }));
}
