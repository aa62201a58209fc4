/**
 * The tracker with keyframes: the image encoder runs only on the frames a {@link KeyframePolicy}
 * picks; on the others every tracked object is carried forward by its measured motion, and on the
 * next keyframe the carried masks become the prompts the model refines (box, inner point, moved
 * low-res logits as mask input). User prompts and discovery passes always fall on keyframes. With
 * a policy that picks every frame it is exactly the frame-by-frame tracker.
 *
 * Refinement is synchronous by default: a keyframe's masks wait for the model. Asynchronous
 * refinement (for live streams, where waiting means latency) emits every frame at once with the
 * carried masks, refines a copy of the tracker on the keyframe in the background, and when that is
 * done (some frames later) takes the refined objects over and moves them on to the current frame
 * by the motion measured in the meantime. One refinement is under way at a time: a discovery
 * pass due meanwhile waits for the encoder, and user prompts wait for the refinement under way to
 * land (so that their copy starts from it).
 * @module
 */
import type { Frame } from "../../frame.ts";
import { type FrameMasks, frameMasksOf } from "../mask.ts";
import type { ObjectPrompt } from "../prompts.ts";
import type { FrameEmbedding, Segmenter } from "../segmenter.ts";
import type { KeyframePolicy, KeyframeReason } from "./keyframe_policy.ts";
import {
  type MotionMarks,
  MotionPropagator,
  type PropagationOptions,
} from "./motion_propagation.ts";
import { ObjectTracker, type TrackerOptions } from "./object_tracker.ts";
import { searchesOn } from "./reacquisition.ts";
import type { TrackerState } from "./tracker_state.ts";

/** When a keyframe's refinement shows: on the keyframe itself, or on a later frame. */
export type RefinementMode = "sync" | "async";

/** How keyframes are chosen and objects carried between them. */
export interface KeyframeOptions {
  readonly policy: KeyframePolicy;
  readonly propagation?: PropagationOptions;
  /** `sync` (default): a keyframe's output waits for the model; `async`: see the module notes. */
  readonly refine?: RefinementMode;
}

/** A keyframe being refined in the background. */
interface PendingRefinement {
  readonly frameIndex: number;
  readonly fork: ObjectTracker;
  readonly marks: MotionMarks;
  /** Whether the refinement runs a discovery pass. */
  readonly discovers: boolean;
  /** True once the fork has refined the frame. */
  finished: boolean;
  error?: unknown;
  /** Settles when the fork has refined the frame (never rejects). */
  done: Promise<void>;
}

/** Counts of a keyframe run, for reports. */
export interface KeyframeCounts {
  readonly frames: number;
  /** Frames the policy picked. */
  readonly keyframes: number;
  /** Keyframes the encoder actually ran on (a keyframe with nothing to decode needs no embedding). */
  readonly encoded: number;
  /** Keyframes by reason. */
  readonly reasons: Readonly<Partial<Record<KeyframeReason, number>>>;
  /** Asynchronous refinements taken over, and how many frames after their keyframe (mean). */
  readonly folded: number;
  readonly meanFoldDelay: number;
  /**
   * Discovery (everything) passes started, and how many frames after they were due: a pass due
   * while a refinement is under way starts once it has landed.
   */
  readonly discoveryPasses: number;
  readonly meanDiscoveryDelay: number;
  readonly maxDiscoveryDelay: number;
}

/**
 * Follows prompted objects through frames, running the encoder on keyframes only.
 *
 * @example
 * ```ts
 * const tracker = new KeyframeTracker(segmenter, prompts, { policy: adaptiveKeyframes() });
 * for (const frame of frames) {
 *   const masks = await tracker.step(frame);
 * }
 * console.log(tracker.counts()); // { frames: 90, keyframes: 17, reasons: { travel: 12, ... } }
 * ```
 */
export class KeyframeTracker {
  readonly #tracker: ObjectTracker;
  readonly #segmenter: Segmenter;
  readonly #propagator: MotionPropagator;
  readonly #policy: KeyframePolicy;
  readonly #options: TrackerOptions;
  #frames = 0;
  #keyframes = 0;
  #encoded = 0;
  readonly #reasons: Partial<Record<KeyframeReason, number>> = {};
  #started = false;
  readonly #async: boolean;
  #pending: PendingRefinement[] = [];
  #folded = 0;
  #foldDelay = 0;
  /** The frame the next discovery pass became due on, while it waits. */
  #discoveryDueSince: number | undefined;
  #discoveryPasses = 0;
  #discoveryDelay = 0;
  #maxDiscoveryDelay = 0;

  constructor(
    segmenter: Segmenter,
    prompts: readonly ObjectPrompt[],
    options: TrackerOptions & { readonly keyframes: KeyframeOptions },
  ) {
    this.#tracker = new ObjectTracker(segmenter, prompts, options);
    this.#segmenter = segmenter;
    this.#propagator = new MotionPropagator(options.keyframes.propagation);
    this.#policy = options.keyframes.policy;
    this.#options = options;
    this.#async = options.keyframes.refine === "async";
  }

  /** The objects (see `ObjectTracker.state`). */
  get state(): TrackerState {
    return this.#tracker.state;
  }

  /** Frames and keyframes so far. */
  counts(): KeyframeCounts {
    return {
      frames: this.#frames,
      keyframes: this.#keyframes,
      encoded: this.#encoded,
      reasons: { ...this.#reasons },
      folded: this.#folded,
      meanFoldDelay: this.#folded > 0 ? this.#foldDelay / this.#folded : 0,
      discoveryPasses: this.#discoveryPasses,
      meanDiscoveryDelay: this.#discoveryPasses > 0
        ? this.#discoveryDelay / this.#discoveryPasses
        : 0,
      maxDiscoveryDelay: this.#maxDiscoveryDelay,
    };
  }

  /**
   * Tracks the objects on the next frame: carries them by motion, then refines them with the
   * model if the policy makes this frame a keyframe. `embed` supplies the frame's embedding when
   * it is a keyframe (default: the segmenter's `embed` of the frame).
   */
  async step(
    frame: Frame,
    embed?: () => Promise<FrameEmbedding>,
  ): Promise<FrameMasks> {
    this.#frames++;
    const tracker = this.#tracker;
    const encode = () => {
      this.#encoded++;
      return embed ? embed() : this.#segmenter.embed(frame);
    };
    if (this.#policy.everyFrame) {
      this.#count(frame.index, "stride");
      if (tracker.discoversOn(frame.index)) this.#discoveryStarts(frame.index, frame.index);
      return await tracker.step(frame, encode);
    }
    this.#propagator.observe(frame);
    const index = frame.index;
    if (this.#async && this.#pending.length > 0 && tracker.promptsDue(index)) {
      // User prompts go to a copy forked from the state as refined so far: a refinement under way
      // must land first, or taking over a later one would drop it together with its objects.
      await Promise.all(this.#pending.map((p) => p.done));
    }
    if (this.#async) this.#foldFinished(frame);
    // A discovery pass due while a refinement is under way waits for it (it stays due).
    // (A pass under way has not yet recorded its frame: the next one is not due before it lands.)
    const discovers = tracker.discoversOn(index) && !this.#pending.some((p) => p.discovers);
    if (discovers) this.#discoveryDueSince ??= index;
    const forced = !this.#started || tracker.promptsDue(index) ||
      (discovers && this.#pending.length === 0);
    const carried = this.#started ? tracker.carry(frame, this.#propagator) : undefined;
    this.#started = true;
    if (this.#async && this.#pending.length > 0) return carried!.masks;
    const reason = this.#policy.decide({
      frameIndex: index,
      forced,
      carried: carried?.carried ?? [],
      searching: this.#searching(index),
    });
    if (!reason) return carried!.masks;
    this.#count(index, reason);
    if (discovers) this.#discoveryStarts(this.#discoveryDueSince!, index);
    if (!this.#async) return await tracker.step(frame, encode);
    this.#refineInBackground(frame, encode, discovers);
    return carried?.masks ?? frameMasksOf(frame, []);
  }

  /**
   * Waits for the refinements under way (at the end of a stream, so that none still uses the
   * segmenter when it is released); their results are not used.
   */
  async settle(): Promise<void> {
    await Promise.all(this.#pending.map((p) => p.done));
    this.#pending = [];
  }

  /** Starts refining `frame` on a copy of the tracker as of now. */
  #refineInBackground(
    frame: Frame,
    encode: () => Promise<FrameEmbedding>,
    discovers: boolean,
  ): void {
    const fork = this.#tracker.fork(this.#tracker.takePrompts(frame.index));
    const pending: PendingRefinement = {
      frameIndex: frame.index,
      fork,
      marks: this.#propagator.mark(),
      discovers,
      finished: false,
      done: Promise.resolve(),
    };
    pending.done = fork.step(frame, encode).then(
      () => {
        pending.finished = true;
      },
      (error) => {
        pending.finished = true;
        pending.error = error;
      },
    );
    this.#pending.push(pending);
  }

  /**
   * Takes over the newest finished refinement (older ones are dropped, finished or not) and moves
   * its objects on to the frame before `frame`. A failed refinement fails the stream.
   */
  #foldFinished(frame: Frame): void {
    let newest = -1;
    this.#pending.forEach((p, i) => {
      if (p.finished) newest = i;
    });
    if (newest < 0) return;
    const refined = this.#pending[newest];
    this.#pending = this.#pending.slice(newest + 1);
    if (refined.error !== undefined) throw refined.error;
    this.#tracker.adopt(refined.fork);
    this.#folded++;
    this.#foldDelay += frame.index - refined.frameIndex;
    this.#propagator.fastForward(this.#tracker.state, refined.marks);
  }

  #discoveryStarts(dueSince: number, frameIndex: number): void {
    const delay = frameIndex - dueSince;
    this.#discoveryPasses++;
    this.#discoveryDelay += delay;
    this.#maxDiscoveryDelay = Math.max(this.#maxDiscoveryDelay, delay);
    this.#discoveryDueSince = undefined;
  }

  #count(frameIndex: number, reason: KeyframeReason): void {
    this.#policy.encoded(frameIndex);
    this.#keyframes++;
    this.#reasons[reason] = (this.#reasons[reason] ?? 0) + 1;
  }

  /** Lost objects a keyframe on `frameIndex` would search for (in the background: all of them). */
  #searching(frameIndex: number): number {
    let count = 0;
    for (const t of this.#tracker.state.tracks()) {
      if (
        t.status === "lost" &&
        (this.#async || searchesOn(t.lostSince, frameIndex, this.#options.reacquisition))
      ) {
        count++;
      }
    }
    return count;
  }
}
