/**
 * The motion model of an object between two frames: a similarity (uniform scale, rotation,
 * translation), `x' = a x - b y + tx`, `y' = b x + a y + ty` with `a = s cos θ`, `b = s sin θ`, in
 * frame pixels (pixel centres at integers). Enough for objects that move, turn in the image plane,
 * and approach or recede; composable and invertible, so the motion since a keyframe is one value.
 * @module
 */

/** `x' = a x - b y + tx`, `y' = b x + a y + ty` (frame pixels). */
export interface Similarity {
  readonly a: number;
  readonly b: number;
  readonly tx: number;
  readonly ty: number;
}

/** No motion. */
export const NO_MOTION: Similarity = { a: 1, b: 0, tx: 0, ty: 0 };

/**
 * A pure translation.
 *
 * @example
 * ```ts
 * applyMotion(translation(3, -2), 10, 10); // { x: 13, y: 8 }
 * ```
 */
export function translation(dx: number, dy: number): Similarity {
  return { a: 1, b: 0, tx: dx, ty: dy };
}

/**
 * Scaling by `scale` and turning by `angle` (radians, counter-clockwise in image coordinates with
 * y down, i.e. clockwise on screen) about `(cx, cy)`, then translating by `(dx, dy)`: the centre
 * moves by exactly `(dx, dy)`.
 */
export function aboutCentre(
  cx: number,
  cy: number,
  scale: number,
  angle: number,
  dx: number,
  dy: number,
): Similarity {
  const a = scale * Math.cos(angle), b = scale * Math.sin(angle);
  return { a, b, tx: cx - a * cx + b * cy + dx, ty: cy - b * cx - a * cy + dy };
}

/** The motion's scale factor. */
export function motionScale(m: Similarity): number {
  return Math.hypot(m.a, m.b);
}

/** The motion's rotation in radians. */
export function motionAngle(m: Similarity): number {
  return Math.atan2(m.b, m.a);
}

/** Where a point goes. */
export function applyMotion(m: Similarity, x: number, y: number): { x: number; y: number } {
  return { x: m.a * x - m.b * y + m.tx, y: m.b * x + m.a * y + m.ty };
}

/**
 * `second` after `first`.
 *
 * @example
 * ```ts
 * composeMotion(translation(1, 0), translation(2, 5)); // translation(3, 5)
 * ```
 */
export function composeMotion(first: Similarity, second: Similarity): Similarity {
  return {
    a: second.a * first.a - second.b * first.b,
    b: second.b * first.a + second.a * first.b,
    tx: second.a * first.tx - second.b * first.ty + second.tx,
    ty: second.b * first.tx + second.a * first.ty + second.ty,
  };
}

/** The motion that undoes `m`. */
export function invertMotion(m: Similarity): Similarity {
  const d = m.a * m.a + m.b * m.b;
  const a = m.a / d, b = -m.b / d;
  return { a, b, tx: -(a * m.tx - b * m.ty), ty: -(b * m.tx + a * m.ty) };
}

/**
 * The motion in the coordinates of a grid whose cells are `cellWidth x cellHeight` frame pixels
 * (cell centres at `(u + 0.5) * cellWidth - 0.5`), e.g. a pyramid level or the decoder's low-res
 * logit grid. With unequal cell sides a rotation is only approximately a similarity there; the
 * tracker's grids are square to within rounding.
 *
 * @example
 * ```ts
 * gridMotion(translation(10, 5), 5, 5); // translation(2, 1)
 * ```
 */
export function gridMotion(m: Similarity, cellWidth: number, cellHeight: number): Similarity {
  // x = cw u + hx, with hx = (cw - 1) / 2;  u' = (x' - hx) / cw.
  const hx = (cellWidth - 1) / 2, hy = (cellHeight - 1) / 2;
  const bxy = m.b * cellHeight / cellWidth, byx = m.b * cellWidth / cellHeight;
  return {
    a: m.a,
    b: (bxy + byx) / 2,
    tx: (m.a * hx - m.b * hy + m.tx - hx) / cellWidth,
    ty: (m.b * hx + m.a * hy + m.ty - hy) / cellHeight,
  };
}

/**
 * The frame-pixel motion of a motion given on a grid of square `cell`-pixel cells (the inverse of
 * {@link gridMotion} for square cells).
 */
export function frameMotion(m: Similarity, cell: number): Similarity {
  const h = (cell - 1) / 2;
  // x' = cell u' + h = cell (a u - b v + t) + h, with u = (x - h) / cell.
  return {
    a: m.a,
    b: m.b,
    tx: cell * m.tx + h - m.a * h + m.b * h,
    ty: cell * m.ty + h - m.b * h - m.a * h,
  };
}
