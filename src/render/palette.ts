/**
 * Deterministic object colours: hues spaced by the golden angle, so consecutive ids get clearly
 * different colours and an id keeps its colour in every frame and every run.
 * @module
 */

/** An 8-bit RGB colour. */
export type Rgb = readonly [number, number, number];

/** The two colours an object is drawn with. */
export interface ObjectColors {
  /** Colour blended over the object's pixels. */
  readonly fill: Rgb;
  /** Stronger (fully saturated, darker) colour of the object's contour and box. */
  readonly contour: Rgb;
}

const GOLDEN_ANGLE_DEGREES = 137.50776405003785;

/**
 * Colours of an object id: hue `id * 137.5°` (mod 360), fill at saturation 0.75 and value 1,
 * contour at saturation 1 and value 0.7.
 *
 * @example
 * ```ts
 * const { fill, contour } = objectColors(3); // the same for id 3 on every frame
 * ```
 */
export function objectColors(id: number): ObjectColors {
  const hue = (id * GOLDEN_ANGLE_DEGREES) % 360;
  return { fill: hsvToRgb(hue, 0.75, 1), contour: hsvToRgb(hue, 1, 0.7) };
}

/**
 * Converts HSV (hue in degrees, saturation and value in [0, 1]) to 8-bit RGB.
 *
 * @example
 * ```ts
 * hsvToRgb(120, 1, 1); // [0, 255, 0]
 * ```
 */
export function hsvToRgb(hue: number, saturation: number, value: number): Rgb {
  const h = (((hue % 360) + 360) % 360) / 60;
  const c = value * saturation;
  const x = c * (1 - Math.abs((h % 2) - 1));
  const m = value - c;
  const [r, g, b] = h < 1
    ? [c, x, 0]
    : h < 2
    ? [x, c, 0]
    : h < 3
    ? [0, c, x]
    : h < 4
    ? [0, x, c]
    : h < 5
    ? [x, 0, c]
    : [c, 0, x];
  return [Math.round((r + m) * 255), Math.round((g + m) * 255), Math.round((b + m) * 255)];
}
