/**
 * Frames of the committed synthetic samples and their ground truth, for tests and benchmarks.
 * @module
 */
import { fileURLToPath } from "node:url";
import { filter, lastValueFrom, toArray } from "rxjs";
import type { Frame } from "../../src/frame.ts";
import { readMaskPng } from "../../src/export/masks_dir.ts";
import { maskPngName } from "../../src/export/label_map.ts";
import { decodeVideo } from "../../src/video/decode.ts";
import { parseInputSource } from "../../src/video/input_source.ts";
import { probeVideo } from "../../src/video/probe.ts";

/** The committed samples' directory. */
export const SAMPLES_DIR: string = fileURLToPath(new URL("../../samples", import.meta.url));

/** Names of the committed samples. */
export const SAMPLE_NAMES = ["occlusion", "exit_enter", "crossing"] as const;

/** Decodes the frames `indices` (any order) of `samples/<name>/video.mp4`, in index order. */
export async function sampleFrames(name: string, indices: readonly number[]): Promise<Frame[]> {
  const wanted = new Set(indices);
  const source = parseInputSource(`${SAMPLES_DIR}/${name}/video.mp4`);
  const info = await probeVideo(source);
  return await lastValueFrom(
    decodeVideo(source, info, { maxFrames: Math.max(...indices) + 1 }).pipe(
      filter((frame) => wanted.has(frame.index)),
      toArray(),
    ),
  );
}

/** Ground-truth masks (row-major 0/1) of the objects visible on frame `index`, by id. */
export async function sampleGroundTruth(
  name: string,
  index: number,
): Promise<Map<number, Uint8Array>> {
  const map = await readMaskPng(`${SAMPLES_DIR}/${name}/gt/${maskPngName(index)}`);
  const masks = new Map<number, Uint8Array>();
  map.labels.forEach((id, i) => {
    if (id === 0) return;
    let mask = masks.get(id);
    if (!mask) masks.set(id, mask = new Uint8Array(map.labels.length));
    mask[i] = 1;
  });
  return masks;
}
