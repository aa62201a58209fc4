/**
 * `truth.json`: what a scene directory's label maps cannot say. Per object and frame: its whole
 * area (as if nothing hid it and the frame were endless), its area inside the frame, its visible
 * area and its true centre; and its colour. With it a scorer can tell an occlusion from an exit
 * and knows when an object is half visible again. A scene directory without it is still scored,
 * from its label maps alone (see `scene_events.ts`).
 * @module
 */
import { z } from "zod";

/** One object's story, frame by frame. */
export interface ObjectTruth {
  readonly id: number;
  readonly label: string;
  /** Hue in degrees and saturation in [0, 1] of the object's colour. */
  readonly hue: number;
  readonly saturation: number;
  /** Whole area in pixels, per frame. */
  readonly area: readonly number[];
  /** Area inside the frame, occluded or not, per frame. */
  readonly inFrameArea: readonly number[];
  /** Visible area (its pixels in the label map), per frame. */
  readonly visibleArea: readonly number[];
  /** True centre `[x, y]` per frame, possibly outside the frame. */
  readonly centre: readonly (readonly [number, number])[];
}

/** A scene's `truth.json`. */
export interface SceneTruth {
  readonly version: 1;
  readonly frames: number;
  readonly objects: readonly ObjectTruth[];
}

const count = z.number().int().nonnegative();
const schema = z.object({
  version: z.literal(1),
  frames: count,
  objects: z.array(z.object({
    id: z.number().int().positive(),
    label: z.string(),
    hue: z.number(),
    saturation: z.number().min(0).max(1),
    area: z.array(count),
    inFrameArea: z.array(count),
    visibleArea: z.array(count),
    centre: z.array(z.tuple([z.number(), z.number()])),
  })),
});

/**
 * Parses a `truth.json` text; throws a one-line error naming `source` when it is not one, or when
 * an object's series are not one value per frame.
 *
 * @example
 * ```ts
 * const truth = parseSceneTruth(await Deno.readTextFile("scene/truth.json"), "scene/truth.json");
 * ```
 */
export function parseSceneTruth(text: string, source: string): SceneTruth {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(`${source}: not JSON (${(error as Error).message})`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${source}: ${issue.path.join(".") || "root"}: ${issue.message}`);
  }
  const truth = parsed.data;
  for (const o of truth.objects) {
    for (const series of [o.area, o.inFrameArea, o.visibleArea, o.centre]) {
      if (series.length !== truth.frames) {
        throw new Error(
          `${source}: object ${o.id} has ${series.length} values, not ${truth.frames}`,
        );
      }
    }
  }
  return truth;
}

/**
 * `truth.json` text: one line per object series, so the file stays diffable.
 *
 * @example
 * ```ts
 * await Deno.writeTextFile("scene/truth.json", sceneTruthJson(truth));
 * ```
 */
export function sceneTruthJson(truth: SceneTruth): string {
  const objects = truth.objects.map((o) =>
    [
      `    {"id": ${o.id}, "label": ${JSON.stringify(o.label)}, "hue": ${o.hue}, ` +
      `"saturation": ${o.saturation},`,
      `     "area": ${JSON.stringify(o.area)},`,
      `     "inFrameArea": ${JSON.stringify(o.inFrameArea)},`,
      `     "visibleArea": ${JSON.stringify(o.visibleArea)},`,
      `     "centre": ${JSON.stringify(o.centre)}}`,
    ].join("\n")
  );
  return `{\n  "version": 1,\n  "frames": ${truth.frames},\n  "objects": [\n${
    objects.join(",\n")
  }\n  ]\n}\n`;
}
