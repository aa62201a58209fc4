/**
 * What the tracker remembers about one object between frames.
 * @module
 */
import type { BinaryMask, BoxXyxy } from "../mask.ts";
import type { PixelWindow } from "../geometry/pixel_window.ts";

/** `tracked`: drawn on the current frame; `lost`: not drawn, its last state kept for re-acquisition. */
export type ObjectStatus = "tracked" | "lost";

/** Why an object stopped being drawn. */
export type LossReason =
  /** The decoder returned nothing. */
  | "empty"
  /** What is left is a sliver of the object's usual area (typically occluded). */
  | "too-small"
  /** The chosen output's predicted IoU is below the threshold. */
  | "low-score"
  /** The area grew or shrank implausibly from one frame to the next. */
  | "area-jump"
  /** The mask's centre is far from where the motion estimate put it. */
  | "position-jump"
  /** The mask's colours no longer match the object's. */
  | "appearance"
  /** The object's predicted box is (mostly) outside the frame. */
  | "left-frame"
  /** Another object's mask took its pixels. */
  | "overlapped";

/** Velocity of an object's box, in frame pixels per frame. */
export interface Velocity {
  readonly x: number;
  readonly y: number;
}

/**
 * One object's state: the latest mask and what is derived from it. Tracker-internal and mutable;
 * other code reads it through `TrackerState` views.
 */
export interface ObjectTrack {
  readonly id: number;
  label?: string;
  status: ObjectStatus;
  /** Latest accepted full-frame mask; for a lost object, the last one before it was lost. */
  mask: BinaryMask;
  /** Tight window of `mask`. */
  bounds: PixelWindow;
  area: number;
  /** Low-res logits (`LOW_RES_SIDE`^2) of the output that produced `mask`, fed back as `maskInput`. */
  lowResLogits: Float32Array;
  /** Predicted IoU of that output, in [0, 1]. */
  score: number;
  velocity: Velocity;
  /** Whether `velocity` has been measured at least once. */
  velocityKnown: boolean;
  /** Smoothed area of the object when fully visible (0 when unknown). */
  referenceArea: number;
  /** Bounds of the last observation that showed (most of) the object, and its frame. */
  referenceBounds: PixelWindow;
  referenceFrame: number;
  /**
   * Appearance memory, from the frames that showed most of the object: its normalised colour
   * histogram (empty array when unknown)...
   */
  appearance: Float32Array;
  /**
   * ...and, where the segmenter describes regions (`Segmenter.describe`), its unit-length
   * descriptor (empty array when unknown).
   */
  descriptor: Float32Array;
  /** Last frame on which the object was drawn (-1 if never). */
  lastSeenFrame: number;
  /** Frame on which the object was lost (when `status` is `lost`). */
  lostSince: number;
  /**
   * The last frame on which the model, a discovery or the motion estimate decided where the object
   * is or that it is lost (being carried along by motion is no decision). Of two copies of the
   * tracker that refined different frames, the later decision about each object is kept.
   */
  decidedFrame: number;
  lossReason?: LossReason;
  /** Frames since a prompt, a correction or a re-acquisition (re)started the object. */
  trackedFrames: number;
  /**
   * Who started the object: a user prompt (or correction), or a discovery step. A user prompt
   * on a discovered object takes it over; user objects are never taken over.
   */
  origin: TrackOrigin;
}

/** See {@link ObjectTrack.origin}. */
export type TrackOrigin = "prompt" | "discovery";

/**
 * An object seen on the current frame by someone other than the tracker's propagation, e.g. an
 * everything pass: its mask at frame resolution, the low-res logits of the output it came from
 * (fed back as `maskInput` on the next frame) and the predicted IoU.
 */
export interface Observation {
  readonly mask: BinaryMask;
  /** `LOW_RES_SIDE`^2 logits of the output the mask was upscaled from. */
  readonly lowResLogits: Float32Array;
  /** Predicted IoU in [0, 1]. */
  readonly score: number;
  /** Box of the mask `[x0, y0, x1, y1]`, informative only (the tracker measures the mask itself). */
  readonly box?: BoxXyxy;
}
