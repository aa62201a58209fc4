/**
 * Finding lost objects again: which of the regions the search prompts returned (see
 * `search_prompts.ts`) is which lost object. Every confident region is a candidate for every lost
 * object. A region is taken for an object only if it is of plausible size, not another object's
 * pixels, not cut off by the box it was searched in, looks like the object (its colours, and the
 * model's descriptor where the segmenter gives one) at least as much as like any other object, and
 * looks alike enough for where it is: near the expected position a fair likeness suffices, far
 * from it a strong one is needed (the motion prior moves the bar, it never forbids). Objects and
 * regions are then paired best first.
 * @module
 */
import type { Frame } from "../../frame.ts";
import type { BoxXyxy } from "../mask.ts";
import {
  type DecodedPrompt,
  DECODER_OUTPUTS,
  type FrameEmbedding,
  LOW_RES_SIDE,
  outputLogits,
  type Segmenter,
} from "../segmenter.ts";
import { type LowResGrid, positiveCells } from "../geometry/low_res_grid.ts";
import { isEmptyWindow, type PixelWindow, windowFromBox } from "../geometry/pixel_window.ts";
import {
  type Appearance,
  type AppearanceMatch,
  compareAppearance,
  matchStrength,
  regionColourHistogram,
} from "./appearance.ts";
import { candidateFromOutput, type FrameCandidate } from "./frame_candidate.ts";
import type { ObjectTrack } from "./object_state.ts";
import { outputScore } from "./output_selection.ts";
import { overlapArea } from "./overlap.ts";
import { motionPrior } from "./search_area.ts";
import type { SearchPrompt } from "./search_prompts.ts";

/** How lost objects are searched for and when a find is accepted. */
export interface ReacquisitionOptions {
  /** Stop looking for an object lost for this many frames (its state is kept; default 150). */
  readonly forFrames?: number;
  /** After this many frames lost, search locally only every `slowEvery`-th frame (default 30). */
  readonly slowAfter?: number;
  /** Local search period once the object has been lost for `slowAfter` frames (default 3). */
  readonly slowEvery?: number;
  /** Grid points per side of the local search box (default 4). */
  readonly gridSide?: number;
  /** Most local prompts per lost object per frame (default 6): each costs a decoder prompt. */
  readonly maxPrompts?: number;
  /** Local search margin as a share of the object's size (default 0.3). */
  readonly marginShare?: number;
  /** Extra search margin, and motion-prior width, per frame lost, in pixels (default 2). */
  readonly growthPx?: number;
  /** The motion estimate is extrapolated for at most this many frames (default 30). */
  readonly maxTravelFrames?: number;
  /**
   * Whole-frame scan points decoded per frame while anything is lost (default 24; 0: no scan),
   * shared by all lost objects: the scan's cost in decoder prompts per frame.
   */
  readonly scanBudget?: number;
  /** Lowest predicted IoU of an accepted find (default 0.75). */
  readonly minScore?: number;
  /** Accepted area range as shares of the reference area (defaults 0.1 and 2). */
  readonly minAreaShare?: number;
  readonly maxAreaShare?: number;
  /**
   * Colour similarity (Bhattacharyya) a find needs where the object is expected, and far from
   * there (defaults 0.5 and 0.8); in between, the bar follows the motion prior.
   */
  readonly minAppearance?: number;
  readonly strongAppearance?: number;
  /** The same for the descriptor's similarity (dot product), where there is one (0.5 and 0.8). */
  readonly minDescriptor?: number;
  readonly strongDescriptor?: number;
  /** Largest share of the find already covered by other objects (default 0.2). */
  readonly maxOverlapShare?: number;
}

/** Weight of the motion prior when pairs of objects and regions are ranked. */
const PRIOR_RANK_WEIGHT = 0.1;

/**
 * How much more a find must look like the lost object than like an object whose mask holds some
 * of its pixels for those pixels not to count against it: that mask has spread onto the lost
 * object as it came out from behind (a colour close to its own, a mask that grew with it).
 */
const CLEARLY_OTHER = 0.3;

/** What the decision about one lost object and one region looks at. */
export interface FindEvidence {
  /** The region's predicted IoU. */
  readonly score: number;
  /** Its area in pixels (estimated from low-res cells when `estimated`). */
  readonly area: number;
  readonly estimated: boolean;
  /** The object's reference area (0 when unknown). */
  readonly referenceArea: number;
  /**
   * Share of the region other objects already hold on this frame, leaving out objects it clearly
   * does not look like (their masks have spread onto it).
   */
  readonly overlapShare: number;
  /**
   * Whether the region runs into a side of the box it was searched in (it goes on beyond):
   * judged on the exact mask only (false on an estimate).
   */
  readonly cutBySearchBox: boolean;
  /** How alike the region is to the object. */
  readonly match: AppearanceMatch;
  /** How alike it is to the most alike other object (its match strength), if any is known. */
  readonly rival?: number;
  /** The motion prior of its position, in [0, 1]. */
  readonly prior: number;
}

/**
 * The similarity a find needs: `min` where the object is expected (prior 1), rising to `strong`
 * far from it (prior 0).
 *
 * @example
 * ```ts
 * requiredSimilarity(0.5, 0.8, 0.5); // 0.65
 * ```
 */
export function requiredSimilarity(min: number, strong: number, prior: number): number {
  return min + (strong - min) * (1 - Math.max(0, Math.min(1, prior)));
}

/**
 * Whether a region is the lost object (see the module notes).
 *
 * @example
 * ```ts
 * acceptFind({ score: 0.9, area: 900, estimated: false, referenceArea: 1000, overlapShare: 0,
 *   cutBySearchBox: false, match: { colour: 0.9 }, prior: 1 }); // true
 * ```
 */
export function acceptFind(e: FindEvidence, options: ReacquisitionOptions = {}): boolean {
  if (e.area === 0 || e.score < (options.minScore ?? 0.75)) return false;
  if (e.referenceArea > 0) {
    // A low-res estimate is a few cells off at the region's border: judged with slack.
    const [low, high] = e.estimated ? [0.5, 1.5] : [1, 1];
    const share = e.area / e.referenceArea;
    if (
      share < low * (options.minAreaShare ?? 0.1) || share > high * (options.maxAreaShare ?? 2)
    ) return false;
  }
  if (e.overlapShare > (options.maxOverlapShare ?? 0.2) || e.cutBySearchBox) return false;
  const colourBar = requiredSimilarity(
    options.minAppearance ?? 0.5,
    options.strongAppearance ?? 0.8,
    e.prior,
  );
  if (e.match.colour < colourBar) return false;
  if (e.match.descriptor !== undefined) {
    const bar = requiredSimilarity(
      options.minDescriptor ?? 0.5,
      options.strongDescriptor ?? 0.8,
      e.prior,
    );
    if (e.match.descriptor < bar) return false;
  }
  return e.rival === undefined || e.rival <= matchStrength(e.match);
}

/** What a search sees on its frame. */
export interface SearchContext {
  readonly frame: Frame;
  readonly embedding: FrameEmbedding;
  readonly segmenter: Segmenter;
  readonly grid: LowResGrid;
  /** The lost objects searched for. */
  readonly lost: readonly ObjectTrack[];
  /** Every object (the others' appearance memories are the rivals). */
  readonly known: readonly ObjectTrack[];
  /**
   * This frame's masks of the other objects: a find must not take their pixels, unless it clearly
   * looks like the lost object and not like them.
   */
  readonly others: ReadonlyMap<number, FrameCandidate>;
}

/** A confident region one search prompt returned, screened at low resolution. */
interface Region {
  readonly decoded: DecodedPrompt;
  readonly output: number;
  readonly score: number;
  readonly logits: Float32Array;
  /** Bounding window of the positive cells, and their count. */
  readonly cells: PixelWindow;
  readonly count: number;
  /** Centre of the positive cells' window, in frame pixels. */
  readonly x: number;
  readonly y: number;
  readonly searchBox?: BoxXyxy;
  appearance?: Appearance;
}

/**
 * The lost objects found on this frame, by id: the best accepted pairing of lost objects and the
 * regions the search prompts returned (each region for one object at most).
 *
 * @example
 * ```ts
 * const finds = chooseFinds(context, prompts.map((prompt, k) => ({ prompt, decoded: decoded[k] })));
 * ```
 */
export function chooseFinds(
  context: SearchContext,
  results: readonly { readonly prompt: SearchPrompt; readonly decoded: DecodedPrompt }[],
  options: ReacquisitionOptions = {},
): Map<number, FrameCandidate> {
  const { frame, grid } = context;
  const regions = screenRegions(results, grid, options);
  const cellArea = grid.cellWidth * grid.cellHeight;
  const memories = new Map(context.known.map((t) => [t.id, memoryOf(t)]));
  const pairs: {
    evidence: FindEvidence;
    holders: FrameCandidate[];
    track: ObjectTrack;
    region: Region;
    rank: number;
  }[] = [];
  for (const track of context.lost) {
    const memory = memoryOf(track);
    for (const region of regions) {
      const appearance = regionAppearance(region, context);
      const match = compareAppearance(memory, appearance);
      const strength = matchStrength(match);
      // Masks of objects the region clearly does not look like have spread onto it.
      const holders = [...context.others.values()].filter((c) => {
        const holder = memories.get(c.id);
        return c.area > 0 &&
          !(holder &&
            strength - matchStrength(compareAppearance(holder, appearance)) >= CLEARLY_OTHER);
      });
      const prior = motionPrior(
        track,
        frame.index,
        region.x,
        region.y,
        frame.width,
        frame.height,
        options,
      );
      const evidence: FindEvidence = {
        score: region.score,
        area: region.count * cellArea,
        estimated: true,
        referenceArea: track.referenceArea,
        overlapShare: regionOverlapShare(region, holders, context),
        cutBySearchBox: false,
        match,
        rival: rivalStrength(track, appearance, context.known),
        prior,
      };
      if (!acceptFind(evidence, options)) continue;
      pairs.push({ evidence, holders, track, region, rank: strength + PRIOR_RANK_WEIGHT * prior });
    }
  }
  pairs.sort((a, b) => b.rank - a.rank);
  const finds = new Map<number, FrameCandidate>();
  const used = new Set<Region>();
  for (const { evidence, holders, track, region } of pairs) {
    if (finds.has(track.id) || used.has(region)) continue;
    const candidate = candidateFromOutput(
      context.segmenter,
      context.embedding,
      grid,
      region.decoded,
      region.output,
      region.score,
      track.id,
      "reacquisition",
    );
    if (candidate.area === 0) continue;
    let shared = 0;
    for (const other of holders) shared += overlapArea(candidate, other);
    for (const found of finds.values()) shared += overlapArea(candidate, found);
    const exact: FindEvidence = {
      ...evidence,
      area: candidate.area,
      estimated: false,
      overlapShare: shared / candidate.area,
      cutBySearchBox: region.searchBox !== undefined &&
        runsIntoBox(candidate.bounds, region.searchBox, frame.width, frame.height),
    };
    if (!acceptFind(exact, options)) continue;
    finds.set(track.id, candidate);
    used.add(region);
  }
  return finds;
}

function memoryOf(track: ObjectTrack): Appearance {
  return { colour: track.appearance, descriptor: track.descriptor };
}

/** The confident, distinct regions of the search results. */
function screenRegions(
  results: readonly { readonly prompt: SearchPrompt; readonly decoded: DecodedPrompt }[],
  grid: LowResGrid,
  options: ReacquisitionOptions,
): Region[] {
  const minScore = options.minScore ?? 0.75;
  const regions: Region[] = [];
  for (const { prompt, decoded } of results) {
    let output = 0;
    for (let o = 1; o < DECODER_OUTPUTS; o++) {
      if (outputScore(decoded, o) > outputScore(decoded, output)) output = o;
    }
    const score = outputScore(decoded, output);
    if (score < minScore) continue;
    const logits = outputLogits(decoded, output);
    const cells = positiveCells(logits);
    if (isEmptyWindow(cells)) continue;
    let count = 0;
    for (let y = cells.y0; y < cells.y1; y++) {
      for (let x = cells.x0; x < cells.x1; x++) if (logits[y * LOW_RES_SIDE + x] > 0) count++;
    }
    // Several prompts often return the same region: keep the first.
    const same = regions.some((r) =>
      r.count === count && r.cells.x0 === cells.x0 && r.cells.y0 === cells.y0 &&
      r.cells.x1 === cells.x1 && r.cells.y1 === cells.y1
    );
    if (same) continue;
    regions.push({
      decoded,
      output,
      score,
      logits,
      cells,
      count,
      x: ((cells.x0 + cells.x1) / 2) * grid.cellWidth,
      y: ((cells.y0 + cells.y1) / 2) * grid.cellHeight,
      ...(prompt.kind === "local" ? { searchBox: prompt.searchBox } : {}),
    });
  }
  return regions;
}

/** The region's colours (sampled at low resolution) and descriptor, computed once. */
function regionAppearance(region: Region, context: SearchContext): Appearance {
  region.appearance ??= {
    colour: regionColourHistogram(context.frame, region.logits, context.grid, region.cells),
    descriptor: context.segmenter.describe?.(context.embedding, region.logits, region.cells) ??
      new Float32Array(0),
  };
  return region.appearance;
}

/** Share of the region's cells whose centre pixel one of `holders` holds on this frame. */
function regionOverlapShare(
  region: Region,
  holders: readonly FrameCandidate[],
  context: SearchContext,
): number {
  const { grid, frame } = context;
  let inside = 0, held = 0;
  for (let cy = region.cells.y0; cy < region.cells.y1; cy++) {
    const y = Math.min(frame.height - 1, Math.floor((cy + 0.5) * grid.cellHeight));
    for (let cx = region.cells.x0; cx < region.cells.x1; cx++) {
      if (region.logits[cy * LOW_RES_SIDE + cx] <= 0) continue;
      const x = Math.min(frame.width - 1, Math.floor((cx + 0.5) * grid.cellWidth));
      inside++;
      const i = y * frame.width + x;
      if (holders.some((m) => m.mask.data[i] !== 0)) held++;
    }
  }
  return inside > 0 ? held / inside : 0;
}

/** The strongest match of the region to any object other than `track` whose memory is known. */
function rivalStrength(
  track: ObjectTrack,
  appearance: Appearance,
  known: readonly ObjectTrack[],
): number | undefined {
  let best: number | undefined;
  for (const other of known) {
    if (other.id === track.id || other.appearance.length === 0) continue;
    const strength = matchStrength(
      compareAppearance({ colour: other.appearance, descriptor: other.descriptor }, appearance),
    );
    if (best === undefined || strength > best) best = strength;
  }
  return best;
}

/**
 * Whether a mask's `bounds` run into a side of the `box` it was searched in (within a pixel), a
 * side that is not the frame's edge: the region goes on beyond the box (background, or something
 * larger).
 *
 * @example
 * ```ts
 * runsIntoBox({ x0: 80, y0: 120, x1: 150, y1: 150 }, [80, 80, 200, 200], 640, 360); // true
 * ```
 */
export function runsIntoBox(
  bounds: PixelWindow,
  box: BoxXyxy,
  width: number,
  height: number,
): boolean {
  const s = windowFromBox(box, width, height);
  const { x0, y0, x1, y1 } = bounds;
  return (x0 <= s.x0 + 1 && s.x0 > 0) || (y0 <= s.y0 + 1 && s.y0 > 0) ||
    (x1 >= s.x1 - 1 && s.x1 < width) || (y1 >= s.y1 - 1 && s.y1 < height);
}
