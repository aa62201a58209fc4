/**
 * Helpers for the video and CLI tests: synthetic clips made by the real ffmpeg, running the
 * segment command as a subprocess, checking that outputs are playable and that no ffmpeg child
 * is left behind.
 * @module
 */
import { fileURLToPath } from "node:url";
import type { VideoInfo } from "../../src/video/probe.ts";

/** Absolute path of the segment command's entry point. */
export const SEGMENT_CLI: string = fileURLToPath(
  new URL("../../src/cli/segment.ts", import.meta.url),
);

/** The repository root. */
export const REPO_DIR: string = fileURLToPath(new URL("../..", import.meta.url));

/** Runs ffmpeg (from PATH) and throws with its stderr if it fails. */
export async function ffmpeg(args: readonly string[]): Promise<void> {
  const output = await new Deno.Command("ffmpeg", {
    args: ["-hide_banner", "-loglevel", "error", "-nostdin", "-y", ...args],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!output.success) {
    throw new Error(`ffmpeg ${args.join(" ")} failed: ${new TextDecoder().decode(output.stderr)}`);
  }
}

/**
 * Writes a synthetic clip (`testsrc2`) to `path`; `extra` are output options (codec etc.).
 *
 * @example
 * ```ts
 * await makeClip(`${dir}/a.mp4`, { width: 160, height: 96, frames: 10 });
 * ```
 */
export async function makeClip(
  path: string,
  options: {
    width?: number;
    height?: number;
    fps?: number;
    frames: number;
    audio?: boolean;
    extra?: readonly string[];
  },
): Promise<void> {
  const { width = 160, height = 96, fps = 25, frames } = options;
  const duration = frames / fps;
  await ffmpeg([
    "-f",
    "lavfi",
    "-i",
    `testsrc2=size=${width}x${height}:rate=${fps}:duration=${duration}`,
    ...(options.audio
      ? ["-f", "lavfi", "-i", `sine=frequency=440:duration=${duration}`, "-shortest"]
      : []),
    ...(options.extra ?? ["-c:v", "libx264", "-pix_fmt", "yuv420p"]),
    path,
  ]);
}

/** What ffprobe says about the first video and audio streams of a file. */
export interface ProbedOutput {
  readonly videoCodec?: string;
  readonly audioCodec?: string;
  readonly width?: number;
  readonly height?: number;
  readonly frameRate?: string;
}

/** Probes `path` with ffprobe (from PATH); throws if ffprobe cannot read it. */
export async function ffprobeStreams(path: string): Promise<ProbedOutput> {
  const output = await new Deno.Command("ffprobe", {
    args: ["-v", "error", "-show_streams", "-of", "json", path],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!output.success) {
    throw new Error(`ffprobe ${path} failed: ${new TextDecoder().decode(output.stderr)}`);
  }
  const streams: Record<string, unknown>[] = JSON.parse(new TextDecoder().decode(output.stdout))
    .streams;
  const video = streams.find((stream) => stream.codec_type === "video");
  const audio = streams.find((stream) => stream.codec_type === "audio");
  return {
    videoCodec: video?.codec_name as string | undefined,
    audioCodec: audio?.codec_name as string | undefined,
    width: video?.width as number | undefined,
    height: video?.height as number | undefined,
    frameRate: video?.r_frame_rate as string | undefined,
  };
}

/**
 * Decodes every video frame of `path` with ffmpeg and returns how many there were; throws when
 * the file is not fully decodable (i.e. not playable), so a truncated output fails the test.
 */
export async function countDecodableFrames(path: string): Promise<number> {
  const output = await new Deno.Command("ffmpeg", {
    args: [
      "-hide_banner",
      "-nostdin",
      "-v",
      "error",
      "-xerror",
      "-i",
      path,
      "-map",
      "0:v:0",
      "-f",
      "framecrc",
      "-",
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(output.stderr).trim();
  if (!output.success || stderr !== "") {
    throw new Error(`${path} is not fully decodable: ${stderr}`);
  }
  return new TextDecoder().decode(output.stdout).split("\n").filter((line) => /^\d+,/.test(line))
    .length;
}

/** The result of running the segment command. */
export interface CliResult {
  readonly code: number;
  readonly stdout: Uint8Array;
  readonly stderr: string;
  /** Non-empty stderr lines. */
  readonly stderrLines: string[];
}

/** Runs `deno run -A src/cli/segment.ts ...args` to completion. */
export function runSegmentCli(
  args: readonly string[],
  options: { env?: Record<string, string>; cwd?: string } = {},
): Promise<CliResult> {
  return runScriptCli(SEGMENT_CLI, args, options);
}

/** Runs `deno run -A SCRIPT ...args` to completion (in the repository root by default). */
export async function runScriptCli(
  script: string,
  args: readonly string[],
  options: { env?: Record<string, string>; cwd?: string } = {},
): Promise<CliResult> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", script, ...args],
    cwd: options.cwd ?? REPO_DIR,
    env: options.env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(output.stderr);
  return {
    code: output.code,
    stdout: output.stdout,
    stderr,
    stderrLines: stderr.split("\n").filter((line) => line.trim() !== ""),
  };
}

/** Pids of the live (non-zombie) processes whose parent is `parentPid`, read from /proc. */
export function childProcesses(parentPid: number): { pid: number; command: string }[] {
  const children: { pid: number; command: string }[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${entry.name}/stat`);
      // pid (comm) state ppid ...: comm may contain spaces, so split after the last ")".
      const [state, ppid] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(ppid) !== parentPid || state === "Z") continue;
      const command = Deno.readTextFileSync(`/proc/${entry.name}/cmdline`).replaceAll("\0", " ");
      children.push({ pid: Number(entry.name), command });
    } catch {
      // the process ended while we looked
    }
  }
  return children;
}

/** The ffmpeg processes among `parentPid`'s live children. */
export function ffmpegChildren(parentPid: number = Deno.pid): { pid: number; command: string }[] {
  return childProcesses(parentPid).filter((child) => /ffmpeg|ffprobe/.test(child.command));
}

/** Polls `condition` every 20 ms until it holds or `timeoutMs` passes; returns whether it held. */
export async function eventually(condition: () => boolean, timeoutMs = 5000): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return condition();
}

/** Whether a file or directory exists at `path`. */
export function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** What a probe would say of a 25 fps, yuv420p, silent stream of `width`x`height` frames made in a test. */
export function videoInfoOf(width: number, height: number): VideoInfo {
  return {
    width,
    height,
    codedWidth: width,
    codedHeight: height,
    frameRate: { num: 25, den: 1 },
    fps: 25,
    rotation: 0,
    pixelFormat: "yuv420p",
    codec: "rawvideo",
    formatName: "lavfi",
    hasAudio: false,
  };
}
