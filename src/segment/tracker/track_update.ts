/**
 * How an object's state changes: when a mask is accepted for it on a frame (a fresh prompt, a
 * propagated mask, a re-acquisition or an outside observation), when measured motion carries it
 * to a frame without the model, when another object takes some of its pixels, and when it is
 * lost. This is the only module that writes an `ObjectTrack`.
 * @module
 */
import type { Frame } from "../../frame.ts";
import { blendDescriptors, blendHistograms } from "./appearance.ts";
import { candidateAppearance, type FrameCandidate } from "./frame_candidate.ts";
import { blockedEdges, updateVelocity } from "./motion.ts";
import type { LossReason, ObjectTrack, TrackOrigin, Velocity } from "./object_state.ts";
import type { PixelWindow } from "../geometry/pixel_window.ts";

/** Weight of a new observation in the running appearance. */
const APPEARANCE_RATE = 0.1;

/**
 * A new object state from its first accepted mask (a prompt, a correction or an outside
 * observation of a new object). A correction replaces everything: motion, reference size and
 * appearance start afresh.
 */
export function startTrack(
  id: number,
  label: string | undefined,
  candidate: FrameCandidate,
  frame: Frame,
  origin: TrackOrigin,
): ObjectTrack {
  return {
    id,
    label,
    status: "tracked",
    mask: candidate.mask,
    bounds: candidate.bounds,
    area: candidate.area,
    lowResLogits: candidate.lowResLogits,
    score: candidate.score,
    velocity: { x: 0, y: 0 },
    velocityKnown: false,
    referenceArea: candidate.area,
    referenceBounds: candidate.bounds,
    referenceFrame: frame.index,
    appearance: candidateAppearance(candidate, frame),
    descriptor: candidate.descriptor ?? new Float32Array(0),
    lastSeenFrame: frame.index,
    lostSince: -1,
    decidedFrame: frame.index,
    trackedFrames: 1,
    origin,
  };
}

/**
 * A state for an object whose prompt found nothing: lost from the start, searched for around
 * `where` (the prompt's box or points).
 */
export function startLostTrack(
  id: number,
  label: string | undefined,
  candidate: FrameCandidate,
  where: PixelWindow,
  frameIndex: number,
): ObjectTrack {
  return {
    id,
    label,
    status: "lost",
    mask: candidate.mask,
    bounds: where,
    area: 0,
    lowResLogits: candidate.lowResLogits,
    score: candidate.score,
    velocity: { x: 0, y: 0 },
    velocityKnown: false,
    referenceArea: 0,
    referenceBounds: where,
    referenceFrame: frameIndex,
    appearance: new Float32Array(0),
    descriptor: new Float32Array(0),
    lastSeenFrame: -1,
    lostSince: frameIndex,
    decidedFrame: frameIndex,
    lossReason: "empty",
    trackedFrames: 0,
    origin: "prompt",
  };
}

/** Where an object was on the previous processed frame, for measuring its motion. */
export interface PreviousSighting {
  readonly frameIndex: number;
  readonly bounds: PixelWindow;
}

/**
 * Accepts `candidate` as the object's mask on `frame`. The velocity is measured only when the
 * object was drawn on the previous processed frame (`previous`); the reference size, its box and
 * the appearance memory (colours, and the descriptor when the candidate has one) are updated only
 * from masks that show most of the object.
 *
 * @param neighbours bounds of the other objects on this frame (edges touching them are not trusted for motion)
 */
export function commitCandidate(
  track: ObjectTrack,
  candidate: FrameCandidate,
  frame: Frame,
  previous: PreviousSighting | undefined,
  neighbours: readonly PixelWindow[],
): void {
  const { width, height } = frame;
  if (previous) {
    const previousBounds = previous.bounds;
    const motion = updateVelocity(
      track.velocity,
      track.velocityKnown,
      previousBounds,
      candidate.bounds,
      blockedEdges(previousBounds, neighbours, width, height),
      blockedEdges(candidate.bounds, neighbours, width, height),
      Math.max(1, frame.index - previous.frameIndex),
    );
    track.velocity = motion.velocity;
    track.velocityKnown = motion.known;
  }
  const area = candidate.area, reference = track.referenceArea;
  if (reference === 0 || (area > reference && area <= 1.6 * reference)) {
    track.referenceArea = area;
  } else if (area >= 0.8 * reference && area <= reference) {
    track.referenceArea = 0.9 * reference + 0.1 * area;
  }
  if (area >= 0.8 * track.referenceArea) {
    track.referenceBounds = candidate.bounds;
    track.referenceFrame = frame.index;
  }
  if (area >= 0.5 * track.referenceArea) {
    track.appearance = blendHistograms(
      track.appearance,
      candidateAppearance(candidate, frame),
      track.appearance.length === 0 ? 1 : APPEARANCE_RATE,
    );
    if (candidate.descriptor) {
      track.descriptor = blendDescriptors(track.descriptor, candidate.descriptor, APPEARANCE_RATE);
    }
  }
  if (track.status === "lost") track.trackedFrames = 0;
  track.status = "tracked";
  track.lossReason = undefined;
  track.lostSince = -1;
  track.mask = candidate.mask;
  track.bounds = candidate.bounds;
  track.area = area;
  track.lowResLogits = candidate.lowResLogits;
  track.score = candidate.score;
  track.lastSeenFrame = frame.index;
  track.decidedFrame = frame.index;
  track.trackedFrames++;
}

/** Marks an object lost on frame `frameIndex`; its last mask, box, motion and appearance are kept. */
export function markLost(track: ObjectTrack, reason: LossReason, frameIndex: number): void {
  if (track.status === "lost") return;
  track.status = "lost";
  track.lossReason = reason;
  track.lostSince = frameIndex;
  track.decidedFrame = frameIndex;
}

/** A mask an object was moved to by measured motion, without the model. */
export interface CarriedMask {
  readonly mask: ObjectTrack["mask"];
  readonly bounds: PixelWindow;
  readonly area: number;
  /** The object's low-res logits moved by the same motion (fed back as `maskInput`). */
  readonly lowResLogits: Float32Array;
}

/**
 * Moves a tracked object to frame `frameIndex` by measured motion (no decision: `decidedFrame`
 * stays). `velocity`, when given, is the new motion estimate.
 */
export function carryTrack(
  track: ObjectTrack,
  carried: CarriedMask,
  frameIndex: number,
  velocity?: Velocity,
): void {
  if (velocity) {
    track.velocity = velocity;
    track.velocityKnown = true;
  }
  track.mask = carried.mask;
  track.bounds = carried.bounds;
  track.area = carried.area;
  track.lowResLogits = carried.lowResLogits;
  track.lastSeenFrame = frameIndex;
}

/** Puts back a motion estimate (a frame's measurement that a later mask of it replaces). */
export function restoreVelocity(track: ObjectTrack, velocity: Velocity, known: boolean): void {
  track.velocity = velocity;
  track.velocityKnown = known;
}

/** Records what is left of the object's current mask after another object took some pixels. */
export function trimTrack(track: ObjectTrack, area: number, bounds: PixelWindow): void {
  track.area = area;
  track.bounds = bounds;
}
