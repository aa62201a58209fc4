/**
 * Carrying tracked objects from one frame to the next without the model. Each object has an
 * *anchor*: its mask on the last frame the model refined it, and that frame's small grey images.
 * Its motion is measured from the anchor frame straight to the current frame (starting from the
 * motion so far plus one frame at its velocity), and the anchor mask is moved by it: neither
 * measurement errors nor resampling errors pile up from frame to frame. Masks that now overlap are
 * resolved pixel by pixel in favour of the object whose anchor, moved by its motion, explains the
 * pixel better (an occluder's pixels look like the occluder did). An object carried out of the
 * frame, or covered almost entirely, is lost.
 * @module
 */
import type { Frame } from "../../frame.ts";
import type { BinaryMask, BoxXyxy } from "../mask.ts";
import { sampleGray } from "../motion/gray_image.ts";
import { buildPyramid, type ImagePyramid } from "../motion/image_pyramid.ts";
import {
  estimateObjectMotion,
  type ObjectMotionEstimate,
  type ObjectMotionOptions,
} from "../motion/object_motion.ts";
import {
  applyMotion,
  composeMotion,
  gridMotion,
  invertMotion,
  NO_MOTION,
  type Similarity,
  translation,
} from "../motion/similarity.ts";
import { movedBox, movedWindow, warpGrid, warpMask } from "../motion/warp.ts";
import { motionFactor } from "../motion/gray_image.ts";
import { LOW_RES_SIDE } from "../segmenter.ts";
import type { FrameCandidate } from "./frame_candidate.ts";
import { type LowResGrid, lowResGrid, positiveCells } from "../geometry/low_res_grid.ts";
import type { ObjectTrack } from "./object_state.ts";
import {
  isEmptyWindow,
  maskExtent,
  type PixelWindow,
  shareInsideFrame,
} from "../geometry/pixel_window.ts";
import type { TrackerState } from "./tracker_state.ts";
import { carryTrack } from "./track_update.ts";

/** Options of {@link MotionPropagator}. */
export interface PropagationOptions {
  /** Longest side of the grey images motion is measured on (default 320 pixels). */
  readonly motionSide?: number;
  readonly motion?: ObjectMotionOptions;
  /** An object whose carried mask is smaller than this share of its usual area is lost (default 0.03). */
  readonly minAreaShare?: number;
  /** Smallest carried mask in pixels (default 16). */
  readonly minAreaPx?: number;
}

/** What carrying one object to the current frame measured (the keyframe scheduler reads it). */
export interface CarriedObject {
  readonly id: number;
  /** This frame's motion (previous frame to this one) and how well the object's pixels fit it. */
  readonly step: ObjectMotionEstimate;
  /** Motion since the object's anchor (its last model-refined mask). */
  readonly sinceAnchor: Similarity;
  /** Frames since the anchor. */
  readonly framesSinceAnchor: number;
  /** Path length of the object's centre since the anchor, in frame pixels. */
  readonly travelPx: number;
  /** Square root of the object's area at its anchor (its size in pixels). */
  readonly sizePx: number;
  /** Carried area over the object's usual area (occlusion shows as a falling share). */
  readonly areaShare: number;
  /** Set when the object was lost on this frame. */
  readonly lost?: "left-frame" | "too-small" | "empty";
}

interface Anchor {
  /** Grey images of the anchor frame. */
  readonly pyramid: ImagePyramid;
  readonly mask: BinaryMask;
  readonly bounds: PixelWindow;
  readonly area: number;
  readonly frameIndex: number;
  readonly lowResLogits: Float32Array;
  /** Cells the anchor's logits are positive in (grown), where warping them matters. */
  readonly logitCells: PixelWindow;
  /** Value given to low-res cells away from the object when its logits are moved. */
  readonly logitFill: number;
  sinceAnchor: Similarity;
  travelPx: number;
  /** The mask this propagator last gave the track; a different one means the model replaced it. */
  carriedMask: BinaryMask;
}

/** An object's motion residual at frame pixel index `i` (see `MotionPropagator`). */
type ResidualMap = (i: number) => number;

/** Every carried object's anchor and motion on a frame (see `MotionPropagator.mark`). */
export interface MotionMarks {
  readonly frameIndex: number;
  readonly pyramid: ImagePyramid | undefined;
  readonly marks: ReadonlyMap<
    number,
    { readonly anchor: object; readonly sinceAnchor: Similarity; readonly travelPx: number }
  >;
}

/**
 * A brisk object's speed, as a share of the frame's longer side per frame (how far an object new on
 * a keyframe is searched for when its refinement lands late).
 */
const BRISK_SPEED = 0.01;
/** Weight of a new step in the running velocity. */
const VELOCITY_SMOOTHING = 0.5;
/** Below this share of its usual area an object's measured motion does not update its velocity. */
const MIN_VELOCITY_AREA_SHARE = 0.8;

/**
 * Moves tracked objects frame to frame by measured motion. Call {@link observe} with every frame
 * (it keeps the previous frame's pyramid), and {@link carry} on frames the model does not run on.
 *
 * @example
 * ```ts
 * const propagator = new MotionPropagator();
 * propagator.observe(frame0);            // after the model ran on frame 0
 * const pyramid = propagator.observe(frame1);
 * const carried = propagator.carry(state, frame1, pyramid);
 * ```
 */
export class MotionPropagator {
  readonly #options: PropagationOptions;
  readonly #anchors = new Map<number, Anchor>();
  #previous: ImagePyramid | undefined;
  #current: ImagePyramid | undefined;
  #grid: LowResGrid | undefined;

  constructor(options: PropagationOptions = {}) {
    this.#options = options;
  }

  /** The pyramid of `frame`, built once; the pyramid observed before it becomes the previous one. */
  observe(frame: Frame): ImagePyramid {
    if (this.#current?.frameIndex === frame.index) return this.#current;
    this.#previous = this.#current;
    this.#current = buildPyramid(
      frame,
      motionFactor(frame.width, frame.height, this.#options.motionSide),
    );
    return this.#current;
  }

  /** The pyramid of the frame observed before the current one, if any. */
  get previousPyramid(): ImagePyramid | undefined {
    return this.#previous;
  }

  /**
   * Moves every object that was drawn on the previous observed frame to `frame` (which must have
   * been observed last): its mask, bounds, area, low-res logits, velocity and `lastSeenFrame`.
   * Objects carried out of the frame or covered almost entirely are marked lost.
   */
  carry(state: TrackerState, frame: Frame): CarriedObject[] {
    const next = this.#current, previous = this.#previous;
    if (!next || next.frameIndex !== frame.index) {
      throw new Error(`carry: frame ${frame.index} was not observed last`);
    }
    const grid = this.#gridFor(frame.width, frame.height);
    const moved: {
      track: ObjectTrack;
      anchor: Anchor;
      step: ObjectMotionEstimate;
      candidate: FrameCandidate;
      movedBox: BoxXyxy;
    }[] = [];
    const present = previous
      ? [...state.tracks()].filter((t) =>
        t.status === "tracked" && t.lastSeenFrame === previous.frameIndex
      ).sort((a, b) => a.id - b.id)
      : [];
    const owners = present.length > 1 ? ownerMap(present, previous!) : undefined;
    for (const track of present) {
      if (!previous) continue;
      const anchor = this.#anchorOf(track, previous);
      const before = anchor.sinceAnchor;
      const guess = composeMotion(
        before,
        track.velocityKnown ? translation(track.velocity.x, track.velocity.y) : NO_MOTION,
      );
      const near = owners?.excludedFor(track.id);
      const measured = estimateObjectMotion(
        anchor.pyramid,
        next,
        anchor.mask,
        anchor.bounds,
        guess,
        { ...this.#options.motion, area: anchor.area },
        // The exclusion map is of the previous frame, where anchor pixels were moved by `before`.
        near
          ? (x, y) => {
            const at = applyMotion(before, x, y);
            return near(at.x, at.y);
          }
          : undefined,
      );
      anchor.sinceAnchor = measured.motion;
      const step = { ...measured, motion: composeMotion(invertMotion(before), measured.motion) };
      const centre = centreOf(track.bounds);
      const to = applyMotion(step.motion, centre.x, centre.y);
      anchor.travelPx += Math.hypot(to.x - centre.x, to.y - centre.y);
      const warped = warpMask(anchor.mask, anchor.bounds, anchor.sinceAnchor);
      moved.push({
        track,
        anchor,
        step,
        movedBox: movedBox(anchor.bounds, anchor.sinceAnchor),
        candidate: {
          id: track.id,
          source: "propagation",
          mask: warped.mask,
          area: warped.area,
          bounds: warped.bounds,
          score: track.score,
          lowResLogits: track.lowResLogits,
          priority: 0,
        },
      });
    }
    if (moved.length > 1) {
      resolveCarriedOverlaps(
        moved.map((m) => m.candidate),
        moved.map((m) => this.#residualMap(m.anchor)),
      );
    }
    const minAreaShare = this.#options.minAreaShare ?? 0.03;
    const minAreaPx = this.#options.minAreaPx ?? 16;
    const report: CarriedObject[] = [];
    for (const { track, anchor, step, candidate, movedBox } of moved) {
      const reference = track.referenceArea > 0 ? track.referenceArea : anchor.area;
      let lost: CarriedObject["lost"];
      const inside = shareInsideFrame(movedBox, frame.width, frame.height);
      if (inside < 0.05) lost = "left-frame";
      else if (candidate.area === 0) lost = inside < 0.5 ? "left-frame" : "empty";
      else if (candidate.area < Math.max(minAreaPx, minAreaShare * reference)) {
        lost = inside < 0.5 ? "left-frame" : "too-small";
      }
      report.push({
        id: track.id,
        step,
        sinceAnchor: anchor.sinceAnchor,
        framesSinceAnchor: frame.index - anchor.frameIndex,
        travelPx: anchor.travelPx,
        sizePx: Math.sqrt(anchor.area),
        areaShare: reference > 0 ? candidate.area / reference : 0,
        ...(lost ? { lost } : {}),
      });
      if (lost) {
        state.lose(track.id, lost);
        this.#anchors.delete(track.id);
        continue;
      }
      const centreBefore = centreOf(track.bounds);
      const stepCentre = applyMotion(step.motion, centreBefore.x, centreBefore.y);
      const measured = { x: stepCentre.x - centreBefore.x, y: stepCentre.y - centreBefore.y };
      // A partly hidden object's visible pixels are shaped by what hides it: its velocity is kept
      // for finding it again rather than updated from them.
      const velocity = !track.velocityKnown
        ? measured
        : candidate.area >= MIN_VELOCITY_AREA_SHARE * reference
        ? {
          x: (1 - VELOCITY_SMOOTHING) * track.velocity.x + VELOCITY_SMOOTHING * measured.x,
          y: (1 - VELOCITY_SMOOTHING) * track.velocity.y + VELOCITY_SMOOTHING * measured.y,
        }
        : undefined;
      carryTrack(
        track,
        {
          mask: candidate.mask,
          bounds: candidate.bounds,
          area: candidate.area,
          lowResLogits: this.#movedLogits(anchor, grid),
        },
        frame.index,
        velocity,
      );
      anchor.carriedMask = candidate.mask;
    }
    return report;
  }

  /**
   * Where every carried object stands now (its anchor and the motion since it), so that masks
   * refined later for the current frame can be moved on by the motion measured in the meantime
   * (see {@link fastForward}).
   */
  mark(): MotionMarks {
    const marks = new Map<number, { anchor: Anchor; sinceAnchor: Similarity; travelPx: number }>();
    for (const [id, anchor] of this.#anchors) {
      marks.set(id, { anchor, sinceAnchor: anchor.sinceAnchor, travelPx: anchor.travelPx });
    }
    return { frameIndex: this.#current?.frameIndex ?? -1, pyramid: this.#current, marks };
  }

  /**
   * Moves objects refined on the marked frame (tracked with `lastSeenFrame` equal to it) on to the
   * frame observed before the current one, the last frame carried since. Each is anchored on its
   * refined mask with the marked frame's grey images and moved by the motion its previous anchor
   * measured since the mark. An object new on the marked frame (a prompt, a discovery, a find) has
   * no such motion: it is measured from the marked frame to this one, starting from its velocity
   * if known, and sets its velocity when unknown, so that the next {@link carry} starts from a
   * good guess rather than from the whole gap taken as one frame's step.
   */
  fastForward(state: TrackerState, marks: MotionMarks): void {
    const from = marks.pyramid, to = this.#previous;
    if (!from || !to) return;
    const gap = to.frameIndex - marks.frameIndex;
    const grid = this.#gridFor(to.frameWidth, to.frameHeight);
    for (const track of state.tracks()) {
      if (track.status !== "tracked" || track.lastSeenFrame !== marks.frameIndex) continue;
      const mark = marks.marks.get(track.id);
      const live = this.#anchors.get(track.id);
      const followed = mark !== undefined && live === mark.anchor;
      const guess = followed
        ? composeMotion(invertMotion(mark.sinceAnchor), live.sinceAnchor)
        : track.velocityKnown
        ? translation(track.velocity.x * gap, track.velocity.y * gap)
        : NO_MOTION;
      this.#anchors.delete(track.id);
      const anchor = this.#anchorOf(track, from);
      if (gap <= 0) continue;
      // An object followed since the mark moves as it was measured; a new one is measured now.
      const measured = followed ? undefined : estimateObjectMotion(
        from,
        to,
        anchor.mask,
        anchor.bounds,
        guess,
        {
          ...this.#options.motion,
          area: anchor.area,
          // Without a velocity, searched as far as the gap lets a brisk object go.
          searchReachPx: track.velocityKnown
            ? 0
            : gap * BRISK_SPEED * Math.max(to.frameWidth, to.frameHeight),
        },
      );
      const motion = measured && measured.points > 0 ? measured.motion : guess;
      const centre = centreOf(anchor.bounds);
      const moved = applyMotion(motion, centre.x, centre.y);
      anchor.sinceAnchor = motion;
      anchor.travelPx = followed
        ? live.travelPx - mark.travelPx
        : Math.hypot(moved.x - centre.x, moved.y - centre.y);
      const velocity = !track.velocityKnown && measured && measured.points > 0
        ? { x: (moved.x - centre.x) / gap, y: (moved.y - centre.y) / gap }
        : undefined;
      const warped = warpMask(anchor.mask, anchor.bounds, motion);
      carryTrack(
        track,
        {
          mask: warped.mask,
          bounds: warped.bounds,
          area: warped.area,
          lowResLogits: this.#movedLogits(anchor, grid),
        },
        to.frameIndex,
        velocity,
      );
      anchor.carriedMask = warped.mask;
    }
  }

  /** The object's anchor, re-anchored on its current mask when the model replaced it. */
  #anchorOf(track: ObjectTrack, pyramid: ImagePyramid): Anchor {
    const existing = this.#anchors.get(track.id);
    if (existing && existing.carriedMask === track.mask) return existing;
    const low = track.lowResLogits;
    let fill = 0;
    for (let i = 0; i < low.length; i++) if (low[i] < fill) fill = low[i];
    const cells = positiveCells(low);
    const anchor: Anchor = {
      pyramid,
      mask: track.mask,
      bounds: track.bounds,
      area: track.area,
      frameIndex: pyramid.frameIndex,
      lowResLogits: low,
      logitCells: isEmptyWindow(cells) ? cells : {
        x0: Math.max(0, cells.x0 - 3),
        y0: Math.max(0, cells.y0 - 3),
        x1: Math.min(LOW_RES_SIDE, cells.x1 + 3),
        y1: Math.min(LOW_RES_SIDE, cells.y1 + 3),
      },
      logitFill: Math.min(-1, fill),
      sinceAnchor: NO_MOTION,
      travelPx: 0,
      carriedMask: track.mask,
    };
    this.#anchors.set(track.id, anchor);
    return anchor;
  }

  #movedLogits(anchor: Anchor, grid: LowResGrid): Float32Array {
    if (isEmptyWindow(anchor.logitCells)) return anchor.lowResLogits;
    const cellMotion = gridMotion(anchor.sinceAnchor, grid.cellWidth, grid.cellHeight);
    const reach = movedWindow(anchor.logitCells, cellMotion, LOW_RES_SIDE, LOW_RES_SIDE, 1);
    return warpGrid(
      anchor.lowResLogits,
      LOW_RES_SIDE,
      LOW_RES_SIDE,
      cellMotion,
      reach,
      anchor.logitFill,
    );
  }

  /**
   * |next(x) - anchor(where x came from since the anchor)| on the cells of the finest motion level:
   * how well the object's own look, as the model last saw it, explains each pixel now. (Against
   * the previous frame instead, a plain occluder that already covered a pixel there would explain
   * it equally well for the object it covers.) Computed on first use (overlaps of large masks
   * visit many pixels per cell).
   */
  #residualMap(anchor: Anchor): ResidualMap {
    const next = this.#current!.levels[0], before = anchor.pyramid.levels[0];
    const k = next.scale, { width, height } = next.image;
    const back = gridMotion(invertMotion(anchor.sinceAnchor), k, k);
    const cache = new Float32Array(width * height).fill(-1);
    const frameWidth = this.#current!.frameWidth;
    // Frame column -> cell column, computed once.
    const columnCell = new Int32Array(frameWidth);
    for (let x = 0; x < frameWidth; x++) columnCell[x] = Math.min(width - 1, Math.floor(x / k));
    return (i) => {
      const y = Math.floor(i / frameWidth);
      const cell = Math.min(height - 1, Math.floor(y / k)) * width + columnCell[i - y * frameWidth];
      let r = cache[cell];
      if (r < 0) {
        const u = cell % width, v = (cell - u) / width;
        const sx = back.a * u - back.b * v + back.tx, sy = back.b * u + back.a * v + back.ty;
        r = cache[cell] = Math.abs(next.image.data[cell] - sampleGray(before.image, sx, sy));
      }
      return r;
    };
  }

  #gridFor(width: number, height: number): LowResGrid {
    if (this.#grid?.frameWidth !== width || this.#grid.frameHeight !== height) {
      this.#grid = lowResGrid(width, height);
    }
    return this.#grid;
  }
}

function centreOf(w: PixelWindow): { x: number; y: number } {
  return { x: (w.x0 + w.x1 - 1) / 2, y: (w.y0 + w.y1 - 1) / 2 };
}

/** Which object owns each cell of the finest motion level (grown by one cell). */
interface OwnerMap {
  /** A test that is true near objects other than `id`, in frame pixels. */
  excludedFor(id: number): (x: number, y: number) => boolean;
}

/**
 * The objects' masks on the previous frame, on the grid of the finest motion level, each grown by
 * one cell: where two objects meet, the shared edge belongs to whichever is in front, so neither
 * uses it to measure its motion.
 */
function ownerMap(tracks: readonly ObjectTrack[], pyramid: ImagePyramid): OwnerMap {
  const level = pyramid.levels[0];
  const k = level.scale, { width, height } = level.image;
  // Up to 31 objects get a bit each; beyond that, neighbours share bits (more exclusion, still safe).
  const bits = new Int32Array(width * height);
  const bitOf = new Map<number, number>();
  tracks.forEach((t, i) => bitOf.set(t.id, 1 << (i % 31)));
  for (const t of tracks) {
    const bit = bitOf.get(t.id)!;
    const { x0, y0, x1, y1 } = t.bounds;
    const u0 = Math.max(0, Math.floor(x0 / k) - 1), u1 = Math.min(width, Math.ceil(x1 / k) + 1);
    const v0 = Math.max(0, Math.floor(y0 / k) - 1), v1 = Math.min(height, Math.ceil(y1 / k) + 1);
    for (let v = v0; v < v1; v++) {
      for (let u = u0; u < u1; u++) {
        const x = Math.min(t.mask.width - 1, Math.floor((u + 0.5) * k));
        const y = Math.min(t.mask.height - 1, Math.floor((v + 0.5) * k));
        if (t.mask.data[y * t.mask.width + x] === 0) continue;
        for (let dv = -1; dv <= 1; dv++) {
          for (let du = -1; du <= 1; du++) {
            const uu = u + du, vv = v + dv;
            if (uu >= 0 && vv >= 0 && uu < width && vv < height) bits[vv * width + uu] |= bit;
          }
        }
      }
    }
  }
  return {
    excludedFor: (id) => {
      const others = ~bitOf.get(id)!;
      return (x, y) => {
        const u = Math.min(width - 1, Math.floor(x / k)),
          v = Math.min(height - 1, Math.floor(y / k));
        return (bits[v * width + u] & others) !== 0;
      };
    },
  };
}

/**
 * Clears, in place, every pixel two carried masks claim from all but the claim that explains it
 * best (lowest residual), and updates the changed masks' area and bounds. One pass
 * over each mask's pixels with a map of owners (cost grows with the masks' areas, not with how many
 * pairs of them overlap); residuals are looked up only where masks meet.
 */
function resolveCarriedOverlaps(
  candidates: readonly FrameCandidate[],
  residuals: readonly ResidualMap[],
): void {
  const present = candidates.filter((c) => c.area > 0);
  const residualOf = residuals.filter((_, k) => candidates[k].area > 0);
  if (present.length < 2) return;
  const { width, height } = present[0].mask;
  const owner = new Int16Array(width * height).fill(-1);
  const changed = new Set<number>();
  present.forEach((c, k) => {
    const data = c.mask.data;
    for (let y = c.bounds.y0; y < c.bounds.y1; y++) {
      for (let x = c.bounds.x0, i = y * width + c.bounds.x0; x < c.bounds.x1; x++, i++) {
        if (data[i] === 0) continue;
        const o = owner[i];
        if (o < 0) {
          owner[i] = k;
        } else if (residualOf[k](i) < residualOf[o](i)) {
          present[o].mask.data[i] = 0;
          owner[i] = k;
          changed.add(o);
        } else {
          data[i] = 0;
          changed.add(k);
        }
      }
    }
  });
  for (const k of changed) {
    const c = present[k];
    const extent = maskExtent(c.mask, c.bounds);
    c.area = extent.area;
    c.bounds = extent.bounds;
  }
}
