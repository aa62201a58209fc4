/**
 * What happens to each object of a scored scene, and how the tracker coped: when the object
 * disappears (behind another object or out of the frame) and how many frames after it is half
 * visible again the tracker has it back; and which scene categories the object belongs to, so
 * that scores can be reported per category. Everything is read from the scene's ground truth:
 * `truth.json` when the scene has one, otherwise the label maps alone (then an occlusion cannot
 * be told from an exit, and colours and hidden prompts are unknown).
 * @module
 */
import type { ObjectScores } from "./evaluator.ts";
import type { ObjectTruth } from "./scene_truth.ts";

/** Categories objects are scored in. */
export const SCENE_CATEGORIES = [
  "occlusion",
  "exit/re-entry",
  "fast or curved motion",
  "similar colours",
  "partly hidden prompt",
] as const;

/** One of {@link SCENE_CATEGORIES}. */
export type SceneCategory = (typeof SCENE_CATEGORIES)[number];

/** An object is half visible when it shows at least this share of its whole area. */
export const HALF_VISIBLE = 0.5;
/** A predicted mask has the object when its J (IoU) is at least this. */
export const FOUND_IOU = 0.5;
/** Speed (px per frame) from which motion is fast. */
export const FAST_SPEED = 6;
/** Heading change (degrees) between two successive chords of {@link CHORD_FRAMES} frames. */
export const CURVE_DEGREES = 20;
export const CHORD_FRAMES = 8;
/** Hue difference (degrees) within which two saturated objects look alike. */
export const SIMILAR_HUE = 15;
/** Saturation from which an object's hue is its colour (below, it is greyish). */
export const SATURATED = 0.4;
/** A prompt is on a partly hidden object when less than this share of its in-frame area shows. */
export const PARTLY_HIDDEN = 0.8;

/** What is known of one object, per frame (all arrays one value per frame). */
export interface ObjectSeries {
  readonly id: number;
  readonly visibleArea: readonly number[];
  /** Whole area; from the label maps alone, the largest visible area. */
  readonly area: readonly number[];
  /** Area inside the frame; unknown from label maps alone. */
  readonly inFrameArea?: readonly number[];
  /** Centre per frame (from label maps alone: the visible pixels' centroid, NaN when hidden). */
  readonly centre: readonly (readonly [number, number])[];
  readonly hue?: number;
  readonly saturation?: number;
  /** Frame of the object's first prompt. */
  readonly promptFrame: number;
}

/** One time an object was lost to sight after being seen. */
export interface Disappearance {
  readonly objectId: number;
  /** Behind another object, out of the frame, or (without `truth.json`) not known. */
  readonly kind: "occlusion" | "exit" | "unknown";
  /** First frame showing less than half of the object. */
  readonly from: number;
  /** Frames on which nothing of the object shows. */
  readonly hiddenFrames: number;
  /** First frame after it showing half of the object again (undefined: it never does). */
  readonly halfVisibleAt?: number;
  /** Frames from `halfVisibleAt` to the first frame the tracker has the object (J >= 0.5). */
  readonly delay?: number;
}

/**
 * Object series from a `truth.json` entry.
 *
 * @example
 * ```ts
 * const series = seriesFromTruth(truth.objects[0], 0);
 * ```
 */
export function seriesFromTruth(truth: ObjectTruth, promptFrame: number): ObjectSeries {
  return {
    id: truth.id,
    visibleArea: truth.visibleArea,
    area: truth.area,
    inFrameArea: truth.inFrameArea,
    centre: truth.centre,
    hue: truth.hue,
    saturation: truth.saturation,
    promptFrame,
  };
}

/**
 * The disappearances of one object, with the tracker's re-acquisition delay where it came back
 * (`j[t]`: the predicted mask's J on frame t). A disappearance is a run of frames showing less
 * than half of the object, at least one of them showing nothing, after the object was seen; it
 * ends when half of the object shows again. The delay is searched up to the next disappearance.
 *
 * @example
 * ```ts
 * const gone = disappearances(series, scores.perFrame.map((f) => f.j));
 * ```
 */
export function disappearances(series: ObjectSeries, j: readonly number[]): Disappearance[] {
  const frames = series.visibleArea.length;
  const half = (t: number) => series.visibleArea[t] >= HALF_VISIBLE * series.area[t];
  const runs: { from: number; to: number; hidden: number[] }[] = [];
  let seen = false;
  for (let t = 0; t < frames; t++) {
    if (half(t)) {
      seen = true;
      continue;
    }
    if (!seen) continue;
    const from = t;
    const hidden: number[] = [];
    while (t < frames && !half(t)) {
      if (series.visibleArea[t] === 0) hidden.push(t);
      t++;
    }
    if (hidden.length > 0) runs.push({ from, to: t, hidden });
    t--;
  }
  return runs.map((run, k): Disappearance => {
    const inFrame = series.inFrameArea;
    const kind: Disappearance["kind"] = inFrame === undefined
      ? "unknown"
      : run.hidden.filter((t) => inFrame[t] >= HALF_VISIBLE * series.area[t]).length * 2 >=
          run.hidden.length
      ? "occlusion"
      : "exit";
    const base = { objectId: series.id, kind, from: run.from, hiddenFrames: run.hidden.length };
    if (run.to >= frames) return base;
    const until = k + 1 < runs.length ? runs[k + 1].from : frames;
    let found = -1;
    for (let t = run.to; t < until && found < 0; t++) if ((j[t] ?? 0) >= FOUND_IOU) found = t;
    return {
      ...base,
      halfVisibleAt: run.to,
      ...(found >= 0 ? { delay: found - run.to } : {}),
    };
  });
}

/**
 * The categories of one object of a scene (`others`: the scene's other objects).
 *
 * @example
 * ```ts
 * const categories = objectCategories(series, gone, others);
 * ```
 */
export function objectCategories(
  series: ObjectSeries,
  gone: readonly Disappearance[],
  others: readonly ObjectSeries[],
): Set<SceneCategory> {
  const categories = new Set<SceneCategory>();
  const back = gone.filter((d) => d.halfVisibleAt !== undefined);
  if (back.some((d) => d.kind === "occlusion" || d.kind === "unknown")) categories.add("occlusion");
  if (back.some((d) => d.kind === "exit")) categories.add("exit/re-entry");
  if (fastOrCurved(series)) categories.add("fast or curved motion");
  if (
    series.hue !== undefined && (series.saturation ?? 0) >= SATURATED &&
    others.some((o) =>
      o.hue !== undefined && (o.saturation ?? 0) >= SATURATED &&
      hueDistance(o.hue, series.hue!) <= SIMILAR_HUE
    )
  ) categories.add("similar colours");
  const p = series.promptFrame;
  if (
    series.inFrameArea !== undefined &&
    series.visibleArea[p] < PARTLY_HIDDEN * series.inFrameArea[p]
  ) categories.add("partly hidden prompt");
  return categories;
}

/**
 * Whether the object's centre ever moves at {@link FAST_SPEED} or more, or turns by
 * {@link CURVE_DEGREES} or more between two successive chords of {@link CHORD_FRAMES} frames (each
 * at least one pixel per frame long), over the frames it is at least partly in view.
 *
 * @example
 * ```ts
 * fastOrCurved(series); // true for an orbit
 * ```
 */
export function fastOrCurved(series: ObjectSeries): boolean {
  const { centre } = series;
  const inView = (t: number) =>
    (series.inFrameArea ? series.inFrameArea[t] : series.visibleArea[t]) > 0 &&
    Number.isFinite(centre[t][0]);
  for (let t = 0; t + 1 < centre.length; t++) {
    if (!inView(t) || !inView(t + 1)) continue;
    const step = Math.hypot(centre[t + 1][0] - centre[t][0], centre[t + 1][1] - centre[t][1]);
    if (step >= FAST_SPEED) return true;
  }
  const n = CHORD_FRAMES;
  for (let t = 0; t + 2 * n < centre.length; t++) {
    if (!inView(t) || !inView(t + n) || !inView(t + 2 * n)) continue;
    const a = [centre[t + n][0] - centre[t][0], centre[t + n][1] - centre[t][1]];
    const b = [centre[t + 2 * n][0] - centre[t + n][0], centre[t + 2 * n][1] - centre[t + n][1]];
    const la = Math.hypot(a[0], a[1]), lb = Math.hypot(b[0], b[1]);
    if (la < n || lb < n) continue;
    const cos = (a[0] * b[0] + a[1] * b[1]) / (la * lb);
    if ((Math.acos(Math.max(-1, Math.min(1, cos))) * 180) / Math.PI >= CURVE_DEGREES) return true;
  }
  return false;
}

/** Shortest distance between two hues, in degrees. */
export function hueDistance(a: number, b: number): number {
  const d = Math.abs((((a - b) % 360) + 360) % 360);
  return Math.min(d, 360 - d);
}

/**
 * Mean J&F per category over the objects of that category (categories with no object are left
 * out).
 *
 * @example
 * ```ts
 * categoryMeans([{ scores, categories }]).get("occlusion");
 * ```
 */
export function categoryMeans(
  objects: readonly { readonly scores: ObjectScores; readonly categories: Set<SceneCategory> }[],
): Map<SceneCategory, { mean: number; objects: number }> {
  const means = new Map<SceneCategory, { mean: number; objects: number }>();
  for (const category of SCENE_CATEGORIES) {
    const members = objects.filter((o) => o.categories.has(category));
    if (members.length === 0) continue;
    const mean = members.reduce((s, o) => s + o.scores.jfMean, 0) / members.length;
    means.set(category, { mean, objects: members.length });
  }
  return means;
}
