/**
 * A test double of the {@link Segmenter} contract that needs no trained weights: classical region
 * growing in colour space. It lets the tracker's logic be checked against the synthetic samples'
 * ground truth. Never offered to users as a model.
 *
 * How a prompt set is decoded:
 * - the object's colours are sampled at the positive points (or, with a box only, at the pixel of
 *   the box's central half least like the box border); the background colour is the median of the
 *   region's border (the box edges, or a window around the points);
 * - each pixel gets a cost `r = dObject / (dObject + dBackground)` (0: object-like, 1: background-
 *   like); pixels nearer in colour to a negative point than to the object are blocked; pixels where
 *   `maskInput` is positive get a small bonus;
 * - a minimax flood from the positive points (bucket queue) gives every pixel its *barrier*: the
 *   lowest possible highest cost along a path from a seed, inside the box;
 * - output k is the region `barrier < t_k` (t = 0.5, 0.35, 0.5, 0.65: output 0 is the single
 *   mask, 1..3 tight, medium, loose); its logits are `(t_k - barrier) * 40`, so they are positive
 *   exactly on the region; its score (the "predicted IoU") is its stability (area at `t - 0.1`
 *   over area at `t + 0.1`) times the share of the box border it leaves free.
 *
 * Low-res logits are sampled on the decoder's 256x256 grid over the padded 1024 frame;
 * `upscaleLogits` returns the exact frame-resolution logits of the same decode (remembered per
 * result), so masks keep pixel precision.
 * @module
 */
import type { Frame } from "../../src/frame.ts";
import type {
  DecodedPrompt,
  FrameEmbedding,
  PromptSet,
  Segmenter,
} from "../../src/segment/segmenter.ts";
import { DECODER_OUTPUTS, LOW_RES_SIDE } from "../../src/segment/segmenter.ts";
import { upscaleMaskLogits } from "../../src/model/postprocess.ts";

/** Region thresholds on the cost of outputs 0..3. */
const OUTPUT_THRESHOLDS = [0.5, 0.35, 0.5, 0.65] as const;
/** Half-width of the threshold band the stability score compares. */
const STABILITY_BAND = 0.1;
/** Logit units per unit of cost. */
const LOGIT_SCALE = 40;
/** Logit of pixels the flood never reached. */
const FAR_LOGIT = -20;
/** Bonus subtracted from the cost of pixels inside the mask input. */
const MASK_INPUT_BONUS = 0.05;
/** Cost levels of the bucket queue. */
const LEVELS = 256;
/** Window half-size around the points when a prompt has no box. */
const POINTS_WINDOW = 60;

/** The embedding of the double: the frame, lightly smoothed. */
export interface RegionEmbedding extends FrameEmbedding {
  /** 3x3 box-filtered rgb, `frameWidth * frameHeight * 3`. */
  readonly rgb: Float32Array;
}

/** What one decoded prompt remembers so `upscaleLogits` can return exact logits. */
interface RegionResult {
  readonly x0: number;
  readonly y0: number;
  readonly x1: number;
  readonly y1: number;
  /** Barrier per pixel of the window `[x0, x1) x [y0, y1)`, in cost levels (LEVELS - 1 = never). */
  readonly barrier: Uint8Array;
}

/** Counters the tests read. */
export interface SegmenterCalls {
  embeds: number;
  decodes: number;
  /** Prompt sets over all decode calls. */
  prompts: number;
}

/**
 * Region growing in colour space behind the {@link Segmenter} interface (tests only).
 *
 * @example
 * ```ts
 * const segmenter = new RegionGrowingSegmenter();
 * const embedding = await segmenter.embed(frame);
 * const [decoded] = await segmenter.decode(embedding, [{ points: [{ x: 150, y: 153, positive: true }] }]);
 * segmenter.calls.decodes; // 1
 * ```
 */
export class RegionGrowingSegmenter implements Segmenter {
  /** Calls so far. */
  readonly calls: SegmenterCalls = { embeds: 0, decodes: 0, prompts: 0 };
  /** The prompt sets of every decode call, in order (only when `recordPrompts` is set). */
  readonly decodedPrompts: { frameWidth: number; prompts: readonly PromptSet[] }[] = [];
  readonly #recordPrompts: boolean;
  readonly #results = new WeakMap<ArrayBuffer, RegionResult>();

  constructor(options: { recordPrompts?: boolean } = {}) {
    this.#recordPrompts = options.recordPrompts ?? false;
  }

  /** Smooths the frame (3x3 box filter) and keeps it as the "embedding". */
  embed(frame: Frame): Promise<RegionEmbedding> {
    this.calls.embeds++;
    return Promise.resolve({
      frameWidth: frame.width,
      frameHeight: frame.height,
      rgb: boxFilter3(frame.data, frame.width, frame.height),
    });
  }

  /** Grows one region per prompt set; all prompt sets count as one call. */
  decode(embedding: FrameEmbedding, prompts: readonly PromptSet[]): Promise<DecodedPrompt[]> {
    this.calls.decodes++;
    this.calls.prompts += prompts.length;
    if (this.#recordPrompts) {
      this.decodedPrompts.push({ frameWidth: embedding.frameWidth, prompts: [...prompts] });
    }
    const image = embedding as RegionEmbedding;
    return Promise.resolve(prompts.map((prompt) => {
      const result = growRegion(image, prompt);
      const decoded = encodeResult(image, result);
      this.#results.set(decoded.lowResLogits.buffer as ArrayBuffer, result.region);
      return decoded;
    }));
  }

  /**
   * Frame-resolution logits of one output. For an output view of a decode result of this
   * segmenter the exact logits are returned; any other low-res logits are upscaled bilinearly.
   */
  upscaleLogits(embedding: FrameEmbedding, lowResLogits: Float32Array): Float32Array {
    const { frameWidth: width, frameHeight: height } = embedding;
    const plane = LOW_RES_SIDE * LOW_RES_SIDE;
    const region = this.#results.get(lowResLogits.buffer as ArrayBuffer);
    const output = lowResLogits.byteOffset / (plane * 4);
    if (!region || lowResLogits.length !== plane || !Number.isInteger(output)) {
      return upscaleMaskLogits(lowResLogits, width, height);
    }
    const threshold = OUTPUT_THRESHOLDS[output] * (LEVELS - 1);
    const logits = new Float32Array(width * height).fill(FAR_LOGIT);
    const { x0, y0, x1, y1, barrier } = region;
    const w = x1 - x0;
    for (let y = y0; y < y1; y++) {
      for (let x = x0; x < x1; x++) {
        logits[y * width + x] = barrierLogit(barrier[(y - y0) * w + x - x0], threshold);
      }
    }
    return logits;
  }

  /** Nothing to release. */
  dispose(): Promise<void> {
    return Promise.resolve();
  }
}

function barrierLogit(level: number, threshold: number): number {
  if (level >= LEVELS - 1) return FAR_LOGIT;
  const logit = ((threshold - level) / (LEVELS - 1)) * LOGIT_SCALE;
  // A level equal to the threshold is outside the region (strict `<`); keep its logit negative.
  return Math.max(FAR_LOGIT, Math.min(-FAR_LOGIT, logit === 0 ? -1e-3 : logit));
}

interface Grown {
  readonly region: RegionResult;
  /** Pixels with barrier < level, for level 0..LEVELS-1 (cumulative histogram). */
  readonly areaBelow: Float64Array;
  /** Box-border pixels (off the frame border) with barrier < level, cumulative. */
  readonly borderBelow: Float64Array;
  readonly borderPixels: number;
}

function growRegion(image: RegionEmbedding, prompt: PromptSet): Grown {
  const { frameWidth: width, frameHeight: height, rgb } = image;
  const clampX = (x: number) => Math.min(width - 1, Math.max(0, Math.round(x)));
  const clampY = (y: number) => Math.min(height - 1, Math.max(0, Math.round(y)));
  const positives = prompt.points.filter((p) => p.positive);
  const negatives = prompt.points.filter((p) => !p.positive);
  let x0: number, y0: number, x1: number, y1: number;
  if (prompt.box) {
    x0 = Math.max(0, Math.floor(prompt.box[0]));
    y0 = Math.max(0, Math.floor(prompt.box[1]));
    x1 = Math.min(width, Math.ceil(prompt.box[2]));
    y1 = Math.min(height, Math.ceil(prompt.box[3]));
  } else {
    const xs = positives.map((p) => p.x), ys = positives.map((p) => p.y);
    x0 = Math.max(0, Math.floor(Math.min(...xs) - POINTS_WINDOW));
    y0 = Math.max(0, Math.floor(Math.min(...ys) - POINTS_WINDOW));
    x1 = Math.min(width, Math.ceil(Math.max(...xs) + POINTS_WINDOW + 1));
    y1 = Math.min(height, Math.ceil(Math.max(...ys) + POINTS_WINDOW + 1));
  }
  x1 = Math.max(x1, x0 + 1);
  y1 = Math.max(y1, y0 + 1);
  const w = x1 - x0, h = y1 - y0;
  const colourAt = (x: number, y: number): [number, number, number] => {
    let r = 0, g = 0, b = 0, n = 0;
    for (let yy = Math.max(0, y - 1); yy <= Math.min(height - 1, y + 1); yy++) {
      for (let xx = Math.max(0, x - 1); xx <= Math.min(width - 1, x + 1); xx++) {
        const i = (yy * width + xx) * 3;
        r += rgb[i];
        g += rgb[i + 1];
        b += rgb[i + 2];
        n++;
      }
    }
    return [r / n, g / n, b / n];
  };

  // The border of the window, minus the sides lying on the frame border.
  const border: number[] = [];
  const pushBorder = (x: number, y: number) => border.push(y * width + x);
  for (let x = x0; x < x1; x++) {
    if (y0 > 0) pushBorder(x, y0);
    if (y1 < height && h > 1) pushBorder(x, y1 - 1);
  }
  for (let y = y0 + 1; y < y1 - 1; y++) {
    if (x0 > 0) pushBorder(x0, y);
    if (x1 < width && w > 1) pushBorder(x1 - 1, y);
  }
  const allBorder: number[] = [];
  for (let x = x0; x < x1; x++) allBorder.push(y0 * width + x, (y1 - 1) * width + x);
  for (let y = y0; y < y1; y++) allBorder.push(y * width + x0, y * width + x1 - 1);

  let seeds = positives.map((p) => ({ x: clampX(p.x), y: clampY(p.y) }));
  const objectColours = seeds.map((s) => colourAt(s.x, s.y));
  if (seeds.length === 0) {
    // A box alone: the most distinctive pixel of its central half (against the border median).
    const background = medianColour(rgb, allBorder) ?? [128, 128, 128];
    let best = -1, bestX = 0, bestY = 0;
    for (let y = y0 + Math.floor(h / 4); y < y1 - Math.floor(h / 4); y++) {
      for (let x = x0 + Math.floor(w / 4); x < x1 - Math.floor(w / 4); x++) {
        const d = distance(rgb, (y * width + x) * 3, background);
        if (d > best) {
          best = d;
          bestX = x;
          bestY = y;
        }
      }
    }
    seeds = [{ x: bestX, y: bestY }];
    objectColours.push(colourAt(bestX, bestY));
  }
  const objectLike = (i: number) => {
    let d = Infinity;
    for (const c of objectColours) d = Math.min(d, distance(rgb, i * 3, c));
    return d;
  };
  const background = medianColour(rgb, allBorder.filter((i) => objectLike(i) > 30));
  const negativeColours = negatives.map((p) => colourAt(clampX(p.x), clampY(p.y)));
  const negativePixels = new Set(negatives.map((p) => clampY(p.y) * width + clampX(p.x)));

  const maskPrior = prompt.maskInput ? maskInputSampler(prompt.maskInput, width, height) : null;
  const cost = new Uint8Array(w * h);
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      const i = y * width + x;
      const dObject = objectLike(i);
      let blocked = negativePixels.has(i);
      for (const c of negativeColours) if (distance(rgb, i * 3, c) < dObject) blocked = true;
      let level = LEVELS - 1;
      if (!blocked) {
        const dBackground = background ? distance(rgb, i * 3, background) : 255;
        let r = dObject + dBackground > 0 ? dObject / (dObject + dBackground) : 0;
        if (maskPrior && maskPrior(x, y) > 0) r -= MASK_INPUT_BONUS;
        level = Math.min(LEVELS - 2, Math.max(0, Math.round(r * (LEVELS - 1))));
      }
      cost[(y - y0) * w + x - x0] = level;
    }
  }
  const barrier = minimaxFlood(cost, w, h, seeds.map((s) => ({ x: s.x - x0, y: s.y - y0 })));

  const areaBelow = new Float64Array(LEVELS + 1);
  for (let i = 0; i < barrier.length; i++) if (barrier[i] < LEVELS - 1) areaBelow[barrier[i] + 1]++;
  for (let l = 1; l <= LEVELS; l++) areaBelow[l] += areaBelow[l - 1];
  const borderBelow = new Float64Array(LEVELS + 1);
  for (const i of border) {
    const level = barrier[(Math.floor(i / width) - y0) * w + (i % width) - x0];
    if (level < LEVELS - 1) borderBelow[level + 1]++;
  }
  for (let l = 1; l <= LEVELS; l++) borderBelow[l] += borderBelow[l - 1];
  return {
    region: { x0, y0, x1, y1, barrier },
    areaBelow,
    borderBelow,
    borderPixels: border.length,
  };
}

function encodeResult(image: RegionEmbedding, grown: Grown): DecodedPrompt {
  const { frameWidth: width, frameHeight: height } = image;
  const plane = LOW_RES_SIDE * LOW_RES_SIDE;
  const lowResLogits = new Float32Array(DECODER_OUTPUTS * plane).fill(FAR_LOGIT);
  const iouPredictions = new Float32Array(DECODER_OUTPUTS);
  const { x0, y0, x1, y1, barrier } = grown.region;
  const w = x1 - x0;
  // The 256 grid covers the 1024 frame, whose content is the frame scaled by 1024 / longest side.
  const pixelsPerCell = Math.max(width, height) / LOW_RES_SIDE;
  const levels = new Uint8Array(plane).fill(LEVELS - 1);
  const cx0 = Math.max(0, Math.floor(x0 / pixelsPerCell - 1));
  const cx1 = Math.min(LOW_RES_SIDE, Math.ceil(x1 / pixelsPerCell + 1));
  const cy0 = Math.max(0, Math.floor(y0 / pixelsPerCell - 1));
  const cy1 = Math.min(LOW_RES_SIDE, Math.ceil(y1 / pixelsPerCell + 1));
  for (let cy = cy0; cy < cy1; cy++) {
    const y = Math.floor((cy + 0.5) * pixelsPerCell);
    if (y < y0 || y >= y1) continue;
    for (let cx = cx0; cx < cx1; cx++) {
      const x = Math.floor((cx + 0.5) * pixelsPerCell);
      if (x < x0 || x >= x1) continue;
      levels[cy * LOW_RES_SIDE + cx] = barrier[(y - y0) * w + x - x0];
    }
  }
  const band = Math.round(STABILITY_BAND * (LEVELS - 1));
  const { areaBelow, borderBelow, borderPixels } = grown;
  for (let o = 0; o < DECODER_OUTPUTS; o++) {
    const threshold = OUTPUT_THRESHOLDS[o] * (LEVELS - 1);
    const t = Math.round(threshold);
    const out = lowResLogits.subarray(o * plane, (o + 1) * plane);
    for (let cy = cy0; cy < cy1; cy++) {
      for (let cx = cx0; cx < cx1; cx++) {
        const i = cy * LOW_RES_SIDE + cx;
        out[i] = barrierLogit(levels[i], threshold);
      }
    }
    const area = areaBelow[t];
    if (area === 0) continue;
    const stability = areaBelow[Math.max(0, t - band)] / areaBelow[Math.min(LEVELS, t + band)];
    const borderShare = borderPixels > 0 ? borderBelow[t] / borderPixels : 0;
    iouPredictions[o] = stability * (1 - borderShare);
  }
  return { lowResLogits, iouPredictions };
}

/** Sampler of a low-res mask input at a frame pixel (nearest cell). */
function maskInputSampler(
  maskInput: Float32Array,
  width: number,
  height: number,
): (x: number, y: number) => number {
  const cellsPerPixel = LOW_RES_SIDE / Math.max(width, height);
  return (x, y) => {
    const cx = Math.min(LOW_RES_SIDE - 1, Math.floor((x + 0.5) * cellsPerPixel));
    const cy = Math.min(LOW_RES_SIDE - 1, Math.floor((y + 0.5) * cellsPerPixel));
    return maskInput[cy * LOW_RES_SIDE + cx];
  };
}

/**
 * Minimax path cost from the seeds over a 4-connected grid: a bucket-queue flood in which a pixel's
 * barrier is the largest cost along the cheapest path. Blocked pixels (LEVELS - 1) are never entered.
 */
function minimaxFlood(
  cost: Uint8Array,
  w: number,
  h: number,
  seeds: readonly { x: number; y: number }[],
): Uint8Array {
  const barrier = new Uint8Array(w * h).fill(LEVELS - 1);
  const buckets: number[][] = Array.from({ length: LEVELS }, () => []);
  for (const s of seeds) {
    if (s.x < 0 || s.y < 0 || s.x >= w || s.y >= h) continue;
    const i = s.y * w + s.x;
    if (cost[i] >= LEVELS - 1) continue;
    if (cost[i] < barrier[i]) {
      barrier[i] = cost[i];
      buckets[cost[i]].push(i);
    }
  }
  const done = new Uint8Array(w * h);
  for (let level = 0; level < LEVELS - 1; level++) {
    const bucket = buckets[level];
    while (bucket.length > 0) {
      const i = bucket.pop()!;
      if (done[i]) continue;
      done[i] = 1;
      const x = i % w, y = (i - x) / w;
      const visit = (j: number) => {
        if (done[j] || cost[j] >= LEVELS - 1) return;
        const b = Math.max(level, cost[j]);
        if (b < barrier[j]) {
          barrier[j] = b;
          buckets[b].push(j);
        }
      };
      if (x > 0) visit(i - 1);
      if (x < w - 1) visit(i + 1);
      if (y > 0) visit(i - w);
      if (y < h - 1) visit(i + w);
    }
  }
  return barrier;
}

function distance(rgb: Float32Array, offset: number, colour: readonly number[]): number {
  const dr = rgb[offset] - colour[0], dg = rgb[offset + 1] - colour[1];
  const db = rgb[offset + 2] - colour[2];
  return Math.sqrt(dr * dr + dg * dg + db * db);
}

function medianColour(rgb: Float32Array, pixels: readonly number[]): number[] | undefined {
  if (pixels.length === 0) return undefined;
  return [0, 1, 2].map((c) => {
    const values = pixels.map((i) => rgb[i * 3 + c]).sort((a, b) => a - b);
    return values[values.length >> 1];
  });
}

function boxFilter3(data: Uint8Array, width: number, height: number): Float32Array {
  const horizontal = new Float32Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const xa = Math.max(0, x - 1), xb = Math.min(width - 1, x + 1);
      for (let c = 0; c < 3; c++) {
        let sum = 0;
        for (let xx = xa; xx <= xb; xx++) sum += data[(y * width + xx) * 3 + c];
        horizontal[(y * width + x) * 3 + c] = sum / (xb - xa + 1);
      }
    }
  }
  const out = new Float32Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const ya = Math.max(0, y - 1), yb = Math.min(height - 1, y + 1);
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++) {
        let sum = 0;
        for (let yy = ya; yy <= yb; yy++) sum += horizontal[(yy * width + x) * 3 + c];
        out[(y * width + x) * 3 + c] = sum / (yb - ya + 1);
      }
    }
  }
  return out;
}
