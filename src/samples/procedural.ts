/**
 * Scenes made from a seed, for judging tracking on situations it was never tuned on. A scene
 * draws its background (smooth or busy noise, muted or with large patches of another colour, a
 * pan and sometimes a slow zoom) and 2-6 objects of random shape, size and colour, then stages a
 * few of these stories on them:
 *
 * - an occlusion: an object passes behind a larger, nearer one for 2-40 frames, on a straight,
 *   curved or accelerating path, sometimes turning while hidden;
 * - an exit and a re-entry, at the same edge or another one;
 * - a late entry from an edge;
 * - an object that starts half hidden behind another and comes out;
 * - two objects of nearly the same colour crossing;
 * - objects on fast straight paths or orbits, a large grey static one.
 *
 * Motions are written as a centre per frame (`SceneObject.path`), so any path can be drawn. What
 * actually happens (who is hidden when, by how much) is read back from the rendered ground truth,
 * never assumed from the plan.
 * @module
 */
import { hsvToRgb } from "../render/palette.ts";
import { createPrng, type Prng } from "./prng.ts";
import type { BackgroundStyle, Scene, SceneObject } from "./scene.ts";
import { type Shape, shapeBoundingRadius } from "./shapes.ts";

/** Size and length of every generated scene. */
export const PROCEDURAL_WIDTH = 640;
export const PROCEDURAL_HEIGHT = 360;
export const PROCEDURAL_FRAMES = 90;
const FPS = 30;
const MAX_OBJECTS = 6;

/** The stories a scene may stage. */
export type Story = "occlusion" | "exit-reentry" | "late-entry" | "half-hidden" | "similar";

/** One object being planned: everything but its id and depth. */
interface Planned {
  label: string;
  hue: number;
  saturation?: number;
  shape: Shape;
  path: [number, number][];
  rotation: { start: number; perFrame: number };
  growth?: number;
  /** Drawing order among the planned objects (higher is nearer). */
  layer: number;
}

/**
 * The scene of `seed` (the same scene on every run). `attempt` > 0 draws another scene for the
 * same seed, for when the first one fails its checks (an object never visible enough to prompt).
 *
 * @example
 * ```ts
 * const scene = proceduralScene(7);
 * ```
 */
export function proceduralScene(seed: number, attempt = 0): Scene {
  const rng = createPrng((seed * 2654435761 + attempt * 40503) >>> 0);
  const hues = new HuePicker(rng);
  const stories = pickStories(rng);
  const objects: Planned[] = [];
  for (const story of stories) {
    if (objects.length + storySize(story) > MAX_OBJECTS) continue;
    objects.push(...stage(story, rng, hues));
  }
  const target = Math.max(objects.length, rng.int(2, MAX_OBJECTS));
  while (objects.length < target) objects.push(filler(rng, hues));
  const zoom = rng.next() < 0.3 ? rng.range(0.002, 0.005) : 0;
  // Everything grows with the zoom, as it would under a camera moving in.
  const scene: Scene = {
    name: `seed-${seed}`,
    description: `Procedural scene ${seed}: ${stories.join(", ") || "free motion"}.`,
    width: PROCEDURAL_WIDTH,
    height: PROCEDURAL_HEIGHT,
    frames: PROCEDURAL_FRAMES,
    fps: FPS,
    seed: (seed * 7919 + attempt) >>> 0,
    pan: [round2(rng.range(-2.5, 2.5)), round2(rng.range(-1.2, 1.2))],
    ...(zoom > 0 ? { zoom } : {}),
    background: background(rng),
    objects: objects.map((o, k): SceneObject => ({
      id: k + 1,
      label: o.label,
      hue: o.hue,
      ...(o.saturation !== undefined ? { saturation: o.saturation } : {}),
      shape: o.shape,
      depth: o.layer * 10 + k,
      start: o.path[0],
      velocity: [0, 0],
      path: o.path,
      rotation: o.rotation,
      ...(o.growth || zoom ? { growth: (o.growth ?? 0) + zoom } : {}),
    })),
    events: [],
  };
  return scene;
}

/** Objects a story needs. */
function storySize(story: Story): number {
  return story === "exit-reentry" || story === "late-entry" ? 1 : 2;
}

/** Each story independently, so that scenes mix them in every combination. */
function pickStories(rng: Prng): Story[] {
  const chances: [Story, number][] = [
    ["occlusion", 0.7],
    ["exit-reentry", 0.45],
    ["similar", 0.45],
    ["half-hidden", 0.35],
    ["late-entry", 0.35],
  ];
  const stories = chances.filter(([, p]) => rng.next() < p).map(([s]) => s);
  // Shuffle, so that no story always gets the objects first.
  for (let i = stories.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [stories[i], stories[j]] = [stories[j], stories[i]];
  }
  return stories;
}

function stage(story: Story, rng: Prng, hues: HuePicker): Planned[] {
  switch (story) {
    case "occlusion":
      return occlusion(rng, hues);
    case "exit-reentry":
      return [exitAndReentry(rng, hues)];
    case "late-entry":
      return [lateEntry(rng, hues)];
    case "half-hidden":
      return halfHidden(rng, hues);
    case "similar":
      return similarCrossing(rng, hues);
  }
}

/**
 * An object passes behind a larger, nearer one. It is fully covered while its centre is within
 * `margin` of the cover's; it moves there at `2 * margin / duration` px per frame (duration 2-40
 * frames: it slows down behind the cover when the duration is long) and elsewhere at 2-6 px per
 * frame. It moves straight, on a curve, or speeds up, and may turn while hidden.
 */
function occlusion(rng: Prng, hues: HuePicker): Planned[] {
  const hidden = randomShape(rng, rng.range(15, 26));
  const hiddenRadius = shapeBoundingRadius(hidden);
  const margin = rng.range(6, 28);
  const cover = coverShape(rng, hiddenRadius + margin);
  const duration = rng.int(2, 40);
  const inside = clamp((2 * margin) / duration, 0.3, 12);
  const outside = Math.max(inside, rng.range(2, 6));
  // Starts clear of the cover, is hidden around `crossing`, and has time to come out after.
  const approach = Math.ceil((2 * hiddenRadius + 8) / outside + margin / inside);
  const crossing = Math.min(approach + rng.int(2, 20), PROCEDURAL_FRAMES - approach - 10);
  const at: [number, number] = [
    rng.range(0.3, 0.7) * PROCEDURAL_WIDTH,
    rng.range(0.3, 0.7) * PROCEDURAL_HEIGHT,
  ];
  const coverVelocity = polar(rng.range(0, Math.PI * 2), rng.range(0, 1.2));
  const coverPath = integrate(at, crossing, () => coverVelocity);
  const heading = rng.range(0, Math.PI * 2);
  const style = rng.int(0, 3);
  const turn = style === 3 ? sign(rng) * rng.range(Math.PI / 3, (5 * Math.PI) / 6) : 0;
  const bend = style === 1 ? sign(rng) * rng.range(0.02, 0.06) : 0;
  const speedUp = style === 2 ? rng.range(0.01, 0.03) : 0;
  // The hidden object's offset from the cover, stepped out from the crossing both ways.
  const offset: [number, number][] = new Array(PROCEDURAL_FRAMES);
  offset[crossing] = [0, 0];
  const step = (t: number, from: readonly [number, number]): [number, number] => {
    const angle = heading + bend * (t - crossing) + (t >= crossing ? turn : 0);
    const speed = (Math.hypot(from[0], from[1]) < margin ? inside : outside) *
      Math.max(0.3, 1 + speedUp * (t - crossing));
    return polar(angle, speed);
  };
  for (let t = crossing + 1; t < PROCEDURAL_FRAMES; t++) {
    const [dx, dy] = step(t - 1, offset[t - 1]);
    offset[t] = [offset[t - 1][0] + dx, offset[t - 1][1] + dy];
  }
  for (let t = crossing - 1; t >= 0; t--) {
    const [dx, dy] = step(t, offset[t + 1]);
    offset[t] = [offset[t + 1][0] - dx, offset[t + 1][1] - dy];
  }
  const hiddenPath = coverPath.map(([x, y], t): [number, number] => [
    x + offset[t][0],
    y + offset[t][1],
  ]);
  const motion = ["straight", "curving", "speeding up", "turning while hidden"][style];
  return [
    plan(hues.next(), hidden, hiddenPath, rng, 0, `${motion} object passing behind`),
    plan(hues.next(), cover, coverPath, rng, 2, "large cover"),
  ];
}

/** Leaves through an edge and comes back after 5-30 frames, at the same edge or another. */
function exitAndReentry(rng: Prng, hues: HuePicker): Planned {
  const radius = rng.range(16, 34);
  const shape = randomShape(rng, radius);
  const reach = shapeBoundingRadius(shape) + 2;
  const exitEdge = rng.int(0, 3);
  const entryEdge = rng.next() < 0.5 ? exitEdge : (exitEdge + rng.int(1, 3)) % 4;
  const outSpeed = rng.range(2, 6);
  const exitFrame = rng.int(15, 45);
  const away = rng.int(5, 30);
  const exit = edgePoint(rng, exitEdge, reach);
  const outward = rotate(edgeNormal(exitEdge), rng.range(-0.6, 0.6));
  const inward = rotate(edgeNormal(entryEdge), Math.PI + rng.range(-0.6, 0.6));
  const exitVelocity: [number, number] = [outward[0] * outSpeed, outward[1] * outSpeed];
  // Keep the first leg inside the frame at frame 0 by shortening it if it would start outside.
  const legFrames = Math.min(exitFrame, Math.floor(0.6 * edgeSpan(exitEdge) / outSpeed));
  const entry = edgePoint(rng, entryEdge, reach);
  const inSpeed = rng.range(2, 6);
  const path: [number, number][] = [];
  for (let t = 0; t < PROCEDURAL_FRAMES; t++) {
    if (t <= legFrames) {
      const back = legFrames - t;
      path.push([exit[0] - exitVelocity[0] * back, exit[1] - exitVelocity[1] * back]);
    } else if (t < legFrames + away) {
      path.push(offscreen(exit, outward, reach));
    } else {
      const forth = t - (legFrames + away);
      path.push([entry[0] + inward[0] * inSpeed * forth, entry[1] + inward[1] * inSpeed * forth]);
    }
  }
  const where = entryEdge === exitEdge ? "the same edge" : "another edge";
  return plan(hues.next(), shape, path, rng, 1, `object leaving and coming back at ${where}`);
}

/** Waits outside an edge and comes in after frame 15. */
function lateEntry(rng: Prng, hues: HuePicker): Planned {
  const shape = randomShape(rng, rng.range(16, 36));
  const reach = shapeBoundingRadius(shape) + 2;
  const edge = rng.int(0, 3);
  const entry = edgePoint(rng, edge, reach);
  const inward = rotate(edgeNormal(edge), Math.PI + rng.range(-0.5, 0.5));
  const speed = rng.range(1.5, 4);
  const enters = rng.int(15, 50);
  const path: [number, number][] = [];
  for (let t = 0; t < PROCEDURAL_FRAMES; t++) {
    const forth = Math.max(0, t - enters);
    path.push([entry[0] + inward[0] * speed * forth, entry[1] + inward[1] * speed * forth]);
  }
  return plan(hues.next(), shape, path, rng, 1, "late entry");
}

/** Starts with its centre on the edge of a nearer object (about half hidden), then moves out. */
function halfHidden(rng: Prng, hues: HuePicker): Planned[] {
  const shape = randomShape(rng, rng.range(24, 34));
  const radius = shapeBoundingRadius(shape);
  const cover = coverShape(rng, radius + rng.range(6, 24));
  const centre: [number, number] = [
    rng.range(0.3, 0.7) * PROCEDURAL_WIDTH,
    rng.range(0.35, 0.65) * PROCEDURAL_HEIGHT,
  ];
  const direction = rng.range(0, Math.PI * 2);
  const u = polar(direction, 1);
  const coverVelocity = polar(rng.range(0, Math.PI * 2), rng.range(0, 0.8));
  const start: [number, number] = [
    centre[0] + u[0] * inscribedRadius(cover),
    centre[1] + u[1] * inscribedRadius(cover),
  ];
  const speed = rng.range(0.6, 2.5);
  return [
    plan(
      hues.next(),
      shape,
      integrate(start, 0, () => [coverVelocity[0] + u[0] * speed, coverVelocity[1] + u[1] * speed]),
      rng,
      0,
      "object prompted half hidden",
    ),
    plan(hues.next(), cover, integrate(centre, 0, () => coverVelocity), rng, 2, "cover"),
  ];
}

/** Two objects of nearly the same hue (3-12 degrees apart) cross, one in front of the other. */
function similarCrossing(rng: Prng, hues: HuePicker): Planned[] {
  const hue = hues.next();
  const other = hues.near(hue, sign(rng) * rng.range(3, 12));
  const at: [number, number] = [
    rng.range(0.3, 0.7) * PROCEDURAL_WIDTH,
    rng.range(0.3, 0.7) * PROCEDURAL_HEIGHT,
  ];
  const crossing = rng.int(20, 60);
  const heading = rng.range(0, Math.PI * 2);
  const spread = rng.range(Math.PI / 3, Math.PI);
  const [a, b] = [rng.range(1.5, 6), rng.range(1.5, 6)];
  return [
    plan(
      hue,
      randomShape(rng, rng.range(18, 34)),
      integrate(at, crossing, () => polar(heading, a)),
      rng,
      0,
      "object crossing a look-alike",
    ),
    plan(
      other,
      randomShape(rng, rng.range(18, 34)),
      integrate(at, crossing, () => polar(heading + spread, b)),
      rng,
      1,
      "look-alike",
    ),
  ];
}

/** An object with no story: static, drifting, orbiting or fast, sometimes a large grey one. */
function filler(rng: Prng, hues: HuePicker): Planned {
  const kind = rng.int(0, 4);
  const centre: [number, number] = [
    rng.range(0.15, 0.85) * PROCEDURAL_WIDTH,
    rng.range(0.15, 0.85) * PROCEDURAL_HEIGHT,
  ];
  if (kind === 0) {
    const grey = plan(
      hues.next(),
      coverShape(rng, rng.range(55, 85)),
      integrate(centre, 0, () => [0, 0]),
      rng,
      rng.int(0, 2),
      "large grey static object",
    );
    return { ...grey, saturation: rng.range(0.05, 0.18) };
  }
  const shape = randomShape(rng, rng.range(16, 40));
  if (kind === 1) {
    const v = polar(rng.range(0, Math.PI * 2), rng.range(0.3, 1.5));
    const sway = rng.range(0, 12), period = rng.range(30, 80);
    const path = integrate(centre, 0, () => v).map(([x, y], t): [number, number] => [
      x + sway * Math.sin((2 * Math.PI * t) / period),
      y + sway * Math.cos((2 * Math.PI * t) / period),
    ]);
    return plan(hues.next(), shape, path, rng, rng.int(0, 2), "drifting object");
  }
  if (kind === 2) {
    const radius = rng.range(40, 110), period = sign(rng) * rng.range(45, 120);
    const phase = rng.range(0, Math.PI * 2);
    const path = Array.from({ length: PROCEDURAL_FRAMES }, (_, t): [number, number] => {
      const angle = phase + (2 * Math.PI * t) / period;
      return [centre[0] + radius * Math.cos(angle), centre[1] + 0.7 * radius * Math.sin(angle)];
    });
    return plan(hues.next(), shape, path, rng, rng.int(0, 2), "orbiting object");
  }
  if (kind === 3) {
    const v = polar(rng.range(0, Math.PI * 2), rng.range(5, 9));
    const start: [number, number] = [centre[0] - v[0] * 20, centre[1] - v[1] * 20];
    return plan(hues.next(), shape, integrate(start, 0, () => v), rng, 1, "fast object");
  }
  const path = integrate(centre, 0, () => [0, 0]);
  return { ...plan(hues.next(), shape, path, rng, 0, "object"), growth: rng.range(-0.004, 0.006) };
}

function plan(
  hue: number,
  shape: Shape,
  path: [number, number][],
  rng: Prng,
  layer: number,
  role: string,
): Planned {
  return {
    label: `${colourName(hue)} ${role}`,
    hue: round2(hue),
    shape,
    path: path.map(([x, y]) => [round2(x), round2(y)]),
    rotation: { start: round2(rng.range(0, Math.PI)), perFrame: round2(rng.range(-0.03, 0.03)) },
    layer,
  };
}

/**
 * The centres of frames 0..N-1 of a motion through `at` on frame `anchor`, with velocity
 * `velocity(t)` (pixels per frame) between frames t and t + 1.
 */
function integrate(
  at: readonly [number, number],
  anchor: number,
  velocity: (t: number) => readonly [number, number],
): [number, number][] {
  const path: [number, number][] = new Array(PROCEDURAL_FRAMES);
  path[anchor] = [at[0], at[1]];
  for (let t = anchor + 1; t < PROCEDURAL_FRAMES; t++) {
    const [vx, vy] = velocity(t - 1);
    path[t] = [path[t - 1][0] + vx, path[t - 1][1] + vy];
  }
  for (let t = anchor - 1; t >= 0; t--) {
    const [vx, vy] = velocity(t);
    path[t] = [path[t + 1][0] - vx, path[t + 1][1] - vy];
  }
  return path;
}

/** Smallest inscribed radius of a shape: a prompt point must lie 10 px inside its object. */
const MIN_INNER_RADIUS = 13;

/** A random shape whose bounding radius is about `radius`, never thinner than the minimum. */
function randomShape(rng: Prng, radius: number): Shape {
  const shape = shapeOfSize(rng, radius);
  const inner = inscribedRadius(shape);
  return inner >= MIN_INNER_RADIUS ? shape : scaledShape(shape, MIN_INNER_RADIUS / inner);
}

function scaledShape(shape: Shape, k: number): Shape {
  const r = (v: number) => round2(v * k + 0.01);
  switch (shape.kind) {
    case "disc":
      return { ...shape, radius: r(shape.radius) };
    case "blob":
      return { ...shape, radius: r(shape.radius) };
    case "roundedPolygon":
      return { ...shape, radius: r(shape.radius), cornerRadius: r(shape.cornerRadius) };
    case "ellipse":
    case "superellipse":
      return { ...shape, rx: r(shape.rx), ry: r(shape.ry) };
  }
}

function shapeOfSize(rng: Prng, radius: number): Shape {
  switch (rng.int(0, 4)) {
    case 0:
      return { kind: "disc", radius: round2(radius) };
    case 1:
      return { kind: "ellipse", rx: round2(radius), ry: round2(radius * rng.range(0.55, 0.9)) };
    case 2: {
      const harmonics: [number, number, number][] = [
        [rng.int(2, 3), round2(rng.range(0.05, 0.12)), round2(rng.range(0, 6))],
        [rng.int(4, 6), round2(rng.range(0.02, 0.06)), round2(rng.range(0, 6))],
      ];
      const swell = 1 + harmonics.reduce((s, [, amp]) => s + amp, 0);
      return { kind: "blob", radius: round2(radius / swell), harmonics };
    }
    case 3:
      return {
        kind: "roundedPolygon",
        sides: rng.int(3, 6),
        radius: round2(radius),
        cornerRadius: round2(radius * rng.range(0.12, 0.3)),
      };
    default: {
      const rx = radius * rng.range(0.6, 0.72);
      return {
        kind: "superellipse",
        rx: round2(rx),
        ry: round2(rx * rng.range(0.65, 1)),
        power: 4,
      };
    }
  }
}

/** A compact shape whose inscribed radius is at least `inner` (it can hide a disc of that size). */
function coverShape(rng: Prng, inner: number): Shape {
  switch (rng.int(0, 3)) {
    case 0:
      return { kind: "disc", radius: round2(inner) };
    case 1:
      return { kind: "ellipse", rx: round2(inner * rng.range(1.1, 1.5)), ry: round2(inner) };
    case 2:
      return {
        kind: "superellipse",
        rx: round2(inner * rng.range(1, 1.4)),
        ry: round2(inner),
        power: 4,
      };
    default: {
      const sides = rng.int(4, 6);
      return {
        kind: "roundedPolygon",
        sides,
        radius: round2(inner / Math.cos(Math.PI / sides)),
        cornerRadius: round2(inner * 0.2),
      };
    }
  }
}

/** Radius of the largest disc around the origin inside the shape. */
export function inscribedRadius(shape: Shape): number {
  switch (shape.kind) {
    case "disc":
      return shape.radius;
    case "ellipse":
    case "superellipse":
      return Math.min(shape.rx, shape.ry);
    case "blob":
      return shape.radius * (1 - shape.harmonics.reduce((s, [, amp]) => s + Math.abs(amp), 0));
    case "roundedPolygon":
      return shape.radius * Math.cos(Math.PI / shape.sides);
  }
}

/** Background styles: smooth or busy noise; muted, or a palette with patches of another hue. */
function background(rng: Prng): BackgroundStyle {
  const busy = rng.next() < 0.5;
  const hue = rng.range(0, 360);
  const saturation = rng.range(0.05, 0.3);
  const style: BackgroundStyle = {
    dark: hsvToRgb(hue, saturation, rng.range(0.22, 0.38)),
    light: hsvToRgb(hue + rng.range(-20, 20), saturation, rng.range(0.62, 0.8)),
    cells: busy ? [32, 16, 8, 4] : [256, 128, 64],
    weights: busy ? [0.35, 0.3, 0.2, 0.15] : [0.6, 0.3, 0.1],
    grain: Math.round(rng.range(8, 32)),
  };
  if (rng.next() < 0.5) return style;
  const accentHue = hue + rng.range(90, 270);
  const accentSaturation = rng.range(0.25, 0.5);
  return {
    ...style,
    accent: {
      dark: hsvToRgb(accentHue, accentSaturation, rng.range(0.25, 0.4)),
      light: hsvToRgb(accentHue, accentSaturation, rng.range(0.6, 0.8)),
    },
  };
}

/** Hands out hues at least 30 degrees apart, except where a look-alike is asked for. */
class HuePicker {
  readonly #rng: Prng;
  readonly #slots: number[];

  constructor(rng: Prng) {
    this.#rng = rng;
    const offset = rng.range(0, 30);
    this.#slots = Array.from({ length: 12 }, (_, k) => offset + 30 * k);
    for (let i = this.#slots.length - 1; i > 0; i--) {
      const j = rng.int(0, i);
      [this.#slots[i], this.#slots[j]] = [this.#slots[j], this.#slots[i]];
    }
  }

  next(): number {
    const slot = this.#slots.pop() ?? this.#rng.range(0, 360);
    return (slot + this.#rng.range(-3, 3) + 360) % 360;
  }

  near(hue: number, delta: number): number {
    return (hue + delta + 360) % 360;
  }
}

const COLOUR_NAMES: readonly [number, string][] = [
  [15, "red"],
  [40, "orange"],
  [65, "yellow"],
  [150, "green"],
  [195, "cyan"],
  [255, "blue"],
  [290, "purple"],
  [335, "magenta"],
  [360, "red"],
];

function colourName(hue: number): string {
  return COLOUR_NAMES.find(([upTo]) => hue < upTo)?.[1] ?? "red";
}

/** A point just outside edge `edge` (0 top, 1 right, 2 bottom, 3 left), `reach` beyond it. */
function edgePoint(rng: Prng, edge: number, reach: number): [number, number] {
  const along = rng.range(0.15, 0.85);
  switch (edge) {
    case 0:
      return [along * PROCEDURAL_WIDTH, -reach];
    case 1:
      return [PROCEDURAL_WIDTH + reach, along * PROCEDURAL_HEIGHT];
    case 2:
      return [along * PROCEDURAL_WIDTH, PROCEDURAL_HEIGHT + reach];
    default:
      return [-reach, along * PROCEDURAL_HEIGHT];
  }
}

/** Unit vector pointing out of the frame through `edge`. */
function edgeNormal(edge: number): [number, number] {
  return ([[0, -1], [1, 0], [0, 1], [-1, 0]] as [number, number][])[edge];
}

/** The frame's extent across `edge` (its height for top and bottom). */
function edgeSpan(edge: number): number {
  return edge % 2 === 0 ? PROCEDURAL_HEIGHT : PROCEDURAL_WIDTH;
}

/** A parking spot well outside the frame beyond `exit`. */
function offscreen(
  exit: readonly [number, number],
  outward: readonly [number, number],
  reach: number,
): [number, number] {
  return [exit[0] + outward[0] * (reach + 40), exit[1] + outward[1] * (reach + 40)];
}

function polar(angle: number, length: number): [number, number] {
  return [Math.cos(angle) * length, Math.sin(angle) * length];
}

function rotate([x, y]: readonly [number, number], angle: number): [number, number] {
  const c = Math.cos(angle), s = Math.sin(angle);
  return [c * x - s * y, s * x + c * y];
}

function sign(rng: Prng): number {
  return rng.next() < 0.5 ? -1 : 1;
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}

function round2(v: number): number {
  return Math.round(v * 100) / 100;
}
