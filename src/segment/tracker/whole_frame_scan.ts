/**
 * The whole-frame scan for lost objects: single positive points, as the everything pass prompts,
 * on a square grid over the whole frame, fine enough that several points land on the smallest
 * lost object (the spacing is half its size). Points that cannot be a lost object are left out
 * before any decoding (the caller says which: on tracked objects, or of a colour no lost object
 * shows), and a frame decodes at most a budget of the others, taken in a progressive order
 * (bit-reversed rows and columns, interleaved) so that they are spread over the whole frame and
 * the next frame goes on where this one stopped. The cost per frame is bounded by the budget,
 * whatever is lost.
 * @module
 */

/** Where the scan is in its grid. */
export interface ScanCursor {
  /** Grid spacing in pixels (a new spacing starts a new grid). */
  readonly spacing: number;
  /** Index, in progressive order, of the next point to decode. */
  readonly next: number;
}

/** Finest and coarsest spacing, as shares of the frame's longer side. */
const FINEST = 1 / 64;
const COARSEST = 1 / 8;

/**
 * The grid spacing for lost objects of these sizes (square roots of their reference areas): half
 * the smallest size, kept between 1/64 and 1/8 of the frame's longer side.
 *
 * @example
 * ```ts
 * scanSpacing([36, 80], 640, 360); // 18
 * ```
 */
export function scanSpacing(sizes: readonly number[], width: number, height: number): number {
  const long = Math.max(width, height);
  const half = sizes.length > 0 ? Math.min(...sizes) / 2 : long * COARSEST;
  return Math.round(Math.max(long * FINEST, Math.min(long * COARSEST, half)));
}

/**
 * The grid's points (pixel coordinates, centred in their cells) in progressive order: every
 * prefix of the list is spread evenly over the frame.
 *
 * @example
 * ```ts
 * scanGrid(640, 360, 80).slice(0, 4); // far apart: one per quarter of the frame
 * ```
 */
export function scanGrid(
  width: number,
  height: number,
  spacing: number,
): { x: number; y: number }[] {
  const nx = Math.max(1, Math.round(width / spacing));
  const ny = Math.max(1, Math.round(height / spacing));
  const bits = Math.ceil(Math.log2(Math.max(nx, ny, 2)));
  const points: { x: number; y: number; key: number }[] = [];
  for (let j = 0; j < ny; j++) {
    for (let i = 0; i < nx; i++) {
      points.push({
        x: Math.min(width - 1, Math.floor(((i + 0.5) * width) / nx)),
        y: Math.min(height - 1, Math.floor(((j + 0.5) * height) / ny)),
        key: interleave(reverseBits(i, bits), reverseBits(j, bits)),
      });
    }
  }
  points.sort((a, b) => a.key - b.key);
  return points.map(({ x, y }) => ({ x, y }));
}

/**
 * The points this frame decodes: the next `budget` points of the grid from `cursor` (wrapping
 * around), leaving out those where `excluded` holds (on tracked objects) without counting them,
 * and the cursor to continue from. A cursor of another spacing starts the grid afresh.
 *
 * @example
 * ```ts
 * const { points, cursor } = nextScanPoints(640, 360, 40, previous, 24, insideTracked);
 * ```
 */
export function nextScanPoints(
  width: number,
  height: number,
  spacing: number,
  cursor: ScanCursor | undefined,
  budget: number,
  excluded: (x: number, y: number) => boolean,
): { points: { x: number; y: number }[]; cursor: ScanCursor } {
  const grid = scanGrid(width, height, spacing);
  let next = cursor?.spacing === spacing ? cursor.next % grid.length : 0;
  const points: { x: number; y: number }[] = [];
  for (let visited = 0; visited < grid.length && points.length < budget; visited++) {
    const point = grid[next];
    next = (next + 1) % grid.length;
    if (!excluded(point.x, point.y)) points.push(point);
  }
  return { points, cursor: { spacing, next } };
}

function reverseBits(v: number, bits: number): number {
  let r = 0;
  for (let b = 0; b < bits; b++) r |= ((v >> b) & 1) << (bits - 1 - b);
  return r;
}

/** Morton code: the bits of `a` and `b` interleaved. */
function interleave(a: number, b: number): number {
  let r = 0;
  for (let bit = 0; bit < 16; bit++) {
    r |= ((a >> bit) & 1) << (2 * bit);
    r |= ((b >> bit) & 1) << (2 * bit + 1);
  }
  return r;
}
