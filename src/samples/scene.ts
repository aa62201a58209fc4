/**
 * Description and rasterisation of a synthetic sample scene: a textured background panning
 * under textured objects that move smoothly, drawn back to front. Each frame yields the rgb24
 * pixels and the exact ground-truth label map of what is visible.
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

/** Background palette: low-saturation olive grey to warm stone, far from the objects' hues. */
const BACKGROUND_DARK: Rgb = [84, 90, 80];
const BACKGROUND_LIGHT: Rgb = [172, 164, 148];
const OBJECT_SATURATION = 0.8;

/** Textures a scene needs, built once per scene from its seed. */
export interface SceneTextures {
  readonly background: Texture;
  readonly grain: Texture;
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
  return {
    background: valueNoiseTexture(512, [128, 64, 32], [0.55, 0.3, 0.15], scene.seed),
    grain: valueNoiseTexture(256, [8, 4], [0.6, 0.4], scene.seed + 1),
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
  const labels = new Uint16Array(width * height);
  const ox = scene.pan[0] * t, oy = scene.pan[1] * t;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const base = sampleTexture(textures.background, x + ox, y + oy);
      const grain = (sampleTexture(textures.grain, x + ox, y + oy) - 0.5) * 26;
      const i = (y * width + x) * 3;
      for (let c = 0; c < 3; c++) {
        const v = BACKGROUND_DARK[c] + (BACKGROUND_LIGHT[c] - BACKGROUND_DARK[c]) * base + grain;
        rgb[i + c] = clampByte(v);
      }
    }
  }
  const inFrameArea = new Map<number, number>();
  const ordered = [...scene.objects].sort((a, b) => a.depth - b.depth || a.id - b.id);
  for (const object of ordered) {
    inFrameArea.set(
      object.id,
      paintObject(scene, object, textures.objects.get(object.id)!, t, rgb, labels),
    );
  }
  return { rgb, labels, inFrameArea };
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
  const reach = Math.ceil(shapeBoundingRadius(object.shape)) + 1;
  const x0 = Math.max(0, Math.floor(cx - reach)), x1 = Math.min(width - 1, Math.ceil(cx + reach));
  const y0 = Math.max(0, Math.floor(cy - reach)), y1 = Math.min(height - 1, Math.ceil(cy + reach));
  let area = 0;
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const dx = x - cx, dy = y - cy;
      const lx = cos * dx + sin * dy, ly = -sin * dx + cos * dy;
      if (!shapeContains(object.shape, lx, ly)) continue;
      area++;
      const value = 0.74 + 0.2 * sampleTexture(texture, lx + 64, ly + 64);
      const [r, g, b] = hsvToRgb(object.hue, OBJECT_SATURATION, value);
      const i = (y * width + x) * 3;
      rgb[i] = r;
      rgb[i + 1] = g;
      rgb[i + 2] = b;
      labels[y * width + x] = object.id;
    }
  }
  return area;
}

function clampByte(v: number): number {
  return v < 0 ? 0 : v > 255 ? 255 : Math.round(v);
}
