/**
 * The prompts that look for lost objects on a frame, decoded in the same batched call as the
 * frame's tracking prompts:
 *
 * - a local search per lost object, in a box around where its motion says it should be (see
 *   `search_area.ts`);
 * - while anything is lost, a whole-frame scan shared by all lost objects: a budget of points per
 *   frame from a grid over the whole frame, without the points that fall on tracked objects or
 *   show a colour no lost object shows (see `whole_frame_scan.ts`).
 *
 * Which region they return is which object is decided in `reacquisition.ts`.
 * @module
 */
import type { Frame } from "../../frame.ts";
import type { BoxXyxy } from "../mask.ts";
import type { PromptSet } from "../segmenter.ts";
import { type PixelWindow, windowFromBox, windowsIntersect } from "../geometry/pixel_window.ts";
import { colourShare } from "./appearance.ts";
import type { ObjectTrack, Velocity } from "./object_state.ts";
import {
  negativePoints,
  predictedWindow,
  type PromptSource,
  shiftedMaskTest,
} from "./prompt_from_mask.ts";
import type { ReacquisitionOptions } from "./reacquisition.ts";
import { searchBox, searchesOn, searchPoints } from "./search_area.ts";
import { nextScanPoints, type ScanCursor, scanSpacing } from "./whole_frame_scan.ts";

/** A prompt of the search: local (for one object, in its box) or part of the whole-frame scan. */
export type SearchPrompt =
  | {
    readonly kind: "local";
    readonly id: number;
    readonly prompt: PromptSet;
    readonly searchBox: BoxXyxy;
  }
  | { readonly kind: "scan"; readonly prompt: PromptSet };

/** A tracked object as the search sees it on this frame. */
export interface TrackedNeighbour {
  /** Its current mask and motion (negative points keep searches off it). */
  readonly source: PromptSource;
  /** Where its mask is expected on this frame. */
  readonly window: PixelWindow;
  readonly velocity: Velocity;
  /** Whether its expected mask covers the pixel. */
  covers(x: number, y: number): boolean;
}

/** Limits of the prompts built for a search (the negatives' count and size). */
export interface SearchPromptLimits {
  readonly maxNegatives: number;
  readonly minNegativeArea: number;
}

/** What a frame's search needs to know of the tracker. */
export interface SearchInput {
  /** Every object. */
  readonly tracks: readonly ObjectTrack[];
  /** The tracked objects' masks and motion as this frame's propagation prompts use them. */
  readonly sources: ReadonlyMap<number, PromptSource>;
  /** Objects with a user prompt on this frame (not searched for). */
  readonly due: ReadonlySet<number>;
  readonly frame: Frame;
  /** Search for every lost object on every frame (a background refinement, see {@link searchedFor}). */
  readonly everyFrame: boolean;
  /** Where the whole-frame scan stopped on the last frame. */
  readonly cursor: ScanCursor | undefined;
}

/**
 * The search of a frame: which lost objects are looked for (`lookingFor`: those with a local
 * search, and all of them when the scan decodes points), where (local searches, and the
 * whole-frame scan's next points), as prompts to decode with the frame's tracking prompts; and
 * where the scan goes on next time.
 *
 * @example
 * ```ts
 * const { prompts, cursor } = planSearch({ tracks, sources, due, frame, everyFrame: false, cursor }, {}, limits);
 * ```
 */
export function planSearch(
  input: SearchInput,
  options: ReacquisitionOptions = {},
  limits: SearchPromptLimits,
): { prompts: SearchPrompt[]; lookingFor: ReadonlySet<number>; cursor: ScanCursor | undefined } {
  const { frame } = input;
  const { index, width, height } = frame;
  // Looked for until `forFrames` after the loss; a background refinement always (see searchedFor).
  const lost = input.tracks.filter((t) =>
    t.status === "lost" && !input.due.has(t.id) &&
    (input.everyFrame || index - t.lostSince < (options.forFrames ?? 150))
  );
  if (lost.length === 0) return { prompts: [], lookingFor: new Set(), cursor: input.cursor };
  // Where each tracked object is expected on this frame (what searches must not probe).
  const byId = new Map(input.tracks.map((t) => [t.id, t]));
  const trackedIds = [...input.sources.keys()];
  const tracked = [...input.sources].map(([id, source]): TrackedNeighbour => {
    const window = predictedWindow(source.bounds, source.velocity, width, height);
    const inside = shiftedMaskTest(source.mask, source.velocity.x, source.velocity.y);
    return {
      source,
      window,
      velocity: byId.get(id)?.velocity ?? { x: 0, y: 0 },
      covers: (x: number, y: number) =>
        x >= window.x0 && x < window.x1 && y >= window.y0 && y < window.y1 && inside(x, y),
    };
  });
  // A point inside a tracked object's mask is that object's, unless the pixel's colour is not
  // one the object shows: then its mask has spread onto something else (a lost object coming out
  // from behind it), and the point is worth a look.
  const heldAsItsOwn = (x: number, y: number) => {
    const i = (y * width + x) * 3;
    const [r, g, b] = [frame.data[i], frame.data[i + 1], frame.data[i + 2]];
    return tracked.some((p, k) => {
      if (!p.covers(x, y)) return false;
      const colours = byId.get(trackedIds[k])?.appearance;
      return !colours || colours.length === 0 || colourShare(colours, r, g, b) >= SCAN_COLOUR_SHARE;
    });
  };
  const sizes = lost.filter((t) => t.referenceArea > 0).map((t) => Math.sqrt(t.referenceArea));
  const scan = nextScanPoints(
    width,
    height,
    scanSpacing(sizes, width, height),
    input.cursor,
    options.scanBudget ?? 24,
    (x, y) => !lostColour(lost, frame, x, y) || heldAsItsOwn(x, y),
  );
  const searched = searchedFor(lost, index, input.everyFrame, options);
  return {
    prompts: searchPrompts(searched, tracked, frame, scan.points, options, limits),
    lookingFor: new Set((scan.points.length > 0 ? lost : searched).map((t) => t.id)),
    cursor: scan.cursor,
  };
}

/** Share of an object's colours a pixel's colour must have to be worth a scan point. */
const SCAN_COLOUR_SHARE = 0.01;

/**
 * Whether the pixel shows a colour one of the lost objects shows (or one of them has no colours
 * on record yet): a scan point elsewhere would only find something else.
 */
function lostColour(lost: readonly ObjectTrack[], frame: Frame, x: number, y: number): boolean {
  const i = (y * frame.width + x) * 3;
  const [r, g, b] = [frame.data[i], frame.data[i + 1], frame.data[i + 2]];
  return lost.some((t) =>
    t.appearance.length === 0 || colourShare(t.appearance, r, g, b) >= SCAN_COLOUR_SHARE
  );
}

/**
 * The lost objects searched for on `frameIndex`: all of them in a background refinement (its cost
 * is bounded by one refinement at a time), else those {@link searchesOn} allows.
 */
export function searchedFor(
  lost: readonly ObjectTrack[],
  frameIndex: number,
  everyFrame: boolean,
  options: ReacquisitionOptions = {},
): ObjectTrack[] {
  return lost.filter((t) => everyFrame || searchesOn(t.lostSince, frameIndex, options));
}

/**
 * The search prompts of a frame: each lost object's local search, and a single positive point
 * prompt for each of the frame's whole-frame scan points.
 *
 * @example
 * ```ts
 * const prompts = searchPrompts(lost, tracked, frame, scanPoints, {}, { maxNegatives: 2, minNegativeArea: 12 });
 * ```
 */
export function searchPrompts(
  lost: readonly ObjectTrack[],
  tracked: readonly TrackedNeighbour[],
  frame: { readonly index: number; readonly width: number; readonly height: number },
  scan: readonly { readonly x: number; readonly y: number }[],
  options: ReacquisitionOptions,
  limits: SearchPromptLimits,
): SearchPrompt[] {
  const { index, width, height } = frame;
  const insideTracked = (x: number, y: number) => tracked.some((p) => p.covers(x, y));
  const prompts: SearchPrompt[] = [];
  for (const t of lost) {
    const box = searchBox(t, index, width, height, options);
    const negatives = negativesIn(box, tracked, width, height, limits);
    for (const point of searchPoints(box, index, insideTracked, options)) {
      prompts.push({
        kind: "local",
        id: t.id,
        prompt: { points: [{ ...point, positive: true }, ...negatives], box },
        searchBox: box,
      });
    }
  }
  // A scan point's prompt keeps off the tracked objects around it with negative points, as a
  // local search's does: what comes out from behind one of them must not be taken for part of it.
  const reach = Math.max(0, ...lost.map((t) => Math.sqrt(t.referenceArea)));
  for (const { x, y } of scan) {
    const box: BoxXyxy = [x - reach, y - reach, x + reach + 1, y + reach + 1];
    const negatives = negativesIn(box, tracked, width, height, limits);
    prompts.push({ kind: "scan", prompt: { points: [{ x, y, positive: true }, ...negatives] } });
  }
  return prompts;
}

/** Negative points on the tracked objects whose expected masks reach into `box`. */
function negativesIn(
  box: BoxXyxy,
  tracked: readonly TrackedNeighbour[],
  width: number,
  height: number,
  limits: SearchPromptLimits,
) {
  const within = windowFromBox(box, width, height);
  const nearby = tracked.filter((p) => windowsIntersect(p.window, within)).map((p) => p.source);
  return negativePoints(
    box,
    () => false,
    nearby,
    width,
    height,
    limits.maxNegatives,
    limits.minNegativeArea,
  );
}
