/**
 * Seeded, tileable value-noise textures for the synthetic samples, sampled bilinearly so that
 * sub-pixel motion (a panning background, moving objects) looks smooth.
 * @module
 */
import { createPrng } from "./prng.ts";

/** A square, wrap-around grid of values in [0, 1]. */
export interface Texture {
  readonly size: number;
  readonly values: Float32Array;
}

/**
 * Sums octaves of smooth value noise on a `size` x `size` torus. `cells` lists the lattice
 * spacing of each octave in pixels (each must divide `size`), `weights` their amplitudes; the
 * result is normalised to [0, 1].
 *
 * @example
 * ```ts
 * const texture = valueNoiseTexture(256, [64, 16], [0.7, 0.3], 1234);
 * ```
 */
export function valueNoiseTexture(
  size: number,
  cells: readonly number[],
  weights: readonly number[],
  seed: number,
): Texture {
  const rng = createPrng(seed);
  const values = new Float32Array(size * size);
  cells.forEach((cell, octave) => {
    if (size % cell !== 0) throw new Error(`texture size ${size} is not a multiple of ${cell}`);
    const n = size / cell;
    const lattice = Float32Array.from({ length: n * n }, () => rng.next());
    for (let y = 0; y < size; y++) {
      const gy = y / cell, y0 = Math.floor(gy), ty = smooth(gy - y0);
      const r0 = y0 % n, r1 = (y0 + 1) % n;
      for (let x = 0; x < size; x++) {
        const gx = x / cell, x0 = Math.floor(gx), tx = smooth(gx - x0);
        const c0 = x0 % n, c1 = (x0 + 1) % n;
        const top = lattice[r0 * n + c0] * (1 - tx) + lattice[r0 * n + c1] * tx;
        const bottom = lattice[r1 * n + c0] * (1 - tx) + lattice[r1 * n + c1] * tx;
        values[y * size + x] += weights[octave] * (top * (1 - ty) + bottom * ty);
      }
    }
  });
  let min = Infinity, max = -Infinity;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  for (let i = 0; i < values.length; i++) values[i] = (values[i] - min) / (max - min || 1);
  return { size, values };
}

/**
 * Bilinear sample of a texture at a real-valued position, wrapping around its edges.
 *
 * @example
 * ```ts
 * const v = sampleTexture(texture, 10.5, -3.25);
 * ```
 */
export function sampleTexture(texture: Texture, x: number, y: number): number {
  const { size, values } = texture;
  const fx = Math.floor(x), fy = Math.floor(y);
  const tx = x - fx, ty = y - fy;
  const x0 = ((fx % size) + size) % size, y0 = ((fy % size) + size) % size;
  const x1 = (x0 + 1) % size, y1 = (y0 + 1) % size;
  const top = values[y0 * size + x0] * (1 - tx) + values[y0 * size + x1] * tx;
  const bottom = values[y1 * size + x0] * (1 - tx) + values[y1 * size + x1] * tx;
  return top * (1 - ty) + bottom * ty;
}

function smooth(t: number): number {
  return t * t * (3 - 2 * t);
}
