/**
 * The tracker with keyframes: the image encoder runs only on the frames a {@link KeyframePolicy}
 * picks; on the others every tracked object is carried forward by its measured motion, and on the
 * next keyframe the carried masks become the prompts the model refines (box, inner point, moved
 * low-res logits as mask input). User prompts and discovery passes always fall on keyframes. With
 * a policy that picks every frame it is exactly the frame-by-frame tracker.
 * @module
 */
import type { Frame } from "../../frame.ts";
import type { FrameMasks } from "../mask.ts";
import type { ObjectPrompt } from "../prompts.ts";
import type { FrameEmbedding, Segmenter } from "../segmenter.ts";
import type { KeyframePolicy, KeyframeReason } from "./keyframe_policy.ts";
import { MotionPropagator, type PropagationOptions } from "./motion_propagation.ts";
import { ObjectTracker, type TrackerOptions } from "./object_tracker.ts";
import { searchesOn } from "./reacquisition.ts";
import type { TrackerState } from "./tracker_state.ts";

/** How keyframes are chosen and objects carried between them. */
export interface KeyframeOptions {
  readonly policy: KeyframePolicy;
  readonly propagation?: PropagationOptions;
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
    };
  }

  /**
   * Tracks the objects on the next frame: carries them by motion, then refines them with the
   * model if the policy makes this frame a keyframe. `embed` supplies the frame's embedding when
   * it is a keyframe (default: the segmenter's `embed`).
   */
  async step(
    frame: Frame,
    embed?: (frame: Frame) => Promise<FrameEmbedding>,
  ): Promise<FrameMasks> {
    this.#frames++;
    const tracker = this.#tracker;
    const encode = () => {
      this.#encoded++;
      return embed ? embed(frame) : this.#segmenter.embed(frame);
    };
    if (this.#policy.everyFrame) {
      this.#count(frame.index, "stride");
      return await tracker.step(frame, encode);
    }
    this.#propagator.observe(frame);
    const index = frame.index;
    const forced = !this.#started || tracker.promptsDue(index) || tracker.discoversOn(index);
    const carried = this.#started ? tracker.carry(frame, this.#propagator) : undefined;
    this.#started = true;
    const reason = this.#policy.decide({
      frameIndex: index,
      forced,
      carried: carried?.carried ?? [],
      searching: this.#searching(index),
    });
    if (!reason) return carried!.masks;
    this.#count(index, reason);
    return await tracker.step(frame, encode);
  }

  #count(frameIndex: number, reason: KeyframeReason): void {
    this.#policy.encoded(frameIndex);
    this.#keyframes++;
    this.#reasons[reason] = (this.#reasons[reason] ?? 0) + 1;
  }

  /** Lost objects a keyframe on `frameIndex` would search for. */
  #searching(frameIndex: number): number {
    let count = 0;
    for (const t of this.#tracker.state.tracks()) {
      if (t.status === "lost" && searchesOn(t.lostSince, frameIndex, this.#options.reacquisition)) {
        count++;
      }
    }
    return count;
  }
}
