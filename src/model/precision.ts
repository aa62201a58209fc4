/**
 * The precisions a model's graphs are built in (what they are built with lives in
 * `precision_builders.ts`, which this module keeps out of light imports such as flag parsing).
 * @module
 */

/** Numeric precision of a model's graphs. */
export type Precision = "fp32" | "int8";

/** Every precision, in the order listings show them. */
export const PRECISIONS: readonly Precision[] = ["fp32", "int8"];

/** Whether `name` is a known precision. */
export function isPrecision(name: string): name is Precision {
  return (PRECISIONS as readonly string[]).includes(name);
}
