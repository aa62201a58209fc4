/**
 * Where calibration frames come from: a video, an image, a directory of them, or by default the
 * committed sample clips. Frames are spread evenly over each source.
 * @module
 */
import { fileURLToPath } from "node:url";
import { filter, lastValueFrom, toArray } from "rxjs";
import type { Frame } from "../../frame.ts";
import { decodeVideo } from "../../video/decode.ts";
import { VideoInputError } from "../../video/errors.ts";
import { type InputSource, parseInputSource } from "../../video/input_source.ts";
import { probeVideo, type VideoInfo } from "../../video/probe.ts";
import { sha256File } from "../sha256_file.ts";

/** A calibration source that yields no usable frame (one-line message). */
export class CalibrationError extends Error {
  override name = "CalibrationError";
}

const SAMPLES_DIR = fileURLToPath(new URL("../../../samples", import.meta.url));

/** The default calibration clips: every committed sample video. */
export async function defaultCalibrationFiles(): Promise<string[]> {
  const files: string[] = [];
  for await (const entry of Deno.readDir(SAMPLES_DIR)) {
    if (entry.isDirectory) files.push(`${SAMPLES_DIR}/${entry.name}/video.mp4`);
  }
  const present = [];
  for (const file of files.sort()) {
    if (await Deno.stat(file).then(() => true, () => false)) present.push(file);
  }
  if (present.length === 0) {
    throw new CalibrationError(`no sample videos in ${SAMPLES_DIR} to calibrate on`);
  }
  return present;
}

/** The files of a calibration source (`source` a file or a directory), sorted. */
export async function calibrationFiles(source: string): Promise<string[]> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(source);
  } catch {
    throw new CalibrationError(`calibration source ${source} does not exist`);
  }
  if (info.isFile) return [source];
  const files: string[] = [];
  for await (const entry of Deno.readDir(source)) {
    if (entry.isFile && !entry.name.startsWith(".")) files.push(`${source}/${entry.name}`);
  }
  if (files.length === 0) throw new CalibrationError(`calibration directory ${source} is empty`);
  return files.sort();
}

/** A digest of the calibration files' names and contents (what the int8 graphs depend on). */
export async function calibrationFingerprint(files: readonly string[]): Promise<string> {
  const parts: string[] = [];
  for (const file of files) parts.push(`${file.split("/").pop()}:${await sha256File(file)}`);
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(parts.join("\n")));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Decodes `count` frames spread evenly over the readable `files` (each contributes its share,
 * evenly spaced in time). Files ffmpeg cannot read are skipped; none readable is an error.
 *
 * @example
 * ```ts
 * const frames = await sampleCalibrationFrames(await defaultCalibrationFiles(), 8);
 * ```
 */
export async function sampleCalibrationFrames(
  files: readonly string[],
  count: number,
): Promise<Frame[]> {
  const readable: { source: InputSource; info: VideoInfo }[] = [];
  const unreadable: string[] = [];
  for (const file of files) {
    try {
      const source = parseInputSource(file);
      readable.push({ source, info: await probeVideo(source) });
    } catch (error) {
      if (!(error instanceof VideoInputError)) throw error;
      unreadable.push(`${file} (${error.message})`);
    }
  }
  if (readable.length === 0) {
    throw new CalibrationError(
      `no readable video or image to calibrate on: ${unreadable.join("; ")}`,
    );
  }
  const frames: Frame[] = [];
  for (const [i, { source, info }] of readable.entries()) {
    // Earlier files take the remainder, so that the total is `count` when there are enough frames.
    const share = Math.floor(count / readable.length) + (i < count % readable.length ? 1 : 0);
    if (share === 0) continue;
    const total = info.frameCount ??
      Math.max(1, Math.round((info.durationSeconds ?? 1) * info.fps));
    const taken = Math.min(share, total);
    const wanted = new Set(
      Array.from({ length: taken }, (_, k) => Math.floor(((k + 0.5) * total) / taken)),
    );
    const picked = await lastValueFrom(
      decodeVideo(source, info, { maxFrames: Math.max(...wanted) + 1 }).pipe(
        filter((frame) => wanted.has(frame.index)),
        toArray(),
      ),
    );
    frames.push(...picked);
  }
  if (frames.length === 0) throw new CalibrationError(`no frame decoded from ${files.join(", ")}`);
  return frames;
}
