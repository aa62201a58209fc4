/**
 * What happens to each object of a sample over time, read from its ground truth: when it is
 * visible, fully hidden by a nearer object, or out of the frame; and the prompt a user would give
 * on its first usable frame (a point well inside it and its box).
 * @module
 */
import { deepestPoint } from "../segment/distance.ts";
import type { Scene, SceneEvent } from "./scene.ts";

/**
 * A prompt point must lie at least this far (pixels) inside the visible object: an object
 * sliding in from an edge is prompted once it shows this much of itself, not on its first sliver.
 */
export const MIN_PROMPT_DEPTH = 10;

/** A run of consecutive frames, both ends included. */
export type FrameRange = readonly [first: number, last: number];

/** The prompt of one object, in the shape of the prompts file (see notes/prompts_schema.md). */
export interface ObjectPrompt {
  readonly frame: number;
  readonly points: readonly (readonly [number, number])[];
  /** `[x0, y0, x1, y1]`: the visible mask's extent, `x1 = xmax + 1`. */
  readonly box: readonly [number, number, number, number];
}

/** One object's story in a sample. */
export interface ObjectTimeline {
  readonly id: number;
  readonly label: string;
  /** Frames with at least one visible pixel. */
  readonly visible: readonly FrameRange[];
  /** Frames inside the frame's area but entirely covered by nearer objects. */
  readonly fullyOccluded: readonly FrameRange[];
  /** Frames entirely outside the frame. */
  readonly outOfFrame: readonly FrameRange[];
  readonly prompt: ObjectPrompt;
}

interface Accumulator {
  readonly visible: boolean[];
  readonly occluded: boolean[];
  readonly outside: boolean[];
  prompt?: ObjectPrompt;
}

/**
 * Collects per-frame facts as the frames are rendered, then summarises them.
 *
 * @example
 * ```ts
 * const timeline = new SampleTimeline(scene);
 * for (let t = 0; t < scene.frames; t++) timeline.add(t, rendered.labels, rendered.inFrameArea);
 * const objects = timeline.finish(); // throws if the scene misses one of its events
 * ```
 */
export class SampleTimeline {
  readonly #scene: Scene;
  readonly #objects = new Map<number, Accumulator>();

  constructor(scene: Scene) {
    this.#scene = scene;
    for (const object of scene.objects) {
      this.#objects.set(object.id, { visible: [], occluded: [], outside: [] });
    }
  }

  /** Records frame `t` from its label map and each object's unoccluded in-frame area. */
  add(t: number, labels: Uint16Array, inFrameArea: ReadonlyMap<number, number>): void {
    const { width, height } = this.#scene;
    const visibleArea = new Map<number, number>();
    for (let i = 0; i < labels.length; i++) {
      if (labels[i] !== 0) visibleArea.set(labels[i], (visibleArea.get(labels[i]) ?? 0) + 1);
    }
    for (const [id, acc] of this.#objects) {
      const visible = (visibleArea.get(id) ?? 0) > 0;
      const inFrame = (inFrameArea.get(id) ?? 0) > 0;
      acc.visible[t] = visible;
      acc.occluded[t] = inFrame && !visible;
      acc.outside[t] = !inFrame;
      if (acc.prompt === undefined && visible) {
        const data = new Uint8Array(labels.length);
        let x0 = width, y0 = height, x1 = -1, y1 = -1;
        for (let i = 0; i < labels.length; i++) {
          if (labels[i] !== id) continue;
          data[i] = 1;
          const x = i % width, y = (i - x) / width;
          if (x < x0) x0 = x;
          if (x > x1) x1 = x;
          if (y < y0) y0 = y;
          if (y > y1) y1 = y;
        }
        const deepest = deepestPoint({ width, height, data });
        if (deepest && deepest.distance >= MIN_PROMPT_DEPTH) {
          acc.prompt = {
            frame: t,
            points: [[deepest.x, deepest.y]],
            box: [x0, y0, x1 + 1, y1 + 1],
          };
        }
      }
    }
  }

  /** Per-object timelines; throws when an object never gets a prompt or a scene event is missing. */
  finish(): ObjectTimeline[] {
    const timelines = this.#scene.objects.map((object) => {
      const acc = this.#objects.get(object.id)!;
      if (acc.prompt === undefined) {
        throw new Error(
          `${this.#scene.name}: object ${object.id} is never visible enough to prompt`,
        );
      }
      return {
        id: object.id,
        label: object.label,
        visible: ranges(acc.visible),
        fullyOccluded: ranges(acc.occluded),
        outOfFrame: ranges(acc.outside),
        prompt: acc.prompt,
      };
    });
    for (const event of this.#scene.events) checkEvent(this.#scene, event, timelines);
    return timelines;
  }
}

function checkEvent(scene: Scene, event: SceneEvent, timelines: readonly ObjectTimeline[]): void {
  const timeline = timelines.find((t) => t.id === event.id);
  const fail = (what: string) => {
    throw new Error(`${scene.name}: object ${event.id} ${what}`);
  };
  if (timeline === undefined) return fail("is not in the scene");
  const lastFrame = scene.frames - 1;
  switch (event.kind) {
    case "occludedThenReappears": {
      const long = timeline.fullyOccluded.find(([a, b]) => b - a + 1 >= event.minFrames);
      if (!long) return fail(`is never fully occluded for ${event.minFrames} frames`);
      if (!timeline.visible.some(([a]) => a > long[1])) return fail("does not reappear");
      return;
    }
    case "leavesFrame": {
      const last = timeline.visible[timeline.visible.length - 1];
      const gone = timeline.outOfFrame[timeline.outOfFrame.length - 1];
      if (!gone || gone[1] !== lastFrame || gone[0] <= last[1]) {
        return fail("does not leave the frame for good");
      }
      return;
    }
    case "entersLate": {
      if (timeline.visible[0][0] <= event.afterFrame) {
        return fail(`is visible at frame ${timeline.visible[0][0]}, not after ${event.afterFrame}`);
      }
      return;
    }
  }
}

function ranges(flags: readonly boolean[]): FrameRange[] {
  const out: FrameRange[] = [];
  let start = -1;
  for (let t = 0; t <= flags.length; t++) {
    if (t < flags.length && flags[t]) {
      if (start < 0) start = t;
    } else if (start >= 0) {
      out.push([start, t - 1]);
      start = -1;
    }
  }
  return out;
}
