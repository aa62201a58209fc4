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
 * by the motion measured in the meantime. One tracking refinement is under way at a time, and user
 * prompts wait for it to land (so that their copy starts from it). Discovery passes run in a lane
 * of their own, on the segmenter's background priority where it has one: a pass takes far longer
 * than a refinement (hundreds of prompts), and tracking goes on meanwhile. A pass due while the
 * previous one is still running starts once it has landed; the scheduled passes that never started
 * are counted. Each copy that lands adds what it decided later than the tracker (see
 * `ObjectTracker.adopt`), so a pass's finds and the refinements made meanwhile both stay.
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
import { searchesOn } from "./search_area.ts";
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
  /** Whether it applies user prompts (a discovery pass waits for those to land). */
  readonly prompted: boolean;
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
   * Discovery (everything) passes started, and how many frames after they were due: live, a pass
   * waits for user prompts under way to land, and one due while the previous pass still runs
   * starts once that has landed.
   */
  readonly discoveryPasses: number;
  readonly meanDiscoveryDelay: number;
  readonly maxDiscoveryDelay: number;
  /**
   * Scheduled passes that never started because the previous pass was still running (counted for
   * a discovery step with a period, `DiscoveryStep.every`).
   */
  readonly discoverySkipped: number;
  /** Passes landed (live), and how many frames they took from start to landing (mean). */
  readonly discoveriesLanded: number;
  readonly meanDiscoveryFrames: number;
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
  /** Tracking refinements under way (asynchronous refinement). */
  #pending: PendingRefinement[] = [];
  /** The discovery pass under way (asynchronous refinement). */
  #discovering: PendingRefinement | undefined;
  #folded = 0;
  #foldDelay = 0;
  /** The frame the next discovery pass became due on, while it waits. */
  #discoveryDueSince: number | undefined;
  #discoveryPasses = 0;
  #discoveryDelay = 0;
  #maxDiscoveryDelay = 0;
  #discoverySkipped = 0;
  /** The frame the last discovery pass started on. */
  #lastDiscoveryStart: number | undefined;
  #discoveriesLanded = 0;
  #discoveryFrames = 0;

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
      discoverySkipped: this.#discoverySkipped,
      discoveriesLanded: this.#discoveriesLanded,
      meanDiscoveryFrames: this.#discoveriesLanded > 0
        ? this.#discoveryFrames / this.#discoveriesLanded
        : 0,
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
    // A discovery pass and a tracking refinement starting on the same frame share one embedding.
    let embedding: Promise<FrameEmbedding> | undefined;
    const encode = () => {
      if (!embedding) {
        this.#encoded++;
        embedding = embed ? embed() : this.#segmenter.embed(frame);
      }
      return embedding;
    };
    const index = frame.index;
    if (this.#policy.everyFrame) {
      this.#count(index, "stride");
      if (tracker.discoversOn(index)) this.#discoveryStarts(index, index);
      return await tracker.step(frame, encode);
    }
    this.#propagator.observe(frame);
    if (this.#async && this.#pending.length > 0 && tracker.promptsDue(index)) {
      // User prompts go to a copy forked from the state as refined so far: a refinement under way
      // must land first, or taking over a later one would drop it together with its objects.
      await Promise.all(this.#pending.map((p) => p.done));
    }
    if (this.#async) this.#foldFinished(frame);
    const due = tracker.discoversOn(index);
    // (While a pass runs, the next one is due by the schedule, not from when it is seen due.)
    if (due && !this.#discovering) this.#discoveryDueSince ??= index;
    const forced = !this.#started || tracker.promptsDue(index) || (due && !this.#async);
    const carried = this.#started ? tracker.carry(frame, this.#propagator) : undefined;
    this.#started = true;
    // Live, a pass starts from a state that has every user prompt given so far.
    if (
      this.#async && due && !this.#discovering && !this.#pending.some((p) => p.prompted) &&
      !tracker.promptsDue(index)
    ) {
      this.#discoveryStarts(this.#discoveryDueSince!, index);
      this.#discovering = this.#refineInBackground(frame, encode, "discovery");
    }
    if (this.#async && this.#pending.length > 0) return carried!.masks;
    const reason = this.#policy.decide({
      frameIndex: index,
      forced,
      carried: carried?.carried ?? [],
      searching: this.#searching(index),
    });
    if (!reason) return carried!.masks;
    this.#count(index, reason);
    if (!this.#async) {
      if (due) this.#discoveryStarts(this.#discoveryDueSince!, index);
      return await tracker.step(frame, encode);
    }
    this.#pending.push(this.#refineInBackground(frame, encode, "tracking"));
    return carried?.masks ?? frameMasksOf(frame, []);
  }

  /**
   * Waits for the refinements under way (at the end of a stream, so that none still uses the
   * segmenter when it is released); their results are not used.
   */
  async settle(): Promise<void> {
    await Promise.all(
      [...this.#pending, ...(this.#discovering ? [this.#discovering] : [])].map((p) => p.done),
    );
    this.#pending = [];
    this.#discovering = undefined;
  }

  /**
   * Starts refining `frame` on a copy of the tracker as of now: a tracking copy (with the user
   * prompts due) or a discovery copy (on the segmenter's background priority, if it has one).
   */
  #refineInBackground(
    frame: Frame,
    encode: () => Promise<FrameEmbedding>,
    lane: "tracking" | "discovery",
  ): PendingRefinement {
    const discovers = lane === "discovery";
    const prompts = discovers ? [] : this.#tracker.takePrompts(frame.index);
    const fork = discovers
      ? this.#tracker.fork([], { segmenter: this.#segmenter.background ?? this.#segmenter })
      : this.#tracker.fork(prompts, { discovery: false });
    const pending: PendingRefinement = {
      frameIndex: frame.index,
      fork,
      marks: this.#propagator.mark(),
      prompted: prompts.length > 0,
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
    return pending;
  }

  /**
   * Takes over the newest finished tracking refinement (older ones are dropped, finished or not)
   * and a finished discovery pass, oldest keyframe first, and moves what they decided on to the
   * frame before `frame`. A failed refinement fails the stream.
   */
  #foldFinished(frame: Frame): void {
    const landed: PendingRefinement[] = [];
    let newest = -1;
    this.#pending.forEach((p, i) => {
      if (p.finished) newest = i;
    });
    if (newest >= 0) {
      const refined = this.#pending[newest];
      this.#pending = this.#pending.slice(newest + 1);
      this.#folded++;
      this.#foldDelay += frame.index - refined.frameIndex;
      landed.push(refined);
    }
    if (this.#discovering?.finished) {
      const pass = this.#discovering;
      this.#discovering = undefined;
      this.#discoveriesLanded++;
      this.#discoveryFrames += frame.index - pass.frameIndex;
      landed.push(pass);
    }
    landed.sort((a, b) => a.frameIndex - b.frameIndex);
    for (const refined of landed) {
      if (refined.error !== undefined) throw refined.error;
      this.#tracker.adopt(refined.fork);
      this.#propagator.fastForward(this.#tracker.state, refined.marks);
    }
  }

  /**
   * Counts a pass starting on `frameIndex`, first seen due on `seenDue`. With a period, a pass is
   * due one period after the last one started; the scheduled passes that fell while it could not
   * start are skipped, and its delay counts from the last of them.
   */
  #discoveryStarts(seenDue: number, frameIndex: number): void {
    const every = this.#options.discovery?.every;
    const last = this.#lastDiscoveryStart;
    const dueSince = every && last !== undefined ? Math.min(seenDue, last + every) : seenDue;
    const waited = frameIndex - dueSince;
    const skipped = every ? Math.floor(waited / every) : 0;
    const delay = waited - skipped * (every ?? 0);
    this.#lastDiscoveryStart = frameIndex;
    this.#discoveryPasses++;
    this.#discoverySkipped += skipped;
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
