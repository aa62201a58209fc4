/**
 * What may name a model cache entry (kept apart from `model_cache.ts` so flag parsing does not load
 * the cache, download and build code).
 * @module
 */

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Whether `name` can name a cache entry (letters, digits, `.`, `_`, `-`; at most 64). */
export function isValidModelName(name: string): boolean {
  return NAME_PATTERN.test(name) && name !== "." && name !== "..";
}
