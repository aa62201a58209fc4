/**
 * Tracker overhead per frame at 720p, excluding the model: a segmenter whose embed, decode and
 * upscale return precomputed results instantly, so what is timed is the tracker's own work
 * (prompts from masks, output choice, thresholding in windows, overlaps, loss checks, state
 * updates, output). Objects are discs that step 0, 3, 6, 3, 0, ... pixels to the right, so they
 * keep moving and stay tracked. Target: under 5 ms per frame for 5 objects. The "with descriptors"
 * rows add what a segmenter that describes regions costs (TinySAM's embedding pooled under each
 * mask for the appearance memory, on a stand-in embedding of TinySAM's size).
 *
 *   deno bench -A tests/bench/tracker_bench.ts
 */
import type { Frame } from "../../src/frame.ts";
import type { ObjectPrompt } from "../../src/segment/prompts.ts";
import {
  type DecodedPrompt,
  DECODER_OUTPUTS,
  type FrameEmbedding,
  LOW_RES_SIDE,
  type PromptSet,
  type Segmenter,
} from "../../src/segment/segmenter.ts";
import { ObjectTracker } from "../../src/segment/tracker/object_tracker.ts";
import { pooledEmbedding } from "../../src/model/pooled_embedding.ts";
import type { PixelWindow } from "../../src/segment/geometry/pixel_window.ts";
import { EMBEDDING_DIM, EMBEDDING_SIDE } from "../../src/model/tinysam/architecture.ts";

const WIDTH = 1280, HEIGHT = 720, RADIUS = 44;
const PHASES = [0, 3, 6] as const;
const PHASE_OF_FRAME = [0, 1, 2, 1];

interface Disc {
  readonly x: number;
  readonly y: number;
}

function discs(count: number): Disc[] {
  const columns = Math.ceil(Math.sqrt(count * 16 / 9));
  const rows = Math.ceil(count / columns);
  return Array.from({ length: count }, (_, k) => ({
    x: Math.round((k % columns + 0.5) * WIDTH / columns),
    y: Math.round((Math.floor(k / columns) + 0.5) * HEIGHT / rows),
  }));
}

/** A segmenter that answers from precomputed disc logits without computing anything. */
class PrecomputedSegmenter implements Segmenter {
  readonly #objects: Disc[];
  /** Per phase: each disc's 4-output low-res logits. */
  readonly #lowRes: Float32Array[][];
  /** Per phase: full-frame logits of all discs (each object's window only holds its own disc). */
  readonly #full: Float32Array[];
  readonly #fullByBuffer = new Map<ArrayBuffer, Float32Array>();
  readonly #empty: Float32Array;

  constructor(objects: Disc[]) {
    this.#objects = objects;
    const cell = WIDTH / LOW_RES_SIDE;
    const plane = LOW_RES_SIDE * LOW_RES_SIDE;
    this.#empty = new Float32Array(DECODER_OUTPUTS * plane).fill(-10);
    this.#full = PHASES.map((shift) => {
      const full = new Float32Array(WIDTH * HEIGHT).fill(-10);
      for (const d of objects) {
        for (let y = d.y - RADIUS - 2; y <= d.y + RADIUS + 2; y++) {
          for (let x = d.x + shift - RADIUS - 2; x <= d.x + shift + RADIUS + 2; x++) {
            const sdf = RADIUS - Math.hypot(x + 0.5 - d.x - shift, y + 0.5 - d.y);
            full[y * WIDTH + x] = Math.max(-10, Math.min(10, sdf));
          }
        }
      }
      return full;
    });
    this.#lowRes = PHASES.map((shift, phase) =>
      objects.map((d) => {
        const logits = new Float32Array(DECODER_OUTPUTS * plane).fill(-10);
        for (let cy = 0; cy < LOW_RES_SIDE; cy++) {
          for (let cx = 0; cx < LOW_RES_SIDE; cx++) {
            const sdf = RADIUS -
              Math.hypot((cx + 0.5) * cell - d.x - shift, (cy + 0.5) * cell - d.y);
            if (sdf < -12) continue;
            for (let o = 0; o < DECODER_OUTPUTS; o++) {
              logits[o * plane + cy * LOW_RES_SIDE + cx] = Math.max(-10, Math.min(10, sdf));
            }
          }
        }
        this.#fullByBuffer.set(logits.buffer, this.#full[phase]);
        return logits;
      })
    );
  }

  embed(frame: Frame): Promise<FrameEmbedding & { phase: number }> {
    return Promise.resolve({
      frameWidth: frame.width,
      frameHeight: frame.height,
      phase: PHASE_OF_FRAME[frame.index % PHASE_OF_FRAME.length],
    });
  }

  decode(embedding: FrameEmbedding, prompts: readonly PromptSet[]): Promise<DecodedPrompt[]> {
    const { phase } = embedding as FrameEmbedding & { phase: number };
    return Promise.resolve(prompts.map((prompt) => {
      const point = prompt.points.find((p) => p.positive)!;
      const k = this.#objects.findIndex((d) =>
        Math.hypot(point.x - d.x - PHASES[phase], point.y - d.y) <= RADIUS + 2
      );
      return {
        lowResLogits: k >= 0 ? this.#lowRes[phase][k] : this.#empty,
        iouPredictions: Float32Array.of(0.95, 0.9, 0.95, 0.85),
      };
    }));
  }

  upscaleLogits(_embedding: FrameEmbedding, lowResLogits: Float32Array): Float32Array {
    return this.#fullByBuffer.get(lowResLogits.buffer as ArrayBuffer) ?? this.#full[0];
  }

  dispose(): Promise<void> {
    return Promise.resolve();
  }
}

/** The same, describing regions as TinySAM does: its embedding's size, pooled under the mask. */
class DescribingSegmenter extends PrecomputedSegmenter {
  readonly #embedding = Float32Array.from(
    { length: EMBEDDING_DIM * EMBEDDING_SIDE * EMBEDDING_SIDE },
    (_, i) => Math.sin(i * 0.37),
  );

  describe(
    _embedding: FrameEmbedding,
    lowResLogits: Float32Array,
    within?: PixelWindow,
  ): Float32Array {
    return pooledEmbedding(this.#embedding, lowResLogits, within);
  }
}

/** The rgb frames of the three phases (grey background, discs of distinct hues). */
function phaseFrames(objects: Disc[]): Uint8Array[] {
  return PHASES.map((shift) => {
    const data = new Uint8Array(WIDTH * HEIGHT * 3).fill(128);
    objects.forEach((d, k) => {
      const colour = [(k * 97) % 256, 255 - (k * 53) % 256, (k * 151 + 60) % 256];
      for (let y = d.y - RADIUS; y <= d.y + RADIUS; y++) {
        for (let x = d.x + shift - RADIUS; x <= d.x + shift + RADIUS; x++) {
          if (Math.hypot(x + 0.5 - d.x - shift, y + 0.5 - d.y) <= RADIUS) {
            data.set(colour, (y * WIDTH + x) * 3);
          }
        }
      }
    });
    return data;
  });
}

for (
  const [count, describes] of [[1, false], [5, false], [20, false], [5, true], [20, true]] as const
) {
  const objects = discs(count);
  const pixels = phaseFrames(objects);
  const frame = (index: number): Frame => ({
    index,
    ptsSeconds: index / 30,
    width: WIDTH,
    height: HEIGHT,
    data: pixels[PHASE_OF_FRAME[index % PHASE_OF_FRAME.length]],
  });
  const prompts: ObjectPrompt[] = objects.map((d, k) => ({
    objectId: k + 1,
    at: { frame: 0 },
    points: [{ x: d.x, y: d.y, positive: true }],
    box: [d.x - RADIUS - 4, d.y - RADIUS - 4, d.x + RADIUS + 4, d.y + RADIUS + 4],
    origin: `disc ${k + 1}`,
  }));
  const segmenter = describes
    ? new DescribingSegmenter(objects)
    : new PrecomputedSegmenter(objects);
  const tracker = new ObjectTracker(segmenter, prompts);
  let next = 0;
  Deno.bench({
    name: `tracker overhead per frame, 720p, ${count} object${count > 1 ? "s" : ""}${
      describes ? ", with descriptors" : ""
    }`,
    group: "tracker",
    async fn() {
      const masks = await tracker.step(frame(next++));
      if (masks.objects.length !== count) {
        throw new Error(`frame ${next - 1}: ${masks.objects.length} of ${count} objects tracked`);
      }
    },
  });
}
