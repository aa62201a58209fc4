/**
 * Description and rasterisation of a synthetic sample scene: a textured background panning (and
 * optionally zooming) under textured objects that move, turn and change size, drawn back to
 * front. Each frame yields the rgb24 pixels and the exact ground-truth label map of what is
 * visible.
 * @module
 */
import { hsvToRgb, type Rgb } from "../render/palette.ts";
import { type Shape, shapeBoundingRadius, shapeContains } from "./shapes.ts";
import { sampleTexture, type Texture, valueNoiseTexture } from "./texture.ts";

/** One object of a scene. Positions are in frame pixels, times in frames. */
export interface SceneObject {
  readonly id: number;
  readonly label: string;
  /** Hue in degrees; saturation is fixed and the texture varies the value only a little. */
  readonly hue: number;
  readonly shape: Shape;
  /** Drawing order: higher is nearer the camera. */
  readonly depth: number;
  /** Centre at frame 0. */
  readonly start: readonly [number, number];
  /** Constant velocity in pixels per frame. */
  readonly velocity: readonly [number, number];
  /** Optional sinusoidal sway added to the straight path: amplitude per axis and period in frames. */
  readonly sway?: { readonly amplitude: readonly [number, number]; readonly period: number };
  /** Rotation at frame 0 and per frame, in radians. */
  readonly rotation?: { readonly start: number; readonly perFrame: number };
  /**
   * The centre on every frame, replacing `start`, `velocity` and `sway` (any motion: curves,
   * turns, jumps while out of the frame). Frames past its end keep its last position.
   */
  readonly path?: readonly (readonly [number, number])[];
  /** Size change per frame: the shape is scaled by `max(0.2, 1 + growth * t)` (default 0). */
  readonly growth?: number;
  /** Colour saturation in [0, 1] (default 0.8); a low value makes a grey object. */
  readonly saturation?: number;
}

/** How the background is coloured: value noise mapped onto a gradient between two colours. */
export interface BackgroundStyle {
  readonly dark: Rgb;
  readonly light: Rgb;
  /** Lattice spacing of each noise octave in pixels (each divides 512), and their weights. */
  readonly cells: readonly number[];
  readonly weights: readonly number[];
  /** Amplitude of the fine grain, in grey levels. */
  readonly grain: number;
  /**
   * A second gradient, mixed in by a slow noise: large patches of another colour (strong colour
   * variation across the frame).
   */
  readonly accent?: { readonly dark: Rgb; readonly light: Rgb };
}

/** What a sample must show; the generator checks these against its ground truth. */
export type SceneEvent =
  | { readonly kind: "occludedThenReappears"; readonly id: number; readonly minFrames: number }
  | { readonly kind: "leavesFrame"; readonly id: number }
  | { readonly kind: "entersLate"; readonly id: number; readonly afterFrame: number };

/** A whole sample scene. */
export interface Scene {
  readonly name: string;
  readonly description: string;
  readonly width: number;
  readonly height: number;
  readonly frames: number;
  readonly fps: number;
  readonly seed: number;
  /** Background pan in pixels per frame (the texture moves by minus this). */
  readonly pan: readonly [number, number];
  /** Background magnification per frame about the frame's centre: `1 + zoom * t` (default 0). */
  readonly zoom?: number;
  /** Default: olive grey to warm stone, smooth noise (see {@link DEFAULT_BACKGROUND}). */
  readonly background?: BackgroundStyle;
  readonly objects: readonly SceneObject[];
  readonly events: readonly SceneEvent[];
}

/** One rendered frame: pixels, visible ids and each object's unoccluded in-frame area. */
export interface RenderedFrame {
  readonly rgb: Uint8Array;
  readonly labels: Uint16Array;
  /** Pixels each object would cover inside the frame if nothing occluded it, by id. */
  readonly inFrameArea: ReadonlyMap<number, number>;
}

/** The committed samples' background: low-saturation olive grey to warm stone, smooth noise. */
export const DEFAULT_BACKGROUND: BackgroundStyle = {
  dark: [84, 90, 80],
  light: [172, 164, 148],
  cells: [128, 64, 32],
  weights: [0.55, 0.3, 0.15],
  grain: 26,
};
/** Saturation of an object's colour unless it says otherwise. */
export const OBJECT_SATURATION = 0.8;

/** Textures a scene needs, built once per scene from its seed. */
export interface SceneTextures {
  readonly background: Texture;
  readonly grain: Texture;
  /** Where the accent colour shows (with `background.accent` only). */
  readonly accent?: Texture;
  readonly objects: ReadonlyMap<number, Texture>;
}

/**
 * Builds the scene's textures deterministically from `scene.seed`.
 *
 * @example
 * ```ts
 * const textures = sceneTextures(scene);
 * const frame0 = renderSceneFrame(scene, textures, 0);
 * ```
 */
export function sceneTextures(scene: Scene): SceneTextures {
  const style = scene.background ?? DEFAULT_BACKGROUND;
  return {
    background: valueNoiseTexture(512, style.cells, style.weights, scene.seed),
    grain: valueNoiseTexture(256, [8, 4], [0.6, 0.4], scene.seed + 1),
    ...(style.accent
      ? { accent: valueNoiseTexture(512, [256, 128], [0.7, 0.3], scene.seed + 2) }
      : {}),
    objects: new Map(
      scene.objects.map((
        o,
      ) => [o.id, valueNoiseTexture(128, [32, 16, 8], [0.5, 0.3, 0.2], scene.seed + 100 + o.id)]),
    ),
  };
}

/**
 * Centre of an object at frame `t`.
 *
 * @example
 * ```ts
 * const [x, y] = objectCentre(scene.objects[0], 10);
 * ```
 */
export function objectCentre(object: SceneObject, t: number): [number, number] {
  if (object.path) {
    const at = object.path[Math.max(0, Math.min(object.path.length - 1, Math.round(t)))];
    return [at[0], at[1]];
  }
  let x = object.start[0] + object.velocity[0] * t;
  let y = object.start[1] + object.velocity[1] * t;
  if (object.sway) {
    const phase = (2 * Math.PI * t) / object.sway.period;
    x += object.sway.amplitude[0] * Math.sin(phase);
    y += object.sway.amplitude[1] * Math.sin(phase + Math.PI / 3);
  }
  return [x, y];
}

/**
 * Renders frame `t`: background, then objects by increasing depth (nearer objects cover farther
 * ones), with the label map holding the id of the object visible at each pixel.
 *
 * @example
 * ```ts
 * const { rgb, labels } = renderSceneFrame(scene, sceneTextures(scene), 0);
 * ```
 */
export function renderSceneFrame(scene: Scene, textures: SceneTextures, t: number): RenderedFrame {
  const { width, height } = scene;
  const rgb = new Uint8Array(width * height * 3);
  paintBackground(scene, textures, t, rgb);
  const { labels, inFrameArea } = paintObjects(scene, textures, t, rgb);
  return { rgb, labels, inFrameArea };
}

/**
 * The label map and in-frame areas of frame `t` without the background (cheap: only the objects'
 * pixels are visited), e.g. to check a scene's story before rendering it.
 *
 * @example
 * ```ts
 * const { labels } = renderSceneLabels(scene, sceneTextures(scene), 0);
 * ```
 */
export function renderSceneLabels(
  scene: Scene,
  textures: SceneTextures,
  t: number,
): Omit<RenderedFrame, "rgb"> {
  return paintObjects(scene, textures, t, new Uint8Array(scene.width * scene.height * 3));
}

/**
 * The object's shape scale on frame `t`.
 *
 * @example
 * ```ts
 * objectScale({ ...object, growth: 0.01 }, 10); // 1.1
 * ```
 */
export function objectScale(object: SceneObject, t: number): number {
  return object.growth ? Math.max(0.2, 1 + object.growth * t) : 1;
}

/**
 * The object's whole area on frame `t` in pixels (as if nothing hid it and the frame were
 * endless): its shape's pixel count at its scale.
 *
 * @example
 * ```ts
 * objectArea({ ...object, shape: { kind: "disc", radius: 10 } }, 0); // 317
 * ```
 */
export function objectArea(object: SceneObject, t: number): number {
  const scale = objectScale(object, t);
  const reach = Math.ceil(shapeBoundingRadius(object.shape));
  let area = 0;
  for (let y = -reach; y <= reach; y++) {
    for (let x = -reach; x <= reach; x++) if (shapeContains(object.shape, x, y)) area++;
  }
  return Math.round(area * scale * scale);
}

function paintBackground(scene: Scene, textures: SceneTextures, t: number, rgb: Uint8Array): void {
  const { width, height } = scene;
  const style = scene.background ?? DEFAULT_BACKGROUND;
  const { dark, light } = style;
  const accent = style.accent && textures.accent
    ? { ...style.accent, texture: textures.accent }
    : undefined;
  const ox = scene.pan[0] * t, oy = scene.pan[1] * t;
  const magnification = 1 + (scene.zoom ?? 0) * t;
  const cx = width / 2, cy = height / 2;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      // Without zoom the texture is sampled at whole-pixel offsets, exactly as it always was.
      const u = magnification === 1 ? x + ox : cx + (x - cx) / magnification + ox;
      const v = magnification === 1 ? y + oy : cy + (y - cy) / magnification + oy;
      const base = sampleTexture(textures.background, u, v);
      const grain = (sampleTexture(textures.grain, u, v) - 0.5) * style.grain;
      const mix = accent ? smoothstep(0.4, 0.6, sampleTexture(accent.texture, u, v)) : 0;
      const i = (y * width + x) * 3;
      for (let c = 0; c < 3; c++) {
        let value = dark[c] + (light[c] - dark[c]) * base;
        if (accent) {
          value += mix * (accent.dark[c] + (accent.light[c] - accent.dark[c]) * base - value);
        }
        rgb[i + c] = clampByte(value + grain);
      }
    }
  }
}

function paintObjects(
  scene: Scene,
  textures: SceneTextures,
  t: number,
  rgb: Uint8Array,
): Omit<RenderedFrame, "rgb"> {
  const labels = new Uint16Array(scene.width * scene.height);
  const inFrameArea = new Map<number, number>();
  const ordered = [...scene.objects].sort((a, b) => a.depth - b.depth || a.id - b.id);
  for (const object of ordered) {
    inFrameArea.set(
      object.id,
      paintObject(scene, object, textures.objects.get(object.id)!, t, rgb, labels),
    );
  }
  return { labels, inFrameArea };
}

function paintObject(
  scene: Scene,
  object: SceneObject,
  texture: Texture,
  t: number,
  rgb: Uint8Array,
  labels: Uint16Array,
): number {
  const { width, height } = scene;
  const [cx, cy] = objectCentre(object, t);
  const angle = (object.rotation?.start ?? 0) + (object.rotation?.perFrame ?? 0) * t;
  const cos = Math.cos(angle), sin = Math.sin(angle);
  const scale = objectScale(object, t);
  const saturation = object.saturation ?? OBJECT_SATURATION;
  const reach = Math.ceil(shapeBoundingRadius(object.shape) * scale) + 1;
  const x0 = Math.max(0, Math.floor(cx - reach)), x1 = Math.min(width - 1, Math.ceil(cx + reach));
  const y0 = Math.max(0, Math.floor(cy - reach)), y1 = Math.min(height - 1, Math.ceil(cy + reach));
  let area = 0;
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const dx = x - cx, dy = y - cy;
      const lx = (cos * dx + sin * dy) / scale, ly = (-sin * dx + cos * dy) / scale;
      if (!shapeContains(object.shape, lx, ly)) continue;
      area++;
      const value = 0.74 + 0.2 * sampleTexture(texture, lx + 64, ly + 64);
      const [r, g, b] = hsvToRgb(object.hue, saturation, value);
      const i = (y * width + x) * 3;
      rgb[i] = r;
      rgb[i + 1] = g;
      rgb[i + 2] = b;
      labels[y * width + x] = object.id;
    }
  }
  return area;
}

function smoothstep(edge0: number, edge1: number, x: number): number {
  const t = Math.max(0, Math.min(1, (x - edge0) / (edge1 - edge0)));
  return t * t * (3 - 2 * t);
}

function clampByte(v: number): number {
  return v < 0 ? 0 : v > 255 ? 255 : Math.round(v);
}
