/**
 * Object shapes of the synthetic samples, tested in the object's own (rotated) coordinates.
 * @module
 */

/** A shape centred on the origin of its object's coordinates. */
export type Shape =
  | { readonly kind: "disc"; readonly radius: number }
  | { readonly kind: "ellipse"; readonly rx: number; readonly ry: number }
  /** A disc whose radius varies with the angle: `radius * (1 + sum amp * sin(k * angle + phase))`. */
  | {
    readonly kind: "blob";
    readonly radius: number;
    readonly harmonics: readonly (readonly [k: number, amp: number, phase: number])[];
  }
  /** A regular polygon (circumradius `radius`) with corners rounded by `cornerRadius`. */
  | {
    readonly kind: "roundedPolygon";
    readonly sides: number;
    readonly radius: number;
    readonly cornerRadius: number;
  }
  /** `|x / rx|^power + |y / ry|^power <= 1`: a rounded rectangle for power 4. */
  | {
    readonly kind: "superellipse";
    readonly rx: number;
    readonly ry: number;
    readonly power: number;
  };

/**
 * Whether the point `(x, y)` (object coordinates) lies inside the shape.
 *
 * @example
 * ```ts
 * shapeContains({ kind: "disc", radius: 5 }, 3, 4); // true
 * ```
 */
export function shapeContains(shape: Shape, x: number, y: number): boolean {
  switch (shape.kind) {
    case "disc":
      return x * x + y * y <= shape.radius * shape.radius;
    case "ellipse":
      return (x / shape.rx) ** 2 + (y / shape.ry) ** 2 <= 1;
    case "blob": {
      const angle = Math.atan2(y, x);
      let scale = 1;
      for (const [k, amp, phase] of shape.harmonics) scale += amp * Math.sin(k * angle + phase);
      const r = shape.radius * scale;
      return x * x + y * y <= r * r;
    }
    case "roundedPolygon":
      return roundedPolygonContains(shape.sides, shape.radius, shape.cornerRadius, x, y);
    case "superellipse":
      return Math.abs(x / shape.rx) ** shape.power + Math.abs(y / shape.ry) ** shape.power <= 1;
  }
}

/**
 * Radius of a disc around the origin that contains the whole shape.
 *
 * @example
 * ```ts
 * shapeBoundingRadius({ kind: "ellipse", rx: 30, ry: 10 }); // 30
 * ```
 */
export function shapeBoundingRadius(shape: Shape): number {
  switch (shape.kind) {
    case "disc":
      return shape.radius;
    case "ellipse":
      return Math.max(shape.rx, shape.ry);
    case "blob":
      return shape.radius * (1 + shape.harmonics.reduce((s, [, amp]) => s + Math.abs(amp), 0));
    case "roundedPolygon":
      return shape.radius;
    case "superellipse":
      return Math.hypot(shape.rx, shape.ry);
  }
}

/** Inside the polygon shrunk by the corner radius, or within `cornerRadius` of it. */
function roundedPolygonContains(
  sides: number,
  radius: number,
  cornerRadius: number,
  x: number,
  y: number,
): boolean {
  const inner = radius - cornerRadius / Math.cos(Math.PI / sides);
  const vertices: [number, number][] = [];
  for (let i = 0; i < sides; i++) {
    const angle = -Math.PI / 2 + (2 * Math.PI * i) / sides;
    vertices.push([inner * Math.cos(angle), inner * Math.sin(angle)]);
  }
  let inside = true;
  let nearest = Infinity;
  for (let i = 0; i < sides; i++) {
    const [ax, ay] = vertices[i];
    const [bx, by] = vertices[(i + 1) % sides];
    const ex = bx - ax, ey = by - ay;
    // Vertices run clockwise on screen (y down), so the inside is where the cross product is >= 0.
    if (ex * (y - ay) - ey * (x - ax) < 0) inside = false;
    const t = Math.max(0, Math.min(1, ((x - ax) * ex + (y - ay) * ey) / (ex * ex + ey * ey)));
    nearest = Math.min(nearest, Math.hypot(x - (ax + t * ex), y - (ay + t * ey)));
  }
  return inside || nearest <= cornerRadius;
}
