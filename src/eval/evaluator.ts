/**
 * Video object segmentation scores over a sequence, frame by frame: DAVIS J (region IoU), F
 * (boundary F-measure) and J&F per ground-truth object and their means, plus identity switches
 * and masks drawn while the object is absent.
 *
 * Conventions:
 * - Objects are matched by id (a prediction's id k is scored against ground-truth object k), as
 *   in DAVIS semi-supervised evaluation; prompts carry the ground-truth ids.
 * - Every ground-truth frame is scored for every ground-truth object, including frames where the
 *   object is absent: an empty prediction there scores J = F = 1, any drawn pixel J = F = 0.
 *   Unlike DAVIS 2017, the first and last frames are kept (prompts are points and boxes, not
 *   the first frame's mask).
 * - J recall / F recall: the fraction of frames scoring above 0.5.
 * - Identity switch: for a ground-truth object on a frame where it is visible, its *match* is the
 *   predicted id (any id) with the highest IoU against it, if that IoU is at least 0.5; a switch
 *   is counted each time the match differs from the object's previous match (frames without a
 *   match are skipped, so losing an object and finding it again under the same id is no switch).
 * - Drawn while absent: frames where the object is absent from the ground truth but the
 *   prediction with its id has pixels; `drawnAfterLeft` counts those after its last visible frame.
 * @module
 */
import { boundaryFMeasure, boundaryTolerance, DAVIS_BOUND_THRESHOLD } from "./boundary.ts";
import { regionSimilarity } from "./region.ts";

/** One frame's masks by object id (row-major, non-zero = foreground). */
export interface FrameObjects {
  readonly frameIndex: number;
  readonly width: number;
  readonly height: number;
  readonly masks: ReadonlyMap<number, Uint8Array>;
}

/** Scores of one ground-truth object. */
export interface ObjectScores {
  readonly id: number;
  /** Frames scored (all ground-truth frames). */
  readonly frames: number;
  /** Frames where the ground-truth object has pixels. */
  readonly visibleFrames: number;
  readonly jMean: number;
  readonly jRecall: number;
  readonly fMean: number;
  readonly fRecall: number;
  /** `(jMean + fMean) / 2`. */
  readonly jfMean: number;
  readonly idSwitches: number;
  readonly drawnWhileAbsent: number;
  readonly drawnAfterLeft: number;
  /** Per-frame J and F, in ground-truth frame order. */
  readonly perFrame: { readonly frame: number; readonly j: number; readonly f: number }[];
}

/** Scores of a whole sequence. */
export interface SequenceScores {
  readonly frames: number;
  readonly width: number;
  readonly height: number;
  /** Boundary match tolerance in pixels. */
  readonly boundaryTolerancePx: number;
  /** Mean over objects of their `jMean`. */
  readonly jMean: number;
  readonly fMean: number;
  /** `(jMean + fMean) / 2`, as DAVIS' `J&F-Mean`. */
  readonly jfMean: number;
  readonly idSwitches: number;
  readonly drawnWhileAbsent: number;
  readonly drawnAfterLeft: number;
  readonly objects: readonly ObjectScores[];
  /** Predicted ids that never appear in the ground truth (not scored). */
  readonly predictionOnlyIds: readonly number[];
}

interface Track {
  readonly perFrame: { frame: number; j: number; f: number }[];
  visibleFrames: number;
  lastVisible: number;
  lastMatch: number | undefined;
  idSwitches: number;
  readonly drawnAbsentFrames: number[];
}

const MATCH_IOU = 0.5;

/**
 * Accumulates scores frame by frame (ground-truth frames in order), so a long sequence is never
 * held in memory.
 *
 * @example
 * ```ts
 * const evaluator = new SequenceEvaluator();
 * for (const [gt, pred] of pairs) evaluator.addFrame(gt, pred);
 * const scores = evaluator.finish();
 * ```
 */
export class SequenceEvaluator {
  readonly #boundThreshold: number;
  readonly #tracks = new Map<number, Track>();
  readonly #predictionIds = new Set<number>();
  readonly #gtIds = new Set<number>();
  #frames: number[] = [];
  #width = 0;
  #height = 0;

  /** @param boundThreshold DAVIS boundary tolerance (fraction of the diagonal, or pixels if >= 1). */
  constructor(boundThreshold: number = DAVIS_BOUND_THRESHOLD) {
    this.#boundThreshold = boundThreshold;
  }

  /**
   * Scores one ground-truth frame against the prediction for the same frame (an empty
   * prediction when `prediction` is undefined). Throws when sizes disagree.
   */
  addFrame(groundTruth: FrameObjects, prediction?: FrameObjects): void {
    const { width, height, frameIndex } = groundTruth;
    if (this.#frames.length === 0) {
      this.#width = width;
      this.#height = height;
    } else if (width !== this.#width || height !== this.#height) {
      throw new Error(
        `ground-truth frame ${frameIndex} is ${width}x${height}, earlier frames are ${this.#width}x${this.#height}`,
      );
    }
    if (prediction && (prediction.width !== width || prediction.height !== height)) {
      throw new Error(
        `prediction frame ${frameIndex} is ${prediction.width}x${prediction.height}, ground truth is ${width}x${height}`,
      );
    }
    const predMasks = prediction?.masks ?? new Map<number, Uint8Array>();
    // Predicted ids get tracks too, so one drawn before its object first appears is scored there.
    for (const [id, mask] of predMasks) {
      if (!nonEmpty(mask)) continue;
      this.#predictionIds.add(id);
      if (!this.#tracks.has(id)) this.#tracks.set(id, this.#newTrack());
    }
    for (const [id, mask] of groundTruth.masks) {
      if (!nonEmpty(mask)) continue;
      this.#gtIds.add(id);
      if (!this.#tracks.has(id)) this.#tracks.set(id, this.#newTrack());
    }
    const empty = new Uint8Array(width * height);
    for (const [id, track] of this.#tracks) {
      const gt = groundTruth.masks.get(id) ?? empty;
      const pred = predMasks.get(id) ?? empty;
      const gtVisible = gt !== empty && nonEmpty(gt);
      const predDrawn = pred !== empty && nonEmpty(pred);
      let j = 1, f = 1;
      if (gtVisible || predDrawn) {
        j = regionSimilarity(gt, pred);
        f = boundaryFMeasure(gt, pred, width, height, this.#boundThreshold).f;
      }
      track.perFrame.push({ frame: frameIndex, j, f });
      if (gtVisible) {
        track.visibleFrames++;
        track.lastVisible = frameIndex;
        const match = bestMatch(gt, predMasks);
        if (match !== undefined) {
          if (track.lastMatch !== undefined && match !== track.lastMatch) track.idSwitches++;
          track.lastMatch = match;
        }
      } else if (predDrawn) {
        track.drawnAbsentFrames.push(frameIndex);
      }
    }
    this.#frames.push(frameIndex);
  }

  /** The scores of everything added so far. Throws when no frame was added. */
  finish(): SequenceScores {
    if (this.#frames.length === 0) throw new Error("no ground-truth frames to evaluate");
    const objects: ObjectScores[] = [...this.#tracks.entries()]
      .filter(([id]) => this.#gtIds.has(id))
      .sort(([a], [b]) => a - b)
      .map(([id, track]) => {
        const js = track.perFrame.map((s) => s.j), fs = track.perFrame.map((s) => s.f);
        const jMean = mean(js), fMean = mean(fs);
        return {
          id,
          frames: track.perFrame.length,
          visibleFrames: track.visibleFrames,
          jMean,
          jRecall: mean(js.map((j) => (j > 0.5 ? 1 : 0))),
          fMean,
          fRecall: mean(fs.map((f) => (f > 0.5 ? 1 : 0))),
          jfMean: (jMean + fMean) / 2,
          idSwitches: track.idSwitches,
          drawnWhileAbsent: track.drawnAbsentFrames.length,
          drawnAfterLeft: track.drawnAbsentFrames.filter((t) => t > track.lastVisible).length,
          perFrame: track.perFrame,
        };
      });
    const jMean = mean(objects.map((o) => o.jMean));
    const fMean = mean(objects.map((o) => o.fMean));
    return {
      frames: this.#frames.length,
      width: this.#width,
      height: this.#height,
      boundaryTolerancePx: boundaryTolerance(this.#width, this.#height, this.#boundThreshold),
      jMean,
      fMean,
      jfMean: (jMean + fMean) / 2,
      idSwitches: sum(objects.map((o) => o.idSwitches)),
      drawnWhileAbsent: sum(objects.map((o) => o.drawnWhileAbsent)),
      drawnAfterLeft: sum(objects.map((o) => o.drawnAfterLeft)),
      objects,
      predictionOnlyIds: [...this.#predictionIds].filter((id) => !this.#gtIds.has(id)).sort((
        a,
        b,
      ) => a - b),
    };
  }

  /** A track for an id first seen now: every earlier frame had it absent in both, so J = F = 1. */
  #newTrack(): Track {
    return {
      perFrame: this.#frames.map((frame) => ({ frame, j: 1, f: 1 })),
      visibleFrames: 0,
      lastVisible: -1,
      lastMatch: undefined,
      idSwitches: 0,
      drawnAbsentFrames: [],
    };
  }
}

/** The predicted id overlapping `gt` best, if its IoU reaches `MATCH_IOU`. */
function bestMatch(
  gt: Uint8Array,
  predictions: ReadonlyMap<number, Uint8Array>,
): number | undefined {
  let best: number | undefined, bestIou = 0;
  for (const [id, pred] of predictions) {
    const iou = regionSimilarity(gt, pred);
    if (iou >= MATCH_IOU && (iou > bestIou || (iou === bestIou && id < best!))) {
      best = id;
      bestIou = iou;
    }
  }
  return best;
}

function nonEmpty(mask: Uint8Array): boolean {
  for (let i = 0; i < mask.length; i++) if (mask[i] !== 0) return true;
  return false;
}

function mean(values: readonly number[]): number {
  return values.length === 0 ? NaN : sum(values) / values.length;
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
