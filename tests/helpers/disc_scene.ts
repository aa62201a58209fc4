/**
 * Small synthetic scenes for the tracker tests: coloured discs moving in straight lines over a
 * smooth grey texture, rendered in memory as rgb24 frames, with prompts and ground-truth masks.
 * @module
 */
import type { Frame } from "../../src/frame.ts";
import type { BinaryMask } from "../../src/segment/mask.ts";
import type { ObjectPrompt } from "../../src/segment/prompts.ts";

/** A disc: its id, start centre, radius, velocity (pixels per frame) and colour. */
export interface Disc {
  readonly id: number;
  readonly x: number;
  readonly y: number;
  readonly radius: number;
  readonly vx?: number;
  readonly vy?: number;
  readonly rgb: readonly [number, number, number];
}

/** Fully saturated colour of hue `degrees`. */
export function hueRgb(degrees: number): [number, number, number] {
  const h = ((degrees % 360) + 360) % 360 / 60;
  const x = Math.round(255 * (1 - Math.abs((h % 2) - 1)));
  const table: [number, number, number][] = [
    [255, x, 0],
    [x, 255, 0],
    [0, 255, x],
    [0, x, 255],
    [x, 0, 255],
    [255, 0, x],
  ];
  return table[Math.floor(h) % 6];
}

/** Centre of a disc on frame `t`. */
export function discCentre(disc: Disc, t: number): { x: number; y: number } {
  return { x: disc.x + (disc.vx ?? 0) * t, y: disc.y + (disc.vy ?? 0) * t };
}

function inside(disc: Disc, t: number, x: number, y: number): boolean {
  const c = discCentre(disc, t);
  return (x + 0.5 - c.x) ** 2 + (y + 0.5 - c.y) ** 2 <= disc.radius ** 2;
}

/** Frame `t` of the scene (discs later in the list are drawn on top). */
export function renderDiscFrame(
  width: number,
  height: number,
  discs: readonly Disc[],
  t: number,
): Frame {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      const grey = 125 + 22 * Math.sin(x / 13) * Math.cos(y / 17);
      data[i] = grey;
      data[i + 1] = grey;
      data[i + 2] = grey - 6;
      for (const disc of discs) {
        if (inside(disc, t, x, y)) data.set(disc.rgb, i);
      }
    }
  }
  return { index: t, ptsSeconds: t / 30, width, height, data };
}

/** Frames `0..count-1` of the scene. */
export function renderDiscFrames(
  width: number,
  height: number,
  discs: readonly Disc[],
  count: number,
): Frame[] {
  return Array.from({ length: count }, (_, t) => renderDiscFrame(width, height, discs, t));
}

/** The visible mask of disc `id` on frame `t` (discs drawn later occlude it). */
export function discMask(
  width: number,
  height: number,
  discs: readonly Disc[],
  id: number,
  t: number,
): BinaryMask {
  const data = new Uint8Array(width * height);
  const index = discs.findIndex((d) => d.id === id);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (!inside(discs[index], t, x, y)) continue;
      if (discs.slice(index + 1).some((d) => inside(d, t, x, y))) continue;
      data[y * width + x] = 1;
    }
  }
  return { width, height, data };
}

/** A prompt on frame `t`: a point at the disc's centre (and its box, when `box` is set). */
export function discPrompt(disc: Disc, t: number, box = false, id = disc.id): ObjectPrompt {
  const c = discCentre(disc, t);
  return {
    objectId: id,
    at: { frame: t },
    points: [{ x: Math.round(c.x), y: Math.round(c.y), positive: true }],
    ...(box
      ? {
        box: [
          c.x - disc.radius - 2,
          c.y - disc.radius - 2,
          c.x + disc.radius + 2,
          c.y + disc.radius + 2,
        ],
      }
      : {}),
    origin: `disc ${disc.id} frame ${t}`,
  };
}

/** Intersection over union of two masks (0 when both are empty). */
export function maskIou(a: BinaryMask, b: BinaryMask): number {
  let intersection = 0, union = 0;
  for (let i = 0; i < a.data.length; i++) {
    const p = a.data[i] !== 0, q = b.data[i] !== 0;
    if (p && q) intersection++;
    if (p || q) union++;
  }
  return union > 0 ? intersection / union : 0;
}
