/**
 * `--masks-dir`: a directory of per-frame label-map PNGs (`000123.png`), written as a pipeline
 * stage and read back by the evaluator and tests. The format is described in `label_map.ts`.
 * @module
 */
import type { OperatorFunction } from "rxjs";
import type { FrameMasks, SegmentedFrame } from "../segment/mask.ts";
import {
  decodeLabelMapPng,
  encodeLabelMapPng,
  frameIndexFromMaskPngName,
  type LabelMap,
  labelMapFromMasks,
  maskPngName,
  objectsFromLabelMap,
} from "./label_map.ts";
import { writeFileAtomic } from "../fs/write_file_atomic.ts";
import { writeInOrder } from "./ordered_writer.ts";

/**
 * Stage that writes each frame's masks as a label-map PNG in `dir` (created if missing; files of
 * the same name are replaced) and passes the frame on only once its file is on disk, so at most
 * one frame is held. Each file is written under a temporary name and renamed, so an interrupted
 * run never leaves a half-written PNG. Errors (unwritable directory, bad ids) error the stream.
 *
 * @example
 * ```ts
 * segmented$.pipe(writeMaskPngs("out/masks")).subscribe();
 * ```
 */
export function writeMaskPngs(dir: string): OperatorFunction<SegmentedFrame, SegmentedFrame> {
  return writeInOrder<SegmentedFrame>(() => ({
    open: () => ensureDirectory(dir),
    write: (item) => writeLabelMapFile(dir, item.masks),
    close: () => Promise.resolve(),
  }));
}

/** A label-map file of a masks directory. */
export interface MaskPngEntry {
  readonly frameIndex: number;
  readonly path: string;
}

/**
 * Lists the label-map PNGs of a masks directory sorted by frame index (other files are
 * ignored). Throws a one-line error when the directory is missing, is a file, or holds none.
 *
 * @example
 * ```ts
 * for (const { frameIndex, path } of await listMaskPngs("gt")) console.log(frameIndex, path);
 * ```
 */
export async function listMaskPngs(dir: string): Promise<MaskPngEntry[]> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(dir);
  } catch {
    throw new Error(`masks directory ${dir} does not exist`);
  }
  if (!info.isDirectory) throw new Error(`${dir} is not a directory`);
  const entries: MaskPngEntry[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const frameIndex = entry.isFile ? frameIndexFromMaskPngName(entry.name) : undefined;
    if (frameIndex !== undefined) entries.push({ frameIndex, path: `${dir}/${entry.name}` });
  }
  if (entries.length === 0) {
    throw new Error(`masks directory ${dir} holds no NNNNNN.png label maps`);
  }
  return entries.sort((a, b) => a.frameIndex - b.frameIndex);
}

/**
 * Reads one label-map PNG; errors name the file.
 *
 * @example
 * ```ts
 * const map = await readMaskPng("gt/000000.png");
 * ```
 */
export async function readMaskPng(path: string): Promise<LabelMap> {
  try {
    return decodeLabelMapPng(await Deno.readFile(path));
  } catch (error) {
    throw new Error(`${path}: ${(error as Error).message}`);
  }
}

/** Options of `readMaskPngs`. */
export interface ReadMaskPngsOptions {
  /** Frame rate used to give each frame a time; without it `ptsSeconds` is `NaN` (PNGs carry no time). */
  readonly fps?: number;
}

/**
 * Reads a masks directory frame by frame as `FrameMasks` (objects sorted by id, score 1).
 *
 * @example
 * ```ts
 * for await (const masks of readMaskPngs("out/masks", { fps: 30 })) console.log(masks.objects.length);
 * ```
 */
export async function* readMaskPngs(
  dir: string,
  options: ReadMaskPngsOptions = {},
): AsyncGenerator<FrameMasks> {
  for (const { frameIndex, path } of await listMaskPngs(dir)) {
    const map = await readMaskPng(path);
    yield {
      frameIndex,
      ptsSeconds: options.fps ? frameIndex / options.fps : NaN,
      width: map.width,
      height: map.height,
      objects: objectsFromLabelMap(map),
    };
  }
}

async function ensureDirectory(dir: string): Promise<void> {
  try {
    await Deno.mkdir(dir, { recursive: true });
  } catch (error) {
    if (error instanceof Deno.errors.AlreadyExists) {
      throw new Error(`masks directory ${dir} exists and is not a directory`);
    }
    throw new Error(`cannot create masks directory ${dir}: ${(error as Error).message}`);
  }
}

async function writeLabelMapFile(dir: string, masks: FrameMasks): Promise<void> {
  const path = `${dir}/${maskPngName(masks.frameIndex)}`;
  await writeFileAtomic(path, encodeLabelMapPng(labelMapFromMasks(masks)));
}
