/**
 * Label maps: one object id per pixel (0 = background), the per-frame format of `--masks-dir`
 * and of the samples' ground truth, stored as 8-bit grayscale PNG when every id in the frame is
 * at most 255 and as 16-bit grayscale PNG otherwise (decided per frame, so a stream never has to
 * know its future ids; readers accept both).
 *
 * Overlaps: a label map holds one id per pixel, so where objects overlap the object that comes
 * later in `FrameMasks.objects` wins, the same order in which the overlay paints them.
 * @module
 */
import type { BinaryMask, FrameMasks, ObjectMask } from "../segment/mask.ts";
import { maskToBbox } from "../segment/geometry/boxes.ts";
import { decodePng, encodePng } from "./png.ts";

/** Largest object id a label map can hold (16-bit PNG). */
export const MAX_LABEL_ID = 65535;

/** One id per pixel, row-major; 0 is background. */
export interface LabelMap {
  readonly width: number;
  readonly height: number;
  readonly labels: Uint16Array;
}

/**
 * Paints a frame's object masks into a label map (later objects win on overlaps).
 * Throws when an id is outside 1..65535 or a mask's size differs from the frame's.
 *
 * @example
 * ```ts
 * const map = labelMapFromMasks(frameMasks);
 * const png = encodeLabelMapPng(map);
 * ```
 */
export function labelMapFromMasks(masks: FrameMasks): LabelMap {
  const { width, height } = masks;
  const labels = new Uint16Array(width * height);
  for (const object of masks.objects) {
    if (!Number.isInteger(object.id) || object.id < 1 || object.id > MAX_LABEL_ID) {
      throw new Error(
        `object id ${object.id} cannot be stored in a label map (1..${MAX_LABEL_ID})`,
      );
    }
    if (object.mask.width !== width || object.mask.height !== height) {
      throw new Error(
        `object ${object.id} mask is ${object.mask.width}x${object.mask.height}, frame ${masks.frameIndex} is ${width}x${height}`,
      );
    }
    const data = object.mask.data;
    for (let i = 0; i < data.length; i++) if (data[i] !== 0) labels[i] = object.id;
  }
  return { width, height, labels };
}

/**
 * Splits a label map into one mask per id present, sorted by id; scores are 1 (a label map
 * keeps no confidence) and boxes are tight.
 *
 * @example
 * ```ts
 * const objects = objectsFromLabelMap(decodeLabelMapPng(await Deno.readFile("000000.png")));
 * ```
 */
export function objectsFromLabelMap(map: LabelMap): ObjectMask[] {
  const masks = new Map<number, Uint8Array>();
  const { labels } = map;
  for (let i = 0; i < labels.length; i++) {
    const id = labels[i];
    if (id === 0) continue;
    let data = masks.get(id);
    if (data === undefined) {
      data = new Uint8Array(labels.length);
      masks.set(id, data);
    }
    data[i] = 1;
  }
  return [...masks.keys()].sort((a, b) => a - b).map((id) => {
    const mask: BinaryMask = { width: map.width, height: map.height, data: masks.get(id)! };
    return { id, mask, score: 1, bbox: maskToBbox(mask) };
  });
}

/**
 * Encodes a label map as a grayscale PNG: 8-bit when every id is at most 255, else 16-bit.
 *
 * @example
 * ```ts
 * const png = encodeLabelMapPng({ width: 2, height: 1, labels: new Uint16Array([0, 300]) }); // 16-bit
 * ```
 */
export function encodeLabelMapPng(map: LabelMap): Uint8Array {
  let maxId = 0;
  for (let i = 0; i < map.labels.length; i++) if (map.labels[i] > maxId) maxId = map.labels[i];
  if (maxId > 255) {
    return encodePng({ kind: "gray16", width: map.width, height: map.height, data: map.labels });
  }
  return encodePng({
    kind: "gray8",
    width: map.width,
    height: map.height,
    data: Uint8Array.from(map.labels),
  });
}

/**
 * Decodes a label-map PNG: 8- or 16-bit grayscale (sample = id), or a palette image whose
 * indices are the ids (the DAVIS annotation format). Throws a `PNG:` error for anything else.
 *
 * @example
 * ```ts
 * const map = decodeLabelMapPng(await Deno.readFile("gt/000000.png"));
 * ```
 */
export function decodeLabelMapPng(bytes: Uint8Array): LabelMap {
  const image = decodePng(bytes);
  if (image.kind === "gray16") {
    return { width: image.width, height: image.height, labels: image.data };
  }
  if (image.kind === "gray8" || image.kind === "indexed") {
    return { width: image.width, height: image.height, labels: Uint16Array.from(image.data) };
  }
  throw new Error(`PNG: a label map must be grayscale or palette, not ${image.kind}`);
}

/**
 * File name of a frame's label map: the frame index zero-padded to six digits.
 *
 * @example
 * ```ts
 * maskPngName(123); // "000123.png"
 * ```
 */
export function maskPngName(frameIndex: number): string {
  return `${String(frameIndex).padStart(6, "0")}.png`;
}

/**
 * Frame index of a label-map file name (`000123.png` -> 123), or `undefined` for other names.
 *
 * @example
 * ```ts
 * frameIndexFromMaskPngName("000123.png"); // 123
 * ```
 */
export function frameIndexFromMaskPngName(name: string): number | undefined {
  const match = /^(\d+)\.png$/.exec(name);
  return match ? Number(match[1]) : undefined;
}
