/**
 * Records a scene's `truth.json` (see `eval/scene_truth.ts`) while its frames are rendered.
 * @module
 */
import type { ObjectTruth, SceneTruth } from "../eval/scene_truth.ts";
import { OBJECT_SATURATION, objectArea, objectCentre, type Scene } from "./scene.ts";

/**
 * Per-frame areas and centres of every object of a scene.
 *
 * @example
 * ```ts
 * const recorder = new TruthRecorder(scene);
 * for (let t = 0; t < scene.frames; t++) recorder.add(t, rendered.labels, rendered.inFrameArea);
 * const truth = recorder.finish();
 * ```
 */
export class TruthRecorder {
  readonly #scene: Scene;
  readonly #objects: Map<number, {
    area: number[];
    inFrameArea: number[];
    visibleArea: number[];
    centre: [number, number][];
  }>;

  constructor(scene: Scene) {
    this.#scene = scene;
    this.#objects = new Map(
      scene.objects.map((o) => [o.id, { area: [], inFrameArea: [], visibleArea: [], centre: [] }]),
    );
  }

  /** Records frame `t` from its label map and each object's in-frame area. */
  add(t: number, labels: Uint16Array, inFrameArea: ReadonlyMap<number, number>): void {
    const visible = new Map<number, number>();
    for (const id of labels) if (id !== 0) visible.set(id, (visible.get(id) ?? 0) + 1);
    for (const object of this.#scene.objects) {
      const series = this.#objects.get(object.id)!;
      const [x, y] = objectCentre(object, t);
      series.area[t] = objectArea(object, t);
      series.inFrameArea[t] = inFrameArea.get(object.id) ?? 0;
      series.visibleArea[t] = visible.get(object.id) ?? 0;
      series.centre[t] = [Math.round(x * 100) / 100, Math.round(y * 100) / 100];
    }
  }

  finish(): SceneTruth {
    const objects: ObjectTruth[] = this.#scene.objects.map((o) => ({
      id: o.id,
      label: o.label,
      hue: o.hue,
      saturation: o.saturation ?? OBJECT_SATURATION,
      ...this.#objects.get(o.id)!,
    }));
    return { version: 1, frames: this.#scene.frames, objects };
  }
}
