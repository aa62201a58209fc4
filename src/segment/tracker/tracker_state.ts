/**
 * The tracker's objects as others see and change them: an everything pass (or any discovery step)
 * reads every object's status and latest mask, and reports what it found on the current frame by
 * refreshing a tracked object, re-acquiring a lost one under its old id, or adding a new object.
 * @module
 */
import type { Frame } from "../../frame.ts";
import type { BinaryMask, BoxXyxy } from "../mask.ts";
import { MAX_OBJECT_ID } from "../prompts.ts";
import { LOW_RES_SIDE } from "../segmenter.ts";
import { colourHistogram, histogramSimilarity } from "./appearance.ts";
import type { FrameCandidate } from "./frame_candidate.ts";
import { predictBox } from "./motion.ts";
import type {
  LossReason,
  ObjectStatus,
  ObjectTrack,
  Observation,
  Velocity,
} from "./object_state.ts";
import { maskExtent, type PixelWindow, windowToBox } from "../geometry/pixel_window.ts";
import {
  commitCandidate,
  markLost,
  type PreviousSighting,
  restoreVelocity,
  startTrack,
} from "./track_update.ts";

/** Default largest number of objects held (tracked and lost). */
export const DEFAULT_MAX_OBJECTS = 255;

/** Frames the expected box of a lost object is extrapolated for at most. */
const MAX_EXTRAPOLATION = 30;

/** A read-only snapshot of one object, as of the current frame. */
export interface TrackedObjectView {
  readonly id: number;
  readonly label?: string;
  /** `tracked`: drawn on the current frame; `lost`: not drawn. */
  readonly status: ObjectStatus;
  /** The mask on the current frame (tracked) or the last mask before it was lost (lost). Do not modify. */
  readonly mask: BinaryMask;
  /** Tight box of `mask`, `[x0, y0, x1, y1]`. */
  readonly box: BoxXyxy;
  /** Area of `mask` in pixels. */
  readonly area: number;
  /** Low-res logits (`LOW_RES_SIDE`^2) of the output `mask` came from. Do not modify. */
  readonly lowResLogits: Float32Array;
  /** Predicted IoU of that output. */
  readonly score: number;
  /** Box velocity in pixels per frame. */
  readonly velocity: Velocity;
  /** Where the object should be on the current frame: `box` when tracked; for a lost object its last reliable box moved by its velocity. */
  readonly expectedBox: BoxXyxy;
  /** Usual area when fully visible (0 when unknown). */
  readonly referenceArea: number;
  /** Last frame it was drawn on (-1 if never). */
  readonly lastSeenFrame: number;
  /** For a lost object: the frame it was lost on and why. */
  readonly lostSince?: number;
  readonly lossReason?: LossReason;
}

/** Per-frame context the tracker sets while outside updates are allowed. */
interface UpdateWindow {
  readonly frame: Frame;
  readonly sightings: ReadonlyMap<
    number,
    PreviousSighting & { velocity: Velocity; known: boolean }
  >;
  readonly updated: Map<number, FrameCandidate>;
}

/**
 * All objects of a tracking run. The tracker owns it; during a discovery step (see
 * `DiscoveryStep`) the step may read {@link objects} and call {@link refresh}, {@link reacquire}
 * and {@link add}; the changes show on the current frame's output (overlaps with other objects
 * are then resolved by logits) and carry on to the next frames.
 *
 * @example
 * ```ts
 * const discovery: DiscoveryStep = {
 *   runsOn: (frameIndex) => frameIndex % 30 === 0,
 *   discover: ({ state }) => {
 *     for (const found of everythingMasks) {
 *       const match = state.objects().find((o) => maskIou(o.mask, found.mask) >= 0.5);
 *       if (match?.status === "tracked") state.refresh(match.id, found);
 *       else if (match) state.reacquire(match.id, found);
 *       else state.add(found);
 *     }
 *   },
 * };
 * ```
 */
export class TrackerState {
  readonly #tracks = new Map<number, ObjectTrack>();
  /** Ids forgotten or removed: a copy refined meanwhile must not bring them back. */
  readonly #forgotten = new Set<number>();
  readonly #maxObjects: number;
  #largestId = 0;
  #frameIndex = -1;
  #window: UpdateWindow | undefined;

  /**
   * @param reservedIds ids already promised (prompts on later frames); new objects never get them
   * @param maxObjects most objects held at once, tracked and lost (default {@link DEFAULT_MAX_OBJECTS})
   */
  constructor(reservedIds: Iterable<number> = [], maxObjects: number = DEFAULT_MAX_OBJECTS) {
    for (const id of reservedIds) this.#largestId = Math.max(this.#largestId, id);
    this.#maxObjects = maxObjects;
  }

  /** Index of the frame being processed (-1 before the first). */
  get frameIndex(): number {
    return this.#frameIndex;
  }

  /** Most objects held at once. */
  get maxObjects(): number {
    return this.#maxObjects;
  }

  /** Every object (tracked and lost), by increasing id. */
  objects(): TrackedObjectView[] {
    return [...this.#tracks.values()].sort((a, b) => a.id - b.id).map((t) => this.#view(t));
  }

  /** One object, or undefined if the id is unknown. */
  object(id: number): TrackedObjectView | undefined {
    const track = this.#tracks.get(id);
    return track ? this.#view(track) : undefined;
  }

  /**
   * Colour similarity (Bhattacharyya coefficient of coarse rgb histograms, 0..1) between the
   * current frame under `mask` and object `id`'s appearance; 1 when its appearance is unknown.
   * Only during a discovery step.
   */
  similarity(id: number, mask: BinaryMask): number {
    const window = this.#requireWindow("similarity");
    const track = this.#requireTrack(id, "similarity");
    const { bounds } = maskExtent(mask, fullWindow(mask));
    return histogramSimilarity(colourHistogram(window.frame, mask, bounds), track.appearance);
  }

  /**
   * Replaces the current frame's mask of object `id` by `observation` (for example a better mask
   * an everything pass found). On a lost object it acts as {@link reacquire}. An empty mask is
   * ignored. Only during a discovery step; throws for an unknown id.
   */
  refresh(id: number, observation: Observation): void {
    const window = this.#requireWindow("refresh");
    const track = this.#requireTrack(id, "refresh");
    const candidate = candidateFromObservation(id, observation, window.frame, "observation");
    if (candidate.area === 0) return;
    const sighting = window.sightings.get(id);
    if (sighting) {
      // The frame's own measurement is replaced, not added to.
      restoreVelocity(track, sighting.velocity, sighting.known);
    }
    commitCandidate(track, candidate, window.frame, sighting, this.#neighbourBounds(id));
    window.updated.set(id, candidate);
  }

  /**
   * Marks lost object `id` as found again on the current frame with `observation`; it keeps its id,
   * label and motion estimate. On a tracked object it acts as {@link refresh}. An empty mask is
   * ignored. Only during a discovery step; throws for an unknown id.
   */
  reacquire(id: number, observation: Observation): void {
    this.refresh(id, observation);
  }

  /**
   * Adds a new object seen on the current frame. Its id is one more than the largest id used or
   * reserved so far (prompt ids of later frames included). When `maxObjects` objects are held,
   * the one lost the longest is forgotten to make room (a long run keeps discovering); returns
   * undefined, adding nothing, when every held object is tracked, the ids are exhausted or the
   * mask is empty. Only during a discovery step.
   */
  add(observation: Observation, label?: string): number | undefined {
    const window = this.#requireWindow("add");
    if (this.#largestId >= MAX_OBJECT_ID) return undefined;
    if (this.#tracks.size >= this.#maxObjects && !this.#forgetLongestLost()) return undefined;
    const id = this.#largestId + 1;
    const candidate = candidateFromObservation(id, observation, window.frame, "observation");
    if (candidate.area === 0) return undefined;
    this.#largestId = id;
    this.#tracks.set(id, startTrack(id, label, candidate, window.frame, "discovery"));
    window.updated.set(id, candidate);
    return id;
  }

  #forgetLongestLost(): boolean {
    let oldest: ObjectTrack | undefined;
    for (const track of this.#tracks.values()) {
      if (track.status === "lost" && (!oldest || track.lostSince < oldest.lostSince)) {
        oldest = track;
      }
    }
    if (oldest) this.remove(oldest.id);
    return oldest !== undefined;
  }

  // ---- Used by the tracker itself. ----

  /** @internal The mutable state of every object. */
  tracks(): IterableIterator<ObjectTrack> {
    return this.#tracks.values();
  }

  /** @internal */
  track(id: number): ObjectTrack | undefined {
    return this.#tracks.get(id);
  }

  /** @internal Puts (or replaces) an object's state. */
  setTrack(track: ObjectTrack): void {
    this.#tracks.set(track.id, track);
    this.#largestId = Math.max(this.#largestId, track.id);
  }

  /** @internal Forgets an object (its id is not reused). */
  remove(id: number): void {
    this.#tracks.delete(id);
    this.#forgotten.add(id);
  }

  /**
   * @internal A copy to refine in the background: every object's state is copied (its masks and
   * arrays are shared: they are replaced, never written to).
   */
  copy(): TrackerState {
    const copy = new TrackerState([], this.#maxObjects);
    for (const [id, track] of this.#tracks) {
      copy.#tracks.set(id, { ...track });
    }
    for (const id of this.#forgotten) copy.#forgotten.add(id);
    copy.#largestId = this.#largestId;
    copy.#frameIndex = this.#frameIndex;
    return copy;
  }

  /**
   * @internal Takes over what `other` (a {@link copy} refined on an earlier frame) decided later
   * than this state: of each object the copy with the later `decidedFrame` (this one's on a tie),
   * the objects `other` added, and none it or this state forgot.
   */
  merge(other: TrackerState): void {
    for (const id of other.#forgotten) this.remove(id);
    for (const [id, theirs] of other.#tracks) {
      if (this.#forgotten.has(id)) continue;
      const mine = this.#tracks.get(id);
      if (mine && mine.decidedFrame >= theirs.decidedFrame) continue;
      this.#tracks.set(id, { ...theirs });
    }
    this.#largestId = Math.max(this.#largestId, other.#largestId);
  }

  /** @internal Starts processing a frame. */
  beginFrame(frameIndex: number): void {
    this.#frameIndex = frameIndex;
  }

  /**
   * @internal Opens the discovery step of the current frame. `sightings` are the objects drawn on
   * the previous processed frame, with their bounds and motion before this frame's update.
   */
  beginUpdates(
    frame: Frame,
    sightings: ReadonlyMap<number, PreviousSighting & { velocity: Velocity; known: boolean }>,
  ): void {
    this.#window = { frame, sightings, updated: new Map() };
  }

  /** @internal Closes the discovery step; returns the masks it set, by object id. */
  endUpdates(): Map<number, FrameCandidate> {
    const updated = this.#window?.updated ?? new Map();
    this.#window = undefined;
    return updated;
  }

  /** @internal Marks an object lost. */
  lose(id: number, reason: LossReason): void {
    const track = this.#tracks.get(id);
    if (track) markLost(track, reason, this.#frameIndex);
  }

  #neighbourBounds(id: number): PixelWindow[] {
    const bounds: PixelWindow[] = [];
    for (const t of this.#tracks.values()) {
      if (t.id !== id && t.status === "tracked" && t.lastSeenFrame === this.#frameIndex) {
        bounds.push(t.bounds);
      }
    }
    return bounds;
  }

  #requireWindow(method: string): UpdateWindow {
    if (!this.#window) {
      throw new Error(`TrackerState.${method} is only allowed during a discovery step`);
    }
    return this.#window;
  }

  #requireTrack(id: number, method: string): ObjectTrack {
    const track = this.#tracks.get(id);
    if (!track) throw new RangeError(`TrackerState.${method}: no object with id ${id}`);
    return track;
  }

  #view(t: ObjectTrack): TrackedObjectView {
    const box = windowToBox(t.bounds);
    const travel = Math.min(MAX_EXTRAPOLATION, Math.max(0, this.#frameIndex - t.referenceFrame));
    const expectedBox = t.status === "tracked"
      ? box
      : predictBox(windowToBox(t.referenceBounds), t.velocity, travel);
    return {
      id: t.id,
      ...(t.label !== undefined ? { label: t.label } : {}),
      status: t.status,
      mask: t.mask,
      box,
      area: t.area,
      lowResLogits: t.lowResLogits,
      score: t.score,
      velocity: t.velocity,
      expectedBox,
      referenceArea: t.referenceArea,
      lastSeenFrame: t.lastSeenFrame,
      ...(t.status === "lost" ? { lostSince: t.lostSince, lossReason: t.lossReason } : {}),
    };
  }
}

function fullWindow(mask: BinaryMask): PixelWindow {
  return { x0: 0, y0: 0, x1: mask.width, y1: mask.height };
}

/** A candidate owning a copy of an outside observation's mask. */
function candidateFromObservation(
  id: number,
  observation: Observation,
  frame: Frame,
  source: FrameCandidate["source"],
): FrameCandidate {
  const { mask, lowResLogits, score } = observation;
  if (mask.width !== frame.width || mask.height !== frame.height) {
    throw new RangeError(
      `observation mask is ${mask.width}x${mask.height}, the frame is ${frame.width}x${frame.height}`,
    );
  }
  if (lowResLogits.length !== LOW_RES_SIDE * LOW_RES_SIDE) {
    throw new RangeError(
      `observation lowResLogits must hold ${LOW_RES_SIDE * LOW_RES_SIDE} values`,
    );
  }
  const copy = { width: mask.width, height: mask.height, data: mask.data.slice() };
  // The whole mask is scanned: an observation's box is not trusted to be tight.
  const extent = maskExtent(copy, fullWindow(mask));
  return {
    id,
    source,
    mask: copy,
    area: extent.area,
    bounds: extent.bounds,
    score: Math.max(0, Math.min(1, score)),
    lowResLogits,
    priority: 0,
  };
}
