/**
 * A small seeded pseudo-random generator (mulberry32), so generated samples and randomized tests
 * are reproducible byte for byte.
 * @module
 */

/** A seeded source of uniform numbers in [0, 1). */
export interface Prng {
  /** Next uniform number in [0, 1). */
  next(): number;
  /** Next integer in [min, max] (both inclusive). */
  int(min: number, max: number): number;
  /** Next uniform number in [min, max). */
  range(min: number, max: number): number;
}

/**
 * Creates a mulberry32 generator from a 32-bit seed.
 *
 * @example
 * ```ts
 * const rng = createPrng(42);
 * const a = rng.next(); // the same value on every run
 * ```
 */
export function createPrng(seed: number): Prng {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    range: (min, max) => min + next() * (max - min),
  };
}
