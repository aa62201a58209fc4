/**
 * Synthetic frames for the motion tests: a textured object (a disc or a rounded square carrying
 * its own pattern) moved by a known similarity over a textured background that may pan
 * independently, rendered with 4x4 supersampling so sub-pixel motion shows in the pixels. The
 * object's mask is the set of pixels at least half covered.
 * @module
 */
import type { Frame } from "../../src/frame.ts";
import type { BinaryMask } from "../../src/segment/mask.ts";
import { applyMotion, invertMotion, type Similarity } from "../../src/segment/motion/similarity.ts";

/** What to draw. */
export interface TexturedScene {
  readonly width: number;
  readonly height: number;
  /** Object outline in its own (frame 0) coordinates. */
  readonly shape: "disc" | "square";
  readonly centre: readonly [number, number];
  readonly radius: number;
  /** Whether the object carries a pattern (false: a plain colour). */
  readonly textured: boolean;
  /** Background translation per frame. */
  readonly pan?: readonly [number, number];
}

function background(x: number, y: number): number {
  return 118 + 38 * Math.sin(x / 7.3) * Math.cos(y / 9.1) + 18 * Math.sin((x + 2 * y) / 3.7);
}

function objectLuma(x: number, y: number, textured: boolean): number {
  if (!textured) return 70;
  return 150 + 45 * Math.sin(x / 4.1 + 0.7) * Math.sin(y / 5.3) + 25 * Math.cos((x - y) / 2.9);
}

function inside(scene: TexturedScene, x: number, y: number): boolean {
  const dx = x - scene.centre[0], dy = y - scene.centre[1], r = scene.radius;
  if (scene.shape === "disc") return dx * dx + dy * dy <= r * r;
  return (Math.abs(dx) / r) ** 4 + (Math.abs(dy) / r) ** 4 <= 1;
}

/**
 * The frame showing the object moved by `motion` (relative to its frame-0 placement) and the
 * background panned by `t` times `pan`, with the object's visible mask.
 */
export function renderTextured(
  scene: TexturedScene,
  motion: Similarity,
  t: number,
): { frame: Frame; mask: BinaryMask } {
  const { width, height } = scene;
  const data = new Uint8Array(width * height * 3);
  const mask = new Uint8Array(width * height);
  const back = invertMotion(motion);
  const [px, py] = scene.pan ?? [0, 0];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let covered = 0, objectSum = 0;
      for (let sy = 0; sy < 4; sy++) {
        for (let sx = 0; sx < 4; sx++) {
          const source = applyMotion(back, x + (sx - 1.5) / 4, y + (sy - 1.5) / 4);
          if (inside(scene, source.x, source.y)) {
            covered++;
            objectSum += objectLuma(source.x, source.y, scene.textured);
          }
        }
      }
      const share = covered / 16;
      const luma = (1 - share) * background(x - px * t, y - py * t) +
        (covered > 0 ? share * objectSum / covered : 0);
      const i = (y * width + x) * 3;
      data[i] = luma + 40 * share;
      data[i + 1] = luma;
      data[i + 2] = luma - 20 * share;
      if (share >= 0.5) mask[y * width + x] = 1;
    }
  }
  return {
    frame: { index: t, ptsSeconds: t / 30, width, height, data },
    mask: { width, height, data: mask },
  };
}
