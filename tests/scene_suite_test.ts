/**
 * The seeded scene suite's parts: the procedural scenes (deterministic, varied, each object
 * promptable), `truth.json`, and the events and categories read from a scene's truth, on hand-made
 * series whose answers are worked out by hand.
 */
import assert from "node:assert/strict";
import { seededScene } from "../src/samples/generate.ts";
import { proceduralScene } from "../src/samples/procedural.ts";
import { renderSceneLabels, sceneTextures } from "../src/samples/scene.ts";
import { TruthRecorder } from "../src/samples/truth_recorder.ts";
import { parseSceneTruth, sceneTruthJson } from "../src/eval/scene_truth.ts";
import {
  categoryMeans,
  disappearances,
  fastOrCurved,
  hueDistance,
  objectCategories,
  type ObjectSeries,
} from "../src/eval/scene_events.ts";
import type { ObjectScores } from "../src/eval/evaluator.ts";

const SUITE_SEEDS = Array.from({ length: 32 }, (_, k) => k + 1);

Deno.test("a seed always gives the same scene, and different seeds give different scenes", () => {
  assert.deepEqual(proceduralScene(7), proceduralScene(7));
  assert.notDeepEqual(proceduralScene(7), proceduralScene(8));
  assert.notDeepEqual(proceduralScene(7, 0), proceduralScene(7, 1));
});

Deno.test("the suite's scenes vary: stories, object counts, backgrounds, zoom and motions", () => {
  const scenes = SUITE_SEEDS.map((seed) => proceduralScene(seed));
  const stories = ["occlusion", "exit-reentry", "similar", "half-hidden", "late-entry"];
  for (const story of stories) {
    const n = scenes.filter((s) => s.description.includes(story)).length;
    assert.ok(n >= 8, `${story} in ${n} of 32 scenes`);
  }
  const counts = new Set(scenes.map((s) => s.objects.length));
  assert.ok([2, 3, 4, 5, 6].every((n) => counts.has(n)), `object counts ${[...counts]}`);
  assert.ok(scenes.some((s) => s.background?.accent) && scenes.some((s) => !s.background?.accent));
  const busy = scenes.filter((s) => s.background!.cells[0] === 32).length;
  assert.ok(busy >= 8 && busy <= 24, `${busy} busy backgrounds`);
  assert.ok(scenes.filter((s) => s.zoom).length >= 4, "some scenes zoom");
  const labels = scenes.flatMap((s) => s.objects.map((o) => o.label)).join(" ");
  for (const motion of ["curving", "speeding up", "turning while hidden", "orbiting", "fast"]) {
    assert.ok(labels.includes(motion), motion);
  }
  assert.ok(scenes.some((s) => s.objects.some((o) => (o.saturation ?? 1) < 0.2)), "a grey one");
});

Deno.test("every object of a seeded scene shows itself enough to be prompted", () => {
  for (const seed of [1, 2, 3]) {
    const scene = seededScene(seed);
    const textures = sceneTextures(scene);
    const seen = new Set<number>();
    for (let t = 0; t < scene.frames; t++) {
      for (const id of renderSceneLabels(scene, textures, t).labels) if (id) seen.add(id);
    }
    assert.deepEqual([...seen].sort((a, b) => a - b), scene.objects.map((o) => o.id));
  }
});

Deno.test("truth.json round-trips, and a broken one is one clear error", () => {
  const scene = seededScene(4);
  const recorder = new TruthRecorder(scene);
  const textures = sceneTextures(scene);
  for (let t = 0; t < scene.frames; t++) {
    const { labels, inFrameArea } = renderSceneLabels(scene, textures, t);
    recorder.add(t, labels, inFrameArea);
  }
  const truth = recorder.finish();
  const parsed = parseSceneTruth(sceneTruthJson(truth), "truth.json");
  assert.deepEqual(parsed, JSON.parse(JSON.stringify(truth)));
  for (const o of parsed.objects) {
    o.visibleArea.forEach((v, t) => assert.ok(v <= o.inFrameArea[t], `object ${o.id} frame ${t}`));
  }
  assert.throws(() => parseSceneTruth("{", "a/truth.json"), /^Error: a\/truth.json: not JSON/);
  const short = { ...truth, objects: [{ ...truth.objects[0], area: [1, 2] }] };
  assert.throws(
    () => parseSceneTruth(JSON.stringify(short), "b/truth.json"),
    /b\/truth.json: object 1 has 2 values, not 90/,
  );
  assert.throws(
    () => parseSceneTruth(JSON.stringify({ ...truth, version: 2 }), "c/truth.json"),
    /c\/truth.json: version/,
  );
});

/** A series of `n` frames: always in frame, area 100, at rest unless told. */
function series(visible: number[], overrides: Partial<ObjectSeries> = {}): ObjectSeries {
  return {
    id: 1,
    visibleArea: visible,
    area: visible.map(() => 100),
    inFrameArea: visible.map(() => 100),
    centre: visible.map(() => [50, 50] as const),
    hue: 0,
    saturation: 0.8,
    promptFrame: 0,
    ...overrides,
  };
}

Deno.test("disappearances: an occlusion, its length and the delay until the tracker has it back", () => {
  //            0    1    2   3  4  5   6   7    8    9
  const s = series([100, 100, 40, 0, 0, 0, 30, 60, 100, 100]);
  const j = [0.9, 0.9, 0.2, 0, 0, 0, 0, 0.3, 0.7, 0.9];
  assert.deepEqual(disappearances(s, j), [{
    objectId: 1,
    kind: "occlusion",
    from: 2, // the first frame under half visible
    hiddenFrames: 3, // frames 3, 4, 5 show nothing
    halfVisibleAt: 7, // 60 >= 50
    delay: 1, // J >= 0.5 on frame 8
  }]);
  // Never found again before the end.
  assert.equal(disappearances(s, j.map((v, t) => t >= 7 ? 0.1 : v))[0].delay, undefined);
  // A dip that never hides the object entirely is no disappearance.
  assert.deepEqual(disappearances(series([100, 40, 30, 100]), [1, 1, 1, 1]), []);
  // Not yet seen: a late entry is no disappearance.
  assert.deepEqual(disappearances(series([0, 0, 100, 100]), [0, 0, 1, 1]), []);
});

Deno.test("disappearances: out of the frame is an exit, and without truth the kind is unknown", () => {
  const visible = [100, 0, 0, 100];
  const exit = series(visible, { inFrameArea: [100, 0, 0, 100] });
  assert.equal(disappearances(exit, [1, 0, 0, 1])[0].kind, "exit");
  const unknown = series(visible, { inFrameArea: undefined });
  assert.equal(disappearances(unknown, [1, 0, 0, 1])[0].kind, "unknown");
  // Left for good: no reappearance, so no delay.
  const gone = disappearances(series([100, 0, 0, 0], { inFrameArea: [100, 0, 0, 0] }), [
    1,
    0,
    0,
    0,
  ]);
  assert.equal(gone[0].halfVisibleAt, undefined);
});

Deno.test("objectCategories: occlusion, exit, look-alikes, a partly hidden prompt", () => {
  const s = series([100, 0, 0, 100], { hue: 355, promptFrame: 0 });
  const gone = disappearances(s, [1, 0, 0, 1]);
  const lookAlike = series([100, 100, 100, 100], { id: 2, hue: 5 });
  const grey = series([100, 100, 100, 100], { id: 3, hue: 358, saturation: 0.1 });
  assert.deepEqual([...objectCategories(s, gone, [lookAlike])].sort(), [
    "occlusion",
    "similar colours",
  ]);
  assert.deepEqual([...objectCategories(s, gone, [grey])], ["occlusion"], "grey is no look-alike");
  const halfHidden = series([50, 100], { inFrameArea: [100, 100] });
  assert.deepEqual([...objectCategories(halfHidden, [], [])], ["partly hidden prompt"]);
  const exit = series([100, 0, 100], { inFrameArea: [100, 0, 100] });
  assert.deepEqual([...objectCategories(exit, disappearances(exit, [1, 0, 1]), [])], [
    "exit/re-entry",
  ]);
  assert.equal(hueDistance(355, 5), 10);
  assert.equal(hueDistance(90, 270), 180);
});

Deno.test("fastOrCurved: a slow straight path is neither, 6 px per frame is fast, an orbit curves", () => {
  const line = Array.from({ length: 40 }, (_, t) => [10 + 2 * t, 50] as const);
  assert.equal(fastOrCurved(series(line.map(() => 100), { centre: line })), false);
  const fast = Array.from({ length: 40 }, (_, t) => [10 + 6 * t, 50] as const);
  assert.equal(fastOrCurved(series(fast.map(() => 100), { centre: fast })), true);
  // Radius 60, a turn every 80 frames: 4.7 px per frame, 36 degrees between 8-frame chords.
  const orbit = Array.from(
    { length: 40 },
    (_, t) =>
      [100 + 60 * Math.cos(t * Math.PI / 40), 100 + 60 * Math.sin(t * Math.PI / 40)] as const,
  );
  assert.equal(fastOrCurved(series(orbit.map(() => 100), { centre: orbit })), true);
});

Deno.test("categoryMeans: mean J&F over each category's objects", () => {
  const scores = (id: number, jfMean: number) => ({ id, jfMean }) as ObjectScores;
  const means = categoryMeans([
    { scores: scores(1, 0.9), categories: new Set(["occlusion"] as const) },
    { scores: scores(2, 0.5), categories: new Set(["occlusion", "similar colours"] as const) },
    { scores: scores(3, 1), categories: new Set() },
  ]);
  assert.deepEqual(means.get("occlusion"), { mean: 0.7, objects: 2 });
  assert.deepEqual(means.get("similar colours"), { mean: 0.5, objects: 1 });
  assert.equal(means.has("exit/re-entry"), false);
});
