/**
 * Periodic discovery in video: an everything pass on the first frame and every K frames after,
 * reconciled with the tracker's objects (refresh tracked ones, bring lost ones back under their
 * id, add new ones); the tracker follows them in between.
 * @module
 */
import type { DiscoveryContext, DiscoveryStep } from "../tracker/object_tracker.ts";
import type { Observation } from "../tracker/object_state.ts";
import { decodeRle } from "../rle.ts";
import { xywhToXyxy } from "../geometry/boxes.ts";
import type { EverythingMask, EverythingStats } from "./everything_mask.ts";
import type { EverythingOptions } from "./options.ts";
import { type FoundMask, reconcileDiscoveries, type ReconcileOptions } from "./reconcile.ts";
import { everythingPass, type EverythingStrategy } from "./strategy.ts";

/** Default most objects tracked at once for discovery to add more. */
export const DEFAULT_DISCOVERY_MAX_OBJECTS = 20;

/** What one discovery pass did. */
export interface DiscoveryReport {
  readonly frameIndex: number;
  readonly stats: EverythingStats;
  /** Tracked objects the pass found where the tracker has them (their masks are kept). */
  readonly confirmed: readonly number[];
  /** Tracked objects whose mask the pass replaced. */
  readonly refreshed: readonly number[];
  readonly reacquired: readonly number[];
  readonly added: readonly number[];
}

/** Options of {@link everythingDiscovery}. */
export interface EverythingDiscoveryOptions extends ReconcileOptions {
  /** Frames between passes, K (a pass runs on the first frame, then once K frames have passed). */
  readonly every: number;
  /** `hierarchical` (default) or `dense`. */
  readonly strategy?: EverythingStrategy;
  /** Options of the everything pass (published defaults otherwise). */
  readonly everything?: Partial<EverythingOptions>;
  /**
   * New objects are added only while fewer than this many objects are tracked on the frame
   * (default 20); prompted and earlier discovered objects count.
   */
  readonly maxObjects?: number;
  /**
   * A tracked object whose found mask has at least this IoU with its tracked mask keeps the
   * tracker's mask (the two agree; replacing one good mask by another only adds jitter); below
   * it, the found mask replaces it (default 0.9).
   */
  readonly keepIou?: number;
  /** A lost object is brought back only if the found mask's colours match it this well (0..1, default 0.5). */
  readonly minAppearance?: number;
  /** Called after each pass. */
  readonly onPass?: (report: DiscoveryReport) => void;
}

/**
 * The tracker's discovery step (pass it as `TrackerOptions.discovery`). On the frames it runs on
 * it runs an everything pass against the frame's embedding and reconciles the masks with the
 * tracker's objects by mask IoU: a match with a tracked object refreshes it (unless the two masks
 * already agree, see `keepIou`), a match with a lost
 * object whose colours agree re-acquires it under its old id, and the remaining masks that are
 * mostly new pixels become new objects (new ids) while fewer than `maxObjects` are tracked.
 *
 * @example
 * ```ts
 * const stage = trackObjects(segmenter, prompts, {
 *   discovery: everythingDiscovery({ every: 30 }),
 * });
 * ```
 */
export function everythingDiscovery(options: EverythingDiscoveryOptions): DiscoveryStep {
  if (!Number.isInteger(options.every) || options.every < 1) {
    throw new RangeError(`discovery every must be a positive integer (got ${options.every})`);
  }
  const pass = everythingPass(options.strategy ?? "hierarchical");
  const maxObjects = options.maxObjects ?? DEFAULT_DISCOVERY_MAX_OBJECTS;
  const minAppearance = options.minAppearance ?? 0.5;
  const keepIou = options.keepIou ?? 0.9;
  let lastRun: number | undefined;
  return {
    every: options.every,
    // A frame index below the last run's means a new stream (a new subscription of the stage).
    runsOn: (frameIndex) =>
      lastRun === undefined || frameIndex < lastRun || frameIndex - lastRun >= options.every,
    async discover({ frame, embedding, segmenter, state }: DiscoveryContext): Promise<void> {
      lastRun = frame.index;
      const result = await pass(segmenter, embedding, options.everything);
      const found = result.masks.map(measured);
      const known = state.objects().map((o) => ({
        id: o.id,
        status: o.status,
        mask: o.mask,
        area: o.area,
        box: o.box,
        expectedBox: o.expectedBox,
        referenceArea: o.referenceArea,
      }));
      const decision = reconcileDiscoveries(found, known, frame.width, frame.height, options);
      const confirmed: number[] = [], refreshed: number[] = [];
      const reacquired: number[] = [], added: number[] = [];
      for (const { id, found: i, iou } of decision.refresh) {
        if (iou >= keepIou) {
          confirmed.push(id);
          continue;
        }
        state.refresh(id, observation(result.masks[i], found[i]));
        refreshed.push(id);
      }
      for (const { id, found: i } of decision.reacquire) {
        if (state.similarity(id, found[i].mask) < minAppearance) continue;
        state.reacquire(id, observation(result.masks[i], found[i]));
        reacquired.push(id);
      }
      let tracked =
        state.objects().filter((o) => o.status === "tracked" && o.lastSeenFrame === frame.index)
          .length;
      for (const i of decision.add) {
        if (tracked >= maxObjects) break;
        const id = state.add(observation(result.masks[i], found[i]));
        if (id === undefined) break;
        added.push(id);
        tracked++;
      }
      options.onPass?.({
        frameIndex: frame.index,
        stats: result.stats,
        confirmed,
        refreshed,
        reacquired,
        added,
      });
    },
  };
}

function measured(mask: EverythingMask): FoundMask {
  return {
    mask: decodeRle(mask.rle),
    area: mask.area,
    box: xywhToXyxy(mask.bbox),
    predictedIou: mask.predictedIou,
  };
}

function observation(mask: EverythingMask, found: FoundMask): Observation {
  return {
    mask: found.mask,
    lowResLogits: mask.lowResLogits,
    score: Math.min(1, Math.max(0, mask.predictedIou)),
    box: found.box,
  };
}
