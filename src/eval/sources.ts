/**
 * Where the evaluator reads masks from: a ground-truth masks directory, and predictions given
 * either as a masks directory (`--masks-dir` output) or as masks JSON lines (`--masks-json`).
 * @module
 */
import { listMaskPngs, readMaskPng } from "../export/masks_dir.ts";
import { readMasksJsonl } from "../export/masks_jsonl.ts";
import { objectsFromLabelMap } from "../export/label_map.ts";
import type { FrameMasks } from "../segment/mask.ts";
import type { FrameObjects } from "./evaluator.ts";

/**
 * Reads a masks directory in frame order, one frame at a time.
 *
 * @example
 * ```ts
 * for await (const gt of readGroundTruth("samples/occlusion/gt")) console.log(gt.frameIndex);
 * ```
 */
export async function* readGroundTruth(dir: string): AsyncGenerator<FrameObjects> {
  for (const { path } of await listMaskPngs(dir)) yield await readLabelMapFrame(path);
}

/** Predictions looked up by frame index, in increasing order. */
export interface PredictionSource {
  /** The prediction for `frameIndex`, or undefined when it has none. Indices must increase. */
  at(frameIndex: number): Promise<FrameObjects | undefined>;
  /** Number of predicted frames never asked for (drains the rest of a JSONL file). */
  unusedFrames(): Promise<number>;
  /** Releases the open file, if any. */
  close(): Promise<void>;
}

/**
 * Opens predictions: a directory is read as label-map PNGs, a file as masks JSON lines (frames
 * in increasing order, as the writer produces them). Throws a one-line error when the path is
 * missing or holds no frames.
 *
 * @example
 * ```ts
 * const predictions = await openPredictions("out/masks.jsonl");
 * const frame7 = await predictions.at(7);
 * ```
 */
export async function openPredictions(path: string): Promise<PredictionSource> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch {
    throw new Error(`predictions ${path} do not exist`);
  }
  return info.isDirectory ? await openPredictionDir(path) : await openPredictionJsonl(path);
}

async function openPredictionDir(dir: string): Promise<PredictionSource> {
  const paths = new Map((await listMaskPngs(dir)).map((e) => [e.frameIndex, e.path]));
  const used = new Set<number>();
  return {
    at: async (frameIndex) => {
      const path = paths.get(frameIndex);
      if (path === undefined) return undefined;
      used.add(frameIndex);
      return await readLabelMapFrame(path);
    },
    unusedFrames: () => Promise.resolve(paths.size - used.size),
    close: () => Promise.resolve(),
  };
}

async function openPredictionJsonl(path: string): Promise<PredictionSource> {
  const frames = readMasksJsonl(path);
  let pending: FrameMasks | undefined;
  let done = false;
  let unused = 0;
  const advance = async () => {
    const next = await frames.next();
    if (next.done) {
      done = true;
      pending = undefined;
    } else {
      pending = next.value;
    }
  };
  await advance(); // Surfaces a missing, empty or unreadable file now, not mid-evaluation.
  return {
    at: async (frameIndex) => {
      while (!done && pending!.frameIndex < frameIndex) {
        unused++;
        await advance();
      }
      if (done || pending!.frameIndex !== frameIndex) return undefined;
      const found = pending!;
      await advance();
      return fromFrameMasks(found);
    },
    unusedFrames: async () => {
      while (!done) {
        unused++;
        await advance();
      }
      return unused;
    },
    close: async () => {
      await frames.return(undefined);
    },
  };
}

async function readLabelMapFrame(path: string): Promise<FrameObjects> {
  const map = await readMaskPng(path);
  const name = path.slice(path.lastIndexOf("/") + 1);
  return {
    frameIndex: Number(name.slice(0, name.indexOf("."))),
    width: map.width,
    height: map.height,
    masks: new Map(objectsFromLabelMap(map).map((o) => [o.id, o.mask.data])),
  };
}

function fromFrameMasks(masks: FrameMasks): FrameObjects {
  const byId = new Map<number, Uint8Array>();
  for (const object of masks.objects) {
    const existing = byId.get(object.id);
    if (existing === undefined) {
      byId.set(object.id, object.mask.data);
    } else {
      // The same id twice in one frame: score the union of its masks.
      const union = existing.slice();
      for (let i = 0; i < union.length; i++) union[i] |= object.mask.data[i];
      byId.set(object.id, union);
    }
  }
  return { frameIndex: masks.frameIndex, width: masks.width, height: masks.height, masks: byId };
}
