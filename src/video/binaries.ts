/**
 * Finding the ffmpeg and ffprobe executables: `FFMPEG_PATH`/`FFPROBE_PATH`, then `PATH`, then the
 * binaries shipped in the `@ffmpeg-installer/ffmpeg` and `@ffprobe-installer/ffprobe` npm packages.
 * @module
 */

/** Which of the two tools is meant. */
export type FfmpegTool = "ffmpeg" | "ffprobe";

/** Where a resolved binary came from, for diagnostics and tests. */
export type BinaryOrigin = "env" | "path" | "npm";

/** A resolved executable. */
export interface ResolvedBinary {
  readonly tool: FfmpegTool;
  readonly path: string;
  readonly origin: BinaryOrigin;
}

/** The pair of executables every video stage uses. */
export interface FfmpegBinaries {
  readonly ffmpeg: string;
  readonly ffprobe: string;
}

/** Raised when a binary cannot be found or made executable; the message is one line. */
export class BinaryNotFoundError extends Error {
  override name = "BinaryNotFoundError";
}

const ENV_VARIABLE: Record<FfmpegTool, string> = { ffmpeg: "FFMPEG_PATH", ffprobe: "FFPROBE_PATH" };

/**
 * Resolves one tool: the environment variable, then `PATH`, then the npm-shipped binary.
 * The npm binaries are installed without lifecycle scripts, so they may lack their executable
 * bit; it is added when the file belongs to the current user.
 *
 * @example
 * ```ts
 * const ffprobe = await resolveBinary("ffprobe");
 * console.log(ffprobe.path, ffprobe.origin);
 * ```
 */
export async function resolveBinary(
  tool: FfmpegTool,
  env: { get(key: string): string | undefined } = Deno.env,
): Promise<ResolvedBinary> {
  const fromEnv = env.get(ENV_VARIABLE[tool]);
  if (fromEnv) {
    if (!isFile(fromEnv)) {
      throw new BinaryNotFoundError(
        `${ENV_VARIABLE[tool]} points to "${fromEnv}", which is not a file`,
      );
    }
    await ensureExecutable(fromEnv);
    return { tool, path: fromEnv, origin: "env" };
  }
  const onPath = findOnPath(tool, env.get("PATH") ?? "");
  if (onPath) return { tool, path: onPath, origin: "path" };
  const shipped = await npmBinaryPath(tool);
  await ensureExecutable(shipped);
  return { tool, path: shipped, origin: "npm" };
}

let cached: Promise<FfmpegBinaries> | undefined;

/**
 * Resolves ffmpeg and ffprobe once per process (from the real environment).
 *
 * @example
 * ```ts
 * const { ffmpeg, ffprobe } = await ffmpegBinaries();
 * ```
 */
export function ffmpegBinaries(): Promise<FfmpegBinaries> {
  cached ??= Promise.all([resolveBinary("ffmpeg"), resolveBinary("ffprobe")]).then((
    [ffmpeg, ffprobe],
  ) => ({ ffmpeg: ffmpeg.path, ffprobe: ffprobe.path }));
  cached.catch(() => cached = undefined);
  return cached;
}

/**
 * Makes `path` executable by its owner when it is not already executable.
 * Throws a one-line error when the file belongs to someone else.
 */
export async function ensureExecutable(path: string): Promise<void> {
  const info = await Deno.stat(path);
  const mode = info.mode ?? 0o755;
  if ((mode & 0o111) !== 0) return;
  if (info.uid !== Deno.uid()) {
    throw new BinaryNotFoundError(
      `"${path}" is not executable and belongs to another user: run chmod +x on it or set FFMPEG_PATH/FFPROBE_PATH`,
    );
  }
  await Deno.chmod(path, mode | 0o100);
}

function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

function findOnPath(tool: string, pathVariable: string): string | undefined {
  for (const dir of pathVariable.split(":")) {
    if (dir === "") continue;
    const candidate = `${dir}/${tool}`;
    try {
      const info = Deno.statSync(candidate);
      if (info.isFile && ((info.mode ?? 0) & 0o111) !== 0) return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

async function npmBinaryPath(tool: FfmpegTool): Promise<string> {
  try {
    // Literal specifiers so that Deno resolves them through the import map.
    const module = tool === "ffmpeg"
      ? await import("@ffmpeg-installer/ffmpeg")
      : await import("@ffprobe-installer/ffprobe");
    const path = (module.default ?? module).path as string | undefined;
    if (!path) throw new Error("the package reports no path");
    return path;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new BinaryNotFoundError(
      `${tool} not found: not in ${
        ENV_VARIABLE[tool]
      }, not on PATH, and the npm-shipped binary is unavailable (${reason.split("\n")[0]})`,
    );
  }
}
