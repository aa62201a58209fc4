/**
 * A simple motion estimate: the velocity of an object's box, measured on the box edges that are
 * free to move with the object. An edge lying on the frame border or against another object's mask
 * moves with the border or with the occluder, not with the object, so it is not trusted; with both
 * edges of an axis free the centre's motion is used, unless the box changed size: then one edge is
 * probably held by something the tracker does not know (an untracked occluder), and the edge that
 * moves as the object did so far is used.
 * @module
 */
import type { BoxXyxy } from "../mask.ts";
import type { Velocity } from "./object_state.ts";
import { isEmptyWindow, type PixelWindow, windowsIntersect } from "../geometry/pixel_window.ts";

/** Distance (pixels) within which an edge counts as touching the frame border or a neighbour. */
const CONTACT_PX = 2;
/** Change of a box side (pixels) beyond which the box counts as resized rather than moved. */
const RESIZE_PX = 2;
/** Weight of a new measurement in the running velocity. */
const SMOOTHING = 0.5;

/** Which edges of a box touch the frame border or a neighbouring object. */
export interface BlockedEdges {
  readonly left: boolean;
  readonly right: boolean;
  readonly top: boolean;
  readonly bottom: boolean;
}

/**
 * Edges of `bounds` lying on the frame border or touching one of `neighbours` (their bounds).
 *
 * @example
 * ```ts
 * blockedEdges({ x0: 0, y0: 10, x1: 20, y1: 30 }, [], 640, 360).left; // true
 * ```
 */
export function blockedEdges(
  bounds: PixelWindow,
  neighbours: readonly PixelWindow[],
  width: number,
  height: number,
): BlockedEdges {
  const strip = (x0: number, y0: number, x1: number, y1: number) =>
    neighbours.some((n) => windowsIntersect(n, { x0, y0, x1, y1 }));
  const { x0, y0, x1, y1 } = bounds;
  const c = CONTACT_PX;
  return {
    left: x0 <= c || strip(x0 - c - 1, y0, x0 + c, y1),
    right: x1 >= width - c || strip(x1 - c, y0, x1 + c + 1, y1),
    top: y0 <= c || strip(x0, y0 - c - 1, x1, y0 + c),
    bottom: y1 >= height - c || strip(x0, y1 - c, x1, y1 + c + 1),
  };
}

/**
 * The displacement of one axis between two boxes, from the free edges; undefined when both edges
 * are blocked.
 */
function axisShift(
  lowBefore: number,
  highBefore: number,
  lowAfter: number,
  highAfter: number,
  lowBlocked: boolean,
  highBlocked: boolean,
  expected: number | undefined,
): number | undefined {
  const low = lowAfter - lowBefore, high = highAfter - highBefore;
  if (!lowBlocked && !highBlocked) {
    // The size changed: one edge is probably held by something untracked (an occluder). Trust the
    // edge that moves as the object did so far.
    if (expected !== undefined && Math.abs(low - high) > RESIZE_PX) {
      return Math.abs(low - expected) <= Math.abs(high - expected) ? low : high;
    }
    return (low + high) / 2;
  }
  if (!lowBlocked) return low;
  if (!highBlocked) return high;
  return undefined;
}

/** The running velocity and whether it is now measured. */
export interface MotionUpdate {
  readonly velocity: Velocity;
  readonly known: boolean;
}

/**
 * Updates a running velocity from an object's bounds on the previous and the current frame. An
 * edge is ignored when it is blocked on either frame. `frames` is the number of frames between the
 * two (more than 1 when frames were dropped). The result is capped at half the object's size per
 * frame.
 *
 * @example
 * ```ts
 * const free = { left: false, right: false, top: false, bottom: false };
 * updateVelocity({ x: 0, y: 0 }, false, { x0: 10, y0: 10, x1: 30, y1: 30 },
 *   { x0: 14, y0: 10, x1: 34, y1: 30 }, free, free).velocity; // { x: 4, y: 0 }
 * ```
 */
export function updateVelocity(
  velocity: Velocity,
  known: boolean,
  before: PixelWindow,
  after: PixelWindow,
  blockedBefore: BlockedEdges,
  blockedAfter: BlockedEdges,
  frames = 1,
): MotionUpdate {
  if (isEmptyWindow(before) || isEmptyWindow(after)) return { velocity, known };
  const dx = axisShift(
    before.x0,
    before.x1,
    after.x0,
    after.x1,
    blockedBefore.left || blockedAfter.left,
    blockedBefore.right || blockedAfter.right,
    known ? velocity.x * frames : undefined,
  );
  const dy = axisShift(
    before.y0,
    before.y1,
    after.y0,
    after.y1,
    blockedBefore.top || blockedAfter.top,
    blockedBefore.bottom || blockedAfter.bottom,
    known ? velocity.y * frames : undefined,
  );
  const limitX = (after.x1 - after.x0) / 2 + 2, limitY = (after.y1 - after.y0) / 2 + 2;
  const blend = (old: number, measured: number | undefined, limit: number) => {
    if (measured === undefined) return old;
    const capped = Math.max(-limit, Math.min(limit, measured / frames));
    return known ? (1 - SMOOTHING) * old + SMOOTHING * capped : capped;
  };
  const measuredAny = dx !== undefined || dy !== undefined;
  return {
    velocity: { x: blend(velocity.x, dx, limitX), y: blend(velocity.y, dy, limitY) },
    known: known || measuredAny,
  };
}

/**
 * Where a box is expected `frames` frames later at constant velocity.
 *
 * @example
 * ```ts
 * predictBox([10, 10, 30, 30], { x: 2, y: -1 }, 3); // [16, 7, 36, 27]
 * ```
 */
export function predictBox(box: BoxXyxy, velocity: Velocity, frames = 1): BoxXyxy {
  const dx = velocity.x * frames, dy = velocity.y * frames;
  return [box[0] + dx, box[1] + dy, box[2] + dx, box[3] + dy];
}
