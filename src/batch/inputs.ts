/**
 * The videos of a submission: `--input` values (and arguments without a flag) expanded to absolute
 * paths, each with its name, its output directory and its prompts file, if any. Every problem is
 * found before anything is enqueued.
 * @module
 */
import { globSync } from "node:fs";
import { basename, dirname, extname, join, resolve } from "node:path";

/** One video of a submission. */
export interface BatchVideo {
  /** Absolute path of the video. */
  readonly input: string;
  /** File name without extension: the name of its output directory and of its prompts file. */
  readonly name: string;
  /** Absolute `DIR/NAME`. */
  readonly outputDir: string;
  /** `NAME.prompts.json` beside the video, when there is one. */
  readonly promptsFile?: string;
}

/** A submission names no video, or one that cannot be used; the message is one line. */
export class BatchInputError extends Error {
  override name = "BatchInputError";
}

const GLOB_CHARACTERS = /[*?[\]{}]/;

/** Suffix of the per-video prompts file: `NAME.prompts.json` beside `NAME.mp4`. */
export const PROMPTS_SUFFIX = ".prompts.json";

/**
 * Expands `values` into the videos of a submission, in order, each once:
 * - a value with `*`, `?`, `[...]` or `{a,b}` is a glob (it must match at least one file);
 * - `@FILE` is a list file, one path or glob per line (relative to the list's directory; blank
 *   lines and `#` comments are skipped);
 * - anything else is a path to a video file.
 *
 * Prompts files matched by a glob are not videos and are left out. Two videos with the same name
 * would share an output directory, so that is an error.
 *
 * @example
 * ```ts
 * batchVideos(["clips/*.mp4", "@more.txt"], "/data/out");
 * // [{ input: "/abs/clips/a.mp4", name: "a", outputDir: "/data/out/a", promptsFile: ... }, ...]
 * ```
 */
export function batchVideos(values: readonly string[], outputDir: string): BatchVideo[] {
  if (values.length === 0) {
    throw new BatchInputError("--input is required: give videos, globs or @LIST");
  }
  const paths: string[] = [];
  for (const value of values) paths.push(...expandValue(value, Deno.cwd(), 0));
  const videos: BatchVideo[] = [];
  const seen = new Set<string>();
  const byName = new Map<string, string>();
  const root = resolve(outputDir);
  for (const path of paths) {
    const real = Deno.realPathSync(path);
    if (seen.has(real)) continue;
    seen.add(real);
    const name = basename(path, extname(path));
    const other = byName.get(name);
    if (other !== undefined) {
      throw new BatchInputError(
        `${other} and ${path} would both write to ${
          join(root, name)
        }: rename one, or submit them with different --output-dir`,
      );
    }
    byName.set(name, path);
    const promptsFile = join(dirname(path), `${name}${PROMPTS_SUFFIX}`);
    videos.push({
      input: path,
      name,
      outputDir: join(root, name),
      ...(isFile(promptsFile) ? { promptsFile } : {}),
    });
  }
  return videos;
}

/** Most nested list files (`@a` naming `@b` ...). */
const MAX_LIST_DEPTH = 8;

function expandValue(value: string, base: string, depth: number): string[] {
  if (value.startsWith("@")) {
    if (depth >= MAX_LIST_DEPTH) {
      throw new BatchInputError(`list files nest too deeply at ${value}`);
    }
    const list = resolve(base, value.slice(1));
    let text: string;
    try {
      text = Deno.readTextFileSync(list);
    } catch (error) {
      throw new BatchInputError(`list file ${list} cannot be read (${describe(error)})`);
    }
    return text.split("\n").map((line) => line.trim()).filter((line) =>
      line !== "" && !line.startsWith("#")
    ).flatMap((line) => expandValue(line, dirname(list), depth + 1));
  }
  const path = resolve(base, value);
  if (GLOB_CHARACTERS.test(value)) {
    const matches = globSync(path).filter((match) =>
      !match.endsWith(PROMPTS_SUFFIX) && isFile(match)
    )
      .sort();
    if (matches.length === 0) throw new BatchInputError(`--input ${value} matches no file`);
    return matches;
  }
  let info: Deno.FileInfo;
  try {
    info = Deno.statSync(path);
  } catch (error) {
    const reason = error instanceof Deno.errors.NotFound ? "does not exist" : describe(error);
    throw new BatchInputError(`input ${value} ${reason}`);
  }
  if (!info.isFile) throw new BatchInputError(`input ${value} is not a file`);
  return [path];
}

function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message.split("\n")[0] : String(error);
}
