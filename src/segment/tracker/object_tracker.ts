/**
 * The tracker's work on one frame: embed once; build every object's prompt (the user's prompts
 * due on this frame, a propagated prompt for each tracked object, search prompts for each lost
 * one); decode them all in one batched call; choose an output per object and upscale only that
 * one; re-acquire lost objects whose find is plausible; resolve overlaps; detect losses; update
 * the states; let an optional discovery step add or correct objects; emit the tracked masks.
 * @module
 */
import type { Frame } from "../../frame.ts";
import { type FrameMasks, frameMasksOf, type ObjectMask, type PromptMarker } from "../mask.ts";
import type { ObjectPrompt } from "../prompts.ts";
import {
  type DecodedPrompt,
  type FrameEmbedding,
  type PromptSet,
  type Segmenter,
} from "../segmenter.ts";
import { histogramSimilarity } from "./appearance.ts";
import {
  candidateAppearance,
  candidateDescriptor,
  candidateFromOutput,
  type FrameCandidate,
} from "./frame_candidate.ts";
import { detectLoss, type LossOptions } from "./loss_detection.ts";
import { cellsOfWindow, lowResGrid } from "../geometry/low_res_grid.ts";
import type { Velocity } from "./object_state.ts";
import {
  chooseFreshOutput,
  chooseTrackedOutput,
  type TrackedOutputOptions,
} from "./output_selection.ts";
import { overlapArea, resolveOverlaps } from "./overlap.ts";
import { type PixelWindow, windowFromBox, windowToXywh } from "../geometry/pixel_window.ts";
import { PromptSchedule } from "./prompt_schedule.ts";
import {
  promptFromMask,
  type PromptFromMaskOptions,
  type PromptSource,
} from "./prompt_from_mask.ts";
import type { CarriedObject, MotionPropagator } from "./motion_propagation.ts";
import { chooseFinds, type ReacquisitionOptions } from "./reacquisition.ts";
import { planSearch, type SearchPrompt } from "./search_prompts.ts";
import {
  commitCandidate,
  type PreviousSighting,
  startLostTrack,
  startTrack,
  trimTrack,
} from "./track_update.ts";
import type { ScanCursor } from "./whole_frame_scan.ts";
import { TrackerState } from "./tracker_state.ts";

/** What a discovery step gets on a frame it runs on. */
export interface DiscoveryContext {
  readonly frame: Frame;
  /** The frame's embedding (already computed: decode against it, do not embed again). */
  readonly embedding: FrameEmbedding;
  readonly segmenter: Segmenter;
  /** The objects after this frame's tracking; report finds through its methods. */
  readonly state: TrackerState;
}

/**
 * A step run between the tracker's decoding and its output on chosen frames, e.g. a periodic
 * everything pass that refreshes, re-acquires and adds objects through `context.state`.
 */
export interface DiscoveryStep {
  /** Whether the step runs on this frame. */
  runsOn(frameIndex: number): boolean;
  /**
   * The period in frames of a step that runs every so many frames: where passes cannot keep to
   * it (live, a pass outlasting the period), the scheduled passes that never started are counted.
   */
  readonly every?: number;
  /** Finds objects on the frame and reports them through `context.state`. */
  discover(context: DiscoveryContext): Promise<void> | void;
}

/** Which prompts are drawn as markers on the overlay. */
export type TrackerMarkers = "prompts" | "all" | "none";

/** Options of the tracker; every threshold has a default. */
export interface TrackerOptions {
  /** Frame rate, needed only when prompts are given as times and not resolved to frames. */
  readonly fps?: number;
  readonly prompt?: PromptFromMaskOptions;
  readonly output?: TrackedOutputOptions;
  readonly loss?: LossOptions;
  readonly reacquisition?: ReacquisitionOptions;
  /** Most objects held at once, tracked and lost (default 255). */
  readonly maxObjects?: number;
  /** Runs after tracking on the frames it chooses. */
  readonly discovery?: DiscoveryStep;
  /**
   * Markers on the output: the user's prompts on their frames (`prompts`, default), also every
   * prompt the tracker made (`all`), or none.
   */
  readonly markers?: TrackerMarkers;
  /** Called on each frame that searches for lost objects, with the decoder prompts it spent. */
  readonly onSearch?: (frameIndex: number, prompts: { local: number; scan: number }) => void;
}

type Entry =
  | {
    readonly kind: "prompt";
    readonly id: number;
    readonly prompt: PromptSet;
    readonly user: ObjectPrompt;
  }
  | {
    readonly kind: "propagation";
    readonly id: number;
    readonly prompt: PromptSet;
    readonly predictedBox: readonly [number, number, number, number];
    readonly velocity: Velocity;
  }
  | {
    readonly kind: "search";
    /** The lost object a local search is for (-1 for the whole-frame scan). */
    readonly id: number;
    readonly prompt: PromptSet;
    readonly search: SearchPrompt;
  };

/** How far beyond its prompt box (in low-res cells) a propagated object's mask is looked for. */
const SEARCH_MARGIN_CELLS = 8;

type Sighting = PreviousSighting & { velocity: Velocity; known: boolean };

/**
 * Follows prompted objects from frame to frame on a {@link Segmenter}. Feed it every frame in
 * order with {@link step}; `trackObjects` wraps it as an RxJS operator.
 *
 * @example
 * ```ts
 * const tracker = new ObjectTracker(segmenter, prompts);
 * for (const frame of frames) {
 *   const masks = await tracker.step(frame);
 *   console.log(masks.objects.map((o) => o.id));
 * }
 * ```
 */
export class ObjectTracker {
  /** The objects; readable at any time, changeable by a discovery step. */
  readonly state: TrackerState;
  readonly #segmenter: Segmenter;
  readonly #schedule: PromptSchedule;
  readonly #options: TrackerOptions;
  #previousFrameIndex = -1;
  /** The last frame the objects were carried to by motion (the model may still refine it). */
  #carriedFrameIndex = -1;
  /**
   * A fork refining in the background: its heavy steps yield to the event loop in between, so
   * the frames being carried meanwhile are not held up for long.
   */
  #background = false;
  /** Where the whole-frame scan for lost objects is in its grid. */
  #scan: ScanCursor | undefined;

  /**
   * @param state objects to start from (used by {@link fork}; default: none)
   */
  constructor(
    segmenter: Segmenter,
    prompts: readonly ObjectPrompt[],
    options: TrackerOptions = {},
    state?: TrackerState,
  ) {
    this.#segmenter = segmenter;
    this.#schedule = new PromptSchedule(prompts, options.fps);
    this.#options = options;
    this.state = state ?? new TrackerState(this.#schedule.ids(), options.maxObjects);
  }

  /**
   * A copy of this tracker, as of the last frame processed, to refine that frame in the background
   * while this one carries on (see {@link adopt}). `prompts` are user prompts the copy applies
   * (taken from this tracker with {@link takePrompts}). The copy shares the options and, unless
   * `lane` says otherwise, the segmenter; `lane.discovery: false` makes a copy that only tracks.
   */
  fork(
    prompts: readonly ObjectPrompt[] = [],
    lane: { readonly segmenter?: Segmenter; readonly discovery?: boolean } = {},
  ): ObjectTracker {
    const options = lane.discovery === false
      ? { ...this.#options, discovery: undefined }
      : this.#options;
    const fork = new ObjectTracker(
      lane.segmenter ?? this.#segmenter,
      prompts,
      options,
      this.state.copy(),
    );
    fork.#previousFrameIndex = this.#previousFrameIndex;
    fork.#carriedFrameIndex = this.#carriedFrameIndex;
    fork.#scan = this.#scan;
    fork.#background = true;
    return fork;
  }

  /** The user prompts due on `frameIndex`, removed from the schedule (for a {@link fork}). */
  takePrompts(frameIndex: number): ObjectPrompt[] {
    return this.#schedule.take(frameIndex);
  }

  /**
   * Takes over what `refined` (a {@link fork} that refined an earlier frame) decided later than
   * this tracker (see `TrackerState.merge`); the caller moves those objects on to the current
   * frame. Forks refining different frames at once (tracking, and a discovery pass) each add their
   * own findings.
   */
  adopt(refined: ObjectTracker): void {
    this.state.merge(refined.state);
  }

  /** Whether user prompts (first prompts or corrections) are due on frame `frameIndex`. */
  promptsDue(frameIndex: number): boolean {
    return this.#schedule.dueOn(frameIndex);
  }

  /** Whether the optional discovery step runs on frame `frameIndex`. */
  discoversOn(frameIndex: number): boolean {
    return this.#options.discovery?.runsOn(frameIndex) ?? false;
  }

  /**
   * Carries the tracked objects to the next frame by measured motion, without the model
   * (`propagator` must have observed `frame` last). {@link step} may then run on the same frame
   * to refine the carried masks with the model (they become its prompts).
   */
  carry(
    frame: Frame,
    propagator: MotionPropagator,
  ): { masks: FrameMasks; carried: CarriedObject[] } {
    const { index } = frame;
    if (index <= this.#previousFrameIndex) {
      throw new Error(`frame ${index} arrived after frame ${this.#previousFrameIndex}`);
    }
    this.state.beginFrame(index);
    const carried = propagator.carry(this.state, frame);
    this.#previousFrameIndex = index;
    this.#carriedFrameIndex = index;
    return { masks: this.#output(frame, []), carried };
  }

  /**
   * Tracks the objects on the next frame (frames must come in increasing index order), or refines
   * the frame the objects were just carried to. `embed` supplies the frame's embedding (e.g. one
   * computed ahead); by default the segmenter embeds the frame. Either is called only when there
   * is something to decode.
   */
  async step(
    frame: Frame,
    embed?: () => Promise<FrameEmbedding> | FrameEmbedding,
  ): Promise<FrameMasks> {
    const { index, width, height } = frame;
    if (
      index < this.#previousFrameIndex ||
      (index === this.#previousFrameIndex && index !== this.#carriedFrameIndex)
    ) {
      throw new Error(`frame ${index} arrived after frame ${this.#previousFrameIndex}`);
    }
    const state = this.state;
    state.beginFrame(index);
    const due = this.#schedule.take(index);
    const { entries, lookingFor } = this.#entries(frame, due);
    const discover = this.#options.discovery?.runsOn(index) ?? false;
    const markers = this.#markers(entries);
    if (entries.length === 0 && !discover) {
      this.#previousFrameIndex = index;
      this.#carriedFrameIndex = -1;
      return this.#output(frame, markers);
    }

    const segmenter = this.#segmenter;
    const frameEmbedding = await (embed ? embed() : segmenter.embed(frame));
    const decoded = entries.length > 0
      ? await segmenter.decode(frameEmbedding, entries.map((e) => e.prompt))
      : [];
    const grid = lowResGrid(width, height);
    const candidates = new Map<number, FrameCandidate>();
    const predicted = new Map<number, readonly [number, number, number, number]>();
    const searches: { prompt: SearchPrompt; decoded: DecodedPrompt }[] = [];
    for (const [k, entry] of entries.entries()) {
      if (entry.kind === "prompt") {
        const choice = chooseFreshOutput(entry.prompt, decoded[k]);
        candidates.set(
          entry.id,
          candidateFromOutput(
            segmenter,
            frameEmbedding,
            grid,
            decoded[k],
            choice.output,
            choice.score,
            entry.id,
            "prompt",
            1,
          ),
        );
      } else if (entry.kind === "propagation") {
        const track = state.track(entry.id)!;
        const boxWindow = windowFromBox(entry.prompt.box!, width, height);
        const cells = cellsOfWindow(grid, boxWindow, 2);
        const choice = chooseTrackedOutput(
          decoded[k],
          track.lowResLogits,
          entry.velocity,
          grid,
          cells,
          this.#options.output,
        );
        candidates.set(
          entry.id,
          candidateFromOutput(
            segmenter,
            frameEmbedding,
            grid,
            decoded[k],
            choice.output,
            choice.score,
            entry.id,
            "propagation",
            0,
            cellsOfWindow(grid, boxWindow, SEARCH_MARGIN_CELLS),
          ),
        );
        predicted.set(entry.id, entry.predictedBox);
      } else {
        searches.push({ prompt: entry.search, decoded: decoded[k] });
      }
      if (this.#background) await yieldToLoop();
    }
    if (searches.length > 0) {
      if (this.#background) await yieldToLoop();
      const tracks = [...state.tracks()];
      const finds = chooseFinds(
        {
          frame,
          embedding: frameEmbedding,
          segmenter,
          grid,
          lost: tracks.filter((t) => lookingFor.has(t.id)),
          known: tracks,
          others: candidates,
        },
        searches,
        this.#options.reacquisition,
      );
      for (const [id, candidate] of finds) candidates.set(id, candidate);
    }
    for (const id of takenOver(state, candidates, due)) {
      candidates.delete(id);
      state.remove(id);
    }
    resolveOverlaps([...candidates.values()]);

    const sightings = new Map<number, Sighting>();
    for (const t of state.tracks()) {
      // Objects carried to this frame by motion have no previous sighting: their velocity is
      // measured by the motion estimate, not by the refinement.
      if (
        t.status === "tracked" && t.lastSeenFrame === this.#previousFrameIndex &&
        t.lastSeenFrame < index
      ) {
        sightings.set(t.id, {
          frameIndex: t.lastSeenFrame,
          bounds: t.bounds,
          velocity: t.velocity,
          known: t.velocityKnown,
        });
      }
    }
    const dueById = new Map(due.map((p) => [p.objectId, p]));
    const minAreaPx = this.#options.loss?.minAreaPx ?? 16;
    for (const [id, candidate] of [...candidates]) {
      if (this.#background) await yieldToLoop();
      candidateDescriptor(candidate, segmenter, frameEmbedding, grid);
      const user = dueById.get(id);
      if (user) {
        const label = user.label ?? state.track(id)?.label;
        if (candidate.area === 0) {
          state.setTrack(
            startLostTrack(id, label, candidate, promptWindow(user, width, height), index),
          );
          candidates.delete(id);
        } else {
          state.setTrack(startTrack(id, label, candidate, frame, "prompt"));
        }
        continue;
      }
      const track = state.track(id)!;
      if (candidate.source === "propagation") {
        const reason = detectLoss({
          area: candidate.area,
          bounds: candidate.bounds,
          score: candidate.score,
          appearance: candidate.area > 0
            ? histogramSimilarity(
              candidateAppearance(candidate, frame),
              track.appearance,
            )
            : 1,
          predictedBox: predicted.get(id)!,
          previousArea: track.area,
          referenceArea: track.referenceArea,
          frameWidth: width,
          frameHeight: height,
        }, this.#options.loss);
        if (reason) {
          state.lose(id, reason);
          candidates.delete(id);
          continue;
        }
      } else if (candidate.area < minAreaPx) {
        candidates.delete(id);
        continue;
      }
      commitCandidate(track, candidate, frame, sightings.get(id), neighbourBounds(candidates, id));
    }

    if (discover) await this.#discover(frame, frameEmbedding, sightings, candidates);
    this.#previousFrameIndex = index;
    this.#carriedFrameIndex = -1;
    return this.#output(frame, markers);
  }

  /** The masks of the objects drawn on `frame`. */
  #output(frame: Frame, markers: PromptMarker[]): FrameMasks {
    const objects: ObjectMask[] = [];
    for (const t of [...this.state.tracks()].sort((a, b) => a.id - b.id)) {
      if (t.status !== "tracked" || t.lastSeenFrame !== frame.index) continue;
      objects.push({
        id: t.id,
        mask: t.mask,
        score: t.score,
        bbox: windowToXywh(t.bounds),
        ...(t.label !== undefined ? { label: t.label } : {}),
      });
    }
    return frameMasksOf(frame, objects, markers);
  }

  /** The prompt sets of this frame, in decode order, and the lost objects they look for. */
  #entries(
    frame: Frame,
    due: readonly ObjectPrompt[],
  ): { entries: Entry[]; lookingFor: ReadonlySet<number> } {
    const { index, width, height } = frame;
    const dueIds = new Set(due.map((p) => p.objectId));
    const entries: Entry[] = due.map((user) => ({
      kind: "prompt",
      id: user.objectId,
      prompt: { points: user.points, ...(user.box ? { box: user.box } : {}) },
      user,
    }));
    const tracks = [...this.state.tracks()].sort((a, b) => a.id - b.id);
    const sources = new Map<number, PromptSource>();
    for (const t of tracks) {
      if (t.status !== "tracked" || dueIds.has(t.id)) continue;
      // 0 when the object was carried to this frame by motion already.
      const gap = index - t.lastSeenFrame;
      sources.set(t.id, {
        mask: t.mask,
        bounds: t.bounds,
        lowResLogits: t.lowResLogits,
        velocity: { x: t.velocity.x * gap, y: t.velocity.y * gap },
      });
    }
    for (const [id, source] of sources) {
      const neighbours = [...sources].filter(([other]) => other !== id).map(([, s]) => s);
      const built = promptFromMask(source, neighbours, width, height, this.#options.prompt);
      entries.push({
        kind: "propagation",
        id,
        prompt: built.prompt,
        predictedBox: built.predictedBox,
        velocity: source.velocity,
      });
    }
    const plan = planSearch(
      {
        tracks,
        sources,
        due: dueIds,
        frame,
        everyFrame: this.#background,
        cursor: this.#scan,
      },
      this.#options.reacquisition,
      {
        maxNegatives: this.#options.prompt?.maxNegatives ?? 2,
        minNegativeArea: this.#options.prompt?.minNegativeArea ?? 12,
      },
    );
    this.#scan = plan.cursor;
    const prompts = plan.prompts;
    if (prompts.length === 0) return { entries, lookingFor: plan.lookingFor };
    for (const search of prompts) {
      entries.push({
        kind: "search",
        id: search.kind === "local" ? search.id : -1,
        prompt: search.prompt,
        search,
      });
    }
    const scans = prompts.filter((p) => p.kind === "scan").length;
    this.#options.onSearch?.(index, { local: prompts.length - scans, scan: scans });
    return { entries, lookingFor: plan.lookingFor };
  }

  async #discover(
    frame: Frame,
    embedding: FrameEmbedding,
    sightings: ReadonlyMap<number, Sighting>,
    candidates: Map<number, FrameCandidate>,
  ): Promise<void> {
    const state = this.state;
    state.beginUpdates(frame, sightings);
    let updated: Map<number, FrameCandidate>;
    try {
      await this.#options.discovery!.discover({
        frame,
        embedding,
        segmenter: this.#segmenter,
        state,
      });
    } finally {
      updated = state.endUpdates();
    }
    if (updated.size === 0) return;
    for (const [id, candidate] of updated) candidates.set(id, candidate);
    const current = [...candidates.values()].filter((c) => state.track(c.id)?.status === "tracked");
    resolveOverlaps(current, (c, i) => {
      c.logits ??= this.#segmenter.upscaleLogits(embedding, c.lowResLogits, c.bounds);
      return c.logits[i];
    });
    for (const c of current) {
      const track = state.track(c.id)!;
      if (track.mask !== c.mask) continue;
      trimTrack(track, c.area, c.bounds);
      if (c.area === 0) state.lose(c.id, "overlapped");
    }
  }

  #markers(entries: readonly Entry[]): PromptMarker[] {
    const mode = this.#options.markers ?? "prompts";
    if (mode === "none") return [];
    return entries
      .filter((e) => mode === "all" || e.kind === "prompt")
      .map((e) => ({
        objectId: e.id,
        points: e.prompt.points,
        ...(e.prompt.box ? { box: e.prompt.box } : {}),
      }));
  }
}

function neighbourBounds(
  candidates: ReadonlyMap<number, FrameCandidate>,
  id: number,
): PixelWindow[] {
  const bounds: PixelWindow[] = [];
  for (const c of candidates.values()) if (c.id !== id && c.area > 0) bounds.push(c.bounds);
  return bounds;
}

/** Where a prompt points: its box, or a window around its positive points. */
function promptWindow(prompt: ObjectPrompt, width: number, height: number): PixelWindow {
  if (prompt.box) return windowFromBox(prompt.box, width, height);
  const positives = prompt.points.filter((p) => p.positive);
  const points = positives.length > 0 ? positives : prompt.points;
  const xs = points.map((p) => p.x), ys = points.map((p) => p.y);
  return windowFromBox(
    [Math.min(...xs) - 16, Math.min(...ys) - 16, Math.max(...xs) + 17, Math.max(...ys) + 17],
    width,
    height,
  );
}

/** Lets other tasks (timers, I/O, other stages) run before continuing. */
function yieldToLoop(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** Share of a discovered object's mask a user's new mask must cover to take the object over. */
const TAKEOVER_COVER = 0.5;

/**
 * Discovered objects that this frame's user prompts take over: a prompted object's new mask covers
 * at least half of the discovered object's mask on this frame (or of its last mask, when it is
 * lost or not decoded on this frame). The user has named that region, so keeping the discovered
 * id would leave a duplicate that could later be drawn, or re-acquired, beside the named one.
 * Objects started by user prompts are never taken over (two named objects may overlap).
 */
function takenOver(
  state: TrackerState,
  candidates: ReadonlyMap<number, FrameCandidate>,
  due: readonly ObjectPrompt[],
): number[] {
  const named = due.map((p) => candidates.get(p.objectId)).filter((c) => c !== undefined)
    .filter((c) => c.area > 0);
  if (named.length === 0) return [];
  const dueIds = new Set(due.map((p) => p.objectId));
  const ids: number[] = [];
  for (const track of state.tracks()) {
    if (track.origin !== "discovery" || dueIds.has(track.id)) continue;
    const region = candidates.get(track.id) ?? track;
    if (region.area === 0) continue;
    if (named.some((c) => overlapArea(c, region) >= TAKEOVER_COVER * region.area)) {
      ids.push(track.id);
    }
  }
  return ids;
}
