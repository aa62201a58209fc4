/**
 * Whole-frame re-identification in the tracker, on small rendered scenes (textured background,
 * textured objects) tracked with the region-growing test segmenter, and once with the fixture
 * model: an object on a curve found again soon after it comes out from behind another, a lost
 * object never given to a look-alike, an object prompted half hidden kept when it comes out, and
 * the model's descriptors in the appearance memory.
 */
import assert from "node:assert/strict";
import { lastValueFrom, take, toArray } from "rxjs";
import { disappearances, seriesFromTruth } from "../src/eval/scene_events.ts";
import { regionSimilarity } from "../src/eval/region.ts";
import { readCheckpoint } from "../src/model/checkpoint/read_checkpoint.ts";
import { OnnxSegmenter } from "../src/model/onnx_segmenter.ts";
import { buildDecoderModel, buildEncoderModel } from "../src/model/tinysam/graphs.ts";
import {
  renderSceneFrame,
  type Scene,
  type SceneObject,
  sceneTextures,
} from "../src/samples/scene.ts";
import { SampleTimeline } from "../src/samples/timeline.ts";
import { TruthRecorder } from "../src/samples/truth_recorder.ts";
import { promptsJson } from "../src/samples/generate.ts";
import type { Frame } from "../src/frame.ts";
import { lowResGrid } from "../src/segment/geometry/low_res_grid.ts";
import { parsePromptsJson, resolvePrompts } from "../src/segment/prompts.ts";
import type { Segmenter } from "../src/segment/segmenter.ts";
import { ObjectTracker } from "../src/segment/tracker/object_tracker.ts";
import { chooseFinds } from "../src/segment/tracker/reacquisition.ts";
import { searchPrompts } from "../src/segment/tracker/search_prompts.ts";
import { colourHistogram } from "../src/segment/tracker/appearance.ts";
import type { FrameCandidate } from "../src/segment/tracker/frame_candidate.ts";
import type { ObjectTrack } from "../src/segment/tracker/object_state.ts";
import { maskExtent, type PixelWindow } from "../src/segment/geometry/pixel_window.ts";
import { LOW_RES_SIDE } from "../src/segment/segmenter.ts";
import { hueRgb, renderDiscFrame } from "./helpers/disc_scene.ts";
import { nextScanPoints } from "../src/segment/tracker/whole_frame_scan.ts";
import { decodeVideo } from "../src/video/decode.ts";
import { parseInputSource } from "../src/video/input_source.ts";
import { probeVideo } from "../src/video/probe.ts";
import { RegionGrowingSegmenter } from "./helpers/region_growing_segmenter.ts";
import { CLIPS_DIR, FIXTURE_DIR, sharedAvailable } from "./helpers/shared.ts";
import { videoInfoOf } from "./helpers/video.ts";

const W = 400, H = 240;

function scene(name: string, frames: number, objects: SceneObject[]): Scene {
  return {
    name,
    description: name,
    width: W,
    height: H,
    frames,
    fps: 30,
    seed: 77,
    pan: [0.6, 0.2],
    objects,
    events: [],
  };
}

/** Centres along a circle: `radius` around `centre`, `turn` radians per frame from `phase`. */
function arc(
  centre: [number, number],
  radius: number,
  phase: number,
  turn: number,
  frames: number,
): [number, number][] {
  return Array.from({ length: frames }, (_, t) => [
    centre[0] + radius * Math.cos(phase + turn * t),
    centre[1] + radius * Math.sin(phase + turn * t),
  ]);
}

interface Tracked {
  /** Per object id: J per frame of the tracker's mask for that id against its ground truth. */
  readonly j: Map<number, number[]>;
  /** Per frame, the tracker's mask of each id. */
  readonly masks: Map<number, Uint8Array>[];
  /** Per frame, the ground-truth label map. */
  readonly labels: Uint16Array[];
  readonly truth: ReturnType<TruthRecorder["finish"]>;
  readonly promptFrames: Map<number, number>;
}

/** Renders the scene, prompts each object as the samples do, tracks it every frame. */
async function track(s: Scene, segmenter: Segmenter = new RegionGrowingSegmenter()) {
  const textures = sceneTextures(s);
  const timeline = new SampleTimeline(s);
  const recorder = new TruthRecorder(s);
  const frames: Frame[] = [];
  const labels: Uint16Array[] = [];
  for (let t = 0; t < s.frames; t++) {
    const r = renderSceneFrame(s, textures, t);
    timeline.add(t, r.labels, r.inFrameArea);
    recorder.add(t, r.labels, r.inFrameArea);
    frames.push({ index: t, ptsSeconds: t / s.fps, width: W, height: H, data: r.rgb });
    labels.push(r.labels);
  }
  const timelines = timeline.finish();
  const prompts = resolvePrompts(
    parsePromptsJson(promptsJson(timelines), "prompts.json"),
    videoInfoOf(W, H),
  );
  const tracker = new ObjectTracker(segmenter, prompts);
  const j = new Map(s.objects.map((o) => [o.id, [] as number[]]));
  const masks: Map<number, Uint8Array>[] = [];
  for (const frame of frames) {
    const out = await tracker.step(frame);
    const byId = new Map(out.objects.map((o) => [o.id, o.mask.data]));
    masks.push(byId);
    for (const o of s.objects) {
      const gt = labels[frame.index].map((id) => id === o.id ? 1 : 0);
      const predicted = byId.get(o.id) ?? new Uint8Array(W * H);
      j.get(o.id)![frame.index] = gt.some((v) => v) || predicted.some((v) => v)
        ? regionSimilarity(Uint8Array.from(gt), predicted)
        : 1;
    }
  }
  return {
    j,
    masks,
    labels,
    truth: recorder.finish(),
    promptFrames: new Map(timelines.map((t) => [t.id, t.prompt.frame])),
    tracker,
  } satisfies Tracked & { tracker: ObjectTracker };
}

Deno.test("a disc on a curve, hidden for a few frames, is found again within 5 frames", async () => {
  const frames = 60;
  // Radius 70, 0.09 rad per frame (6.3 px per frame): behind the cover around frame 24, it comes
  // out some 30 degrees off the straight line it went in on.
  const path = arc([200, 200], 70, Math.PI, 0.09, frames);
  const s = scene("curve", frames, [
    { id: 1, label: "disc", hue: 5, shape: { kind: "disc", radius: 17 }, depth: 0, ...at(path) },
    {
      id: 2,
      label: "cover",
      hue: 215,
      shape: { kind: "superellipse", rx: 44, ry: 40, power: 4 },
      depth: 1,
      ...at(Array.from({ length: frames }, () => path[24])),
    },
  ]);
  const run = await track(s);
  const disc = run.truth.objects[0];
  // Hidden by the cover, then (later) out through the bottom edge.
  const [hidden] = disappearances(seriesFromTruth(disc, 0), run.j.get(1)!);
  assert.equal(hidden.kind, "occlusion");
  assert.ok(hidden.hiddenFrames >= 3, `hidden ${hidden.hiddenFrames} frames`);
  assert.ok(hidden.delay !== undefined && hidden.delay <= 5, JSON.stringify(hidden));
});

Deno.test("end to end: a lost object is not given to a tracked look-alike of nearly the same colour", async () => {
  const frames = 44;
  const straight = (x0: number, y: number, vx: number) =>
    Array.from({ length: frames }, (_, t) => [x0 + vx * t, y] as [number, number]);
  const s = scene("look-alike", frames, [
    {
      id: 1,
      label: "red disc",
      hue: 0,
      shape: { kind: "disc", radius: 18 },
      depth: 0,
      ...at(straight(60, 120, 4)),
    },
    // Nearly the same red, just beside where the first comes out from behind the cover.
    {
      id: 2,
      label: "red ellipse",
      hue: 8,
      shape: { kind: "ellipse", rx: 20, ry: 16 },
      depth: 0,
      ...at(straight(228, 176, 0.2)),
    },
    {
      id: 3,
      label: "cover",
      hue: 140,
      shape: { kind: "disc", radius: 42 },
      depth: 1,
      ...at(straight(150, 120, 0)),
    },
  ]);
  const run = await track(s);
  for (let t = 0; t < frames; t++) {
    const first = run.masks[t].get(1);
    if (first) {
      const onLookAlike = run.labels[t].reduce((n, id, i) => n + (id === 2 && first[i] ? 1 : 0), 0);
      assert.ok(
        onLookAlike < 20,
        `frame ${t}: object 1 drawn on ${onLookAlike} of object 2's pixels`,
      );
    }
    assert.ok(run.j.get(2)![t] >= 0.8, `frame ${t}: the look-alike keeps its own id`);
  }
  const gone = disappearances(seriesFromTruth(run.truth.objects[0], 0), run.j.get(1)!);
  assert.ok(gone.length >= 1 && gone.every((d) => d.delay !== undefined), JSON.stringify(gone));
});

/** A lost object whose colours are `colour`, last seen in `bounds` at rest. */
function lostTrack(id: number, colour: Float32Array, bounds: PixelWindow): ObjectTrack {
  const area = (bounds.x1 - bounds.x0) * (bounds.y1 - bounds.y0);
  return {
    id,
    status: "lost",
    mask: { width: 320, height: 200, data: new Uint8Array(320 * 200) },
    bounds,
    area: 0,
    lowResLogits: new Float32Array(LOW_RES_SIDE * LOW_RES_SIDE),
    score: 0.9,
    velocity: { x: 0, y: 0 },
    velocityKnown: true,
    referenceArea: area * 0.8,
    referenceBounds: bounds,
    referenceFrame: 0,
    appearance: colour,
    descriptor: new Float32Array(0),
    lastSeenFrame: 0,
    lostSince: 1,
    decidedFrame: 1,
    trackedFrames: 1,
    origin: "prompt",
  };
}

/** A 320 x 200 frame with one red disc (radius 20 at (160, 100)), its mask and its colours. */
function redDisc() {
  const frame = renderDiscFrame(
    320,
    200,
    [{ id: 9, x: 160, y: 100, radius: 20, rgb: hueRgb(3) }],
    3,
  );
  const mask = { width: 320, height: 200, data: new Uint8Array(320 * 200) };
  for (let y = 80; y < 120; y++) {
    for (let x = 140; x < 180; x++) {
      if ((x + 0.5 - 160) ** 2 + (y + 0.5 - 100) ** 2 <= 400) mask.data[y * 320 + x] = 1;
    }
  }
  const { area, bounds } = maskExtent(mask, { x0: 0, y0: 0, x1: 320, y1: 200 });
  return { frame, mask, area, bounds, red: colourHistogram(frame, mask, bounds) };
}

/** Decodes one scan point on `frame` and asks `chooseFinds` who it is. */
async function findAt(
  frame: Frame,
  point: { x: number; y: number },
  lost: ObjectTrack[],
  known: ObjectTrack[],
  others: Map<number, FrameCandidate>,
) {
  const segmenter = new RegionGrowingSegmenter();
  const embedding = await segmenter.embed(frame);
  const search = searchPrompts(lost, [], frame, [point], {}, {
    maxNegatives: 2,
    minNegativeArea: 12,
  })
    .filter((p) => p.kind === "scan");
  const decoded = await segmenter.decode(embedding, search.map((p) => p.prompt));
  return chooseFinds(
    { frame, embedding, segmenter, grid: lowResGrid(320, 200), lost, known, others },
    search.map((prompt, k) => ({ prompt, decoded: decoded[k] })),
  );
}

Deno.test("a find on a tracked look-alike's pixels is never the lost object; on a mask that spread onto it, it is", async () => {
  // A red disc (tracked) where a lost red object is expected.
  const { frame, mask, area, bounds, red } = redDisc();
  const lost = lostTrack(1, red, { x0: 140, y0: 80, x1: 180, y1: 120 });
  const tracked: FrameCandidate = {
    id: 2,
    source: "propagation",
    mask,
    area,
    bounds,
    score: 0.95,
    lowResLogits: new Float32Array(LOW_RES_SIDE * LOW_RES_SIDE),
    priority: 0,
  };
  const point = { x: 160, y: 100 };
  const holder = (colour: Float32Array) => ({
    ...lostTrack(2, colour, bounds),
    status: "tracked" as const,
  });
  const others = new Map([[2, tracked]]);
  assert.equal((await findAt(frame, point, [lost], [lost, holder(red)], others)).size, 0);
  // The same region, nobody holding it: it is the lost object.
  assert.deepEqual([...(await findAt(frame, point, [lost], [lost], new Map())).keys()], [1]);
  // Held by an object it clearly does not look like (blue): that mask spread onto it.
  const blue = new Float32Array(512);
  blue[7] = 1;
  assert.deepEqual([...(await findAt(frame, point, [lost], [lost, holder(blue)], others)).keys()], [
    1,
  ]);
});

Deno.test("a find that looks more like another object than like the lost one is not taken", async () => {
  const { frame, red } = redDisc();
  // The lost object is only partly this red (similarity sqrt(0.5) = 0.71: enough where it is
  // expected); another object, tracked elsewhere, is all this red (similarity 1).
  const partlyRed = red.map((v) => v / 2);
  partlyRed[0] += 0.5;
  const lost = lostTrack(1, partlyRed, { x0: 140, y0: 80, x1: 180, y1: 120 });
  const other = {
    ...lostTrack(2, red, { x0: 20, y0: 20, x1: 60, y1: 60 }),
    status: "tracked" as const,
  };
  const point = { x: 160, y: 100 };
  assert.equal((await findAt(frame, point, [lost], [lost, other], new Map())).size, 0);
  assert.deepEqual([...(await findAt(frame, point, [lost], [lost], new Map())).keys()], [1]);
});

Deno.test("an object prompted while half hidden is kept as it comes out", async () => {
  const frames = 45;
  const s = scene("half-hidden", frames, [
    {
      id: 1,
      label: "blob",
      hue: 48,
      shape: { kind: "blob", radius: 26, harmonics: [[3, 0.08, 0.5]] },
      depth: 0,
      ...at(Array.from({ length: frames }, (_, t) => [200 + 46 + 2 * t, 120] as [number, number])),
    },
    {
      id: 2,
      label: "cover",
      hue: 280,
      shape: { kind: "superellipse", rx: 48, ry: 48, power: 4 },
      depth: 1,
      ...at(Array.from({ length: frames }, () => [200, 120] as [number, number])),
    },
  ]);
  const run = await track(s);
  const blob = run.truth.objects[0];
  assert.equal(run.promptFrames.get(1), 0);
  assert.ok(blob.visibleArea[0] < 0.8 * blob.inFrameArea[0], "prompted partly hidden");
  assert.ok(blob.visibleArea[frames - 1] === blob.inFrameArea[frames - 1], "fully out at the end");
  const late = run.j.get(1)!.slice(frames - 15);
  assert.ok(
    late.every((j) => j >= 0.85),
    `J over the last 15 frames: ${late.map((j) => j.toFixed(2))}`,
  );
});

Deno.test({
  name:
    "the fixture model: descriptors in the appearance memory, and a whole-frame search with them",
  ignore: !sharedAvailable,
  async fn() {
    const dict = await readCheckpoint(`${FIXTURE_DIR}/tinysam_random.pth`);
    const model = await OnnxSegmenter.create({
      encoder: buildEncoderModel(dict),
      decoder: buildDecoderModel(dict),
      threads: 2,
    });
    let described = 0;
    const segmenter: Segmenter = {
      embed: (frame) => model.embed(frame),
      decode: (embedding, prompts) => model.decode(embedding, prompts),
      upscaleLogits: (embedding, logits, window) => model.upscaleLogits(embedding, logits, window),
      describe: (embedding, logits) => (described++, model.describe(embedding, logits)),
      dispose: () => model.dispose(),
    };
    try {
      const source = parseInputSource(`${CLIPS_DIR}/bedroom.mp4`);
      const info = await probeVideo(source);
      const frames = await lastValueFrom(decodeVideo(source, info).pipe(take(3), toArray()));
      const { width, height } = info;
      const box = [width / 3, height / 3, width / 2, height / 2].map(Math.round);
      const prompts = resolvePrompts(
        parsePromptsJson(
          JSON.stringify({ objects: [{ id: 1, prompts: [{ frame: 0, box }] }] }),
          "prompts.json",
        ),
        info,
      );
      const tracker = new ObjectTracker(segmenter, prompts);
      for (const frame of frames.slice(0, 2)) await tracker.step(frame);
      const track = tracker.state.track(1)!;
      assert.equal(track.descriptor.length, 256, "the model's descriptor is remembered");
      const norm = Math.hypot(...track.descriptor);
      assert.ok(Math.abs(norm - 1) < 1e-4, `unit length (${norm})`);
      // The same object, lost: the scan's regions are described and compared with its memory.
      const lost = { ...track, status: "lost" as const, lostSince: 1 };
      const frame = frames[2];
      const embedding = await segmenter.embed(frame);
      const scan = nextScanPoints(width, height, 160, undefined, 6, () => false);
      const search = searchPrompts([lost], [], frame, scan.points, {}, {
        maxNegatives: 2,
        minNegativeArea: 12,
      });
      const decoded = await segmenter.decode(embedding, search.map((p) => p.prompt));
      described = 0;
      const finds = chooseFinds(
        {
          frame,
          embedding,
          segmenter,
          grid: lowResGrid(width, height),
          lost: [lost],
          known: [lost],
          others: new Map(),
        },
        search.map((prompt, k) => ({ prompt, decoded: decoded[k] })),
        { minScore: 0 },
      );
      assert.ok(described > 0, "regions were described by the model");
      for (const candidate of finds.values()) assert.equal(candidate.id, 1);
    } finally {
      await segmenter.dispose();
    }
  },
});

/** A path as `SceneObject` motion fields. */
function at(path: [number, number][]): Pick<SceneObject, "start" | "velocity" | "path"> {
  return { start: path[0], velocity: [0, 0], path };
}
