/**
 * How byte counts of checkpoints and downloads are shown to people: decimal megabytes.
 * @module
 */

/**
 * `bytes` as decimal megabytes with one decimal, e.g. `40.7 MB`.
 *
 * @example
 * ```ts
 * import { formatMegabytes } from "./megabytes.ts";
 *
 * formatMegabytes(40_706_146); // "40.7 MB"
 * ```
 */
export function formatMegabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

/** An inclusive byte range as megabytes, e.g. `35.0-45.0 MB`. */
export function formatMegabyteRange(range: { readonly min: number; readonly max: number }): string {
  return `${(range.min / 1e6).toFixed(1)}-${formatMegabytes(range.max)}`;
}
