/**
 * Encodes a sample's rendered frames to H.264 (yuv420p) MP4 by piping raw rgb24 into ffmpeg,
 * with the options that make the bytes reproducible for a given ffmpeg build (one encoder thread,
 * bit-exact muxing, no metadata).
 * @module
 */
import { resolveBinary } from "../video/binaries.ts";

/** An ffmpeg process taking raw frames for one sample video. */
export interface SampleVideoWriter {
  /** Sends one rgb24 frame; resolves once ffmpeg has taken it. */
  write(rgb: Uint8Array): Promise<void>;
  /** Ends the input, waits for ffmpeg and moves the finished file into place. */
  finish(): Promise<void>;
  /** Kills ffmpeg and removes the partial file. */
  abort(): Promise<void>;
}

/**
 * ffmpeg arguments of a sample encode (libx264, CRF 18, preset slow, one thread, bit-exact).
 *
 * @example
 * ```ts
 * sampleEncodeArgs(480, 270, 30, "video.mp4.partial");
 * ```
 */
export function sampleEncodeArgs(
  width: number,
  height: number,
  fps: number,
  output: string,
): string[] {
  return [
    "-hide_banner",
    "-loglevel",
    "error",
    "-y",
    "-f",
    "rawvideo",
    "-pix_fmt",
    "rgb24",
    "-video_size",
    `${width}x${height}`,
    "-framerate",
    String(fps),
    "-i",
    "pipe:0",
    "-c:v",
    "libx264",
    "-preset",
    "slow",
    "-crf",
    "18",
    "-pix_fmt",
    "yuv420p",
    "-threads",
    "1",
    "-flags:v",
    "+bitexact",
    "-fflags",
    "+bitexact",
    "-map_metadata",
    "-1",
    "-movflags",
    "+faststart",
    "-f",
    "mp4",
    output,
  ];
}

/**
 * Starts ffmpeg writing `path` (through `path.partial`, renamed on success).
 *
 * @example
 * ```ts
 * const video = await openSampleVideo("samples/x/video.mp4", 480, 270, 30);
 * await video.write(rgb);
 * await video.finish();
 * ```
 */
export async function openSampleVideo(
  path: string,
  width: number,
  height: number,
  fps: number,
): Promise<SampleVideoWriter> {
  const ffmpeg = (await resolveBinary("ffmpeg")).path;
  const partial = `${path}.partial`;
  const child = new Deno.Command(ffmpeg, {
    args: sampleEncodeArgs(width, height, fps, partial),
    stdin: "piped",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const writer = child.stdin.getWriter();
  const failure = async (what: string) => {
    const message = (await stderr).trim().split("\n").pop() ?? "";
    return new Error(`ffmpeg ${what} while encoding ${path}${message ? `: ${message}` : ""}`);
  };
  return {
    write: async (rgb) => {
      try {
        await writer.write(rgb);
      } catch {
        throw await failure("stopped taking frames");
      }
    },
    finish: async () => {
      await writer.close().catch(() => {});
      const status = await child.status;
      if (!status.success) {
        await Deno.remove(partial).catch(() => {});
        throw await failure(`exited with code ${status.code}`);
      }
      await Deno.rename(partial, path);
    },
    abort: async () => {
      try {
        child.kill("SIGKILL");
      } catch {
        // Already exited.
      }
      await writer.abort().catch(() => {});
      await child.status;
      await stderr.catch(() => {});
      await Deno.remove(partial).catch(() => {});
    },
  };
}

/**
 * First line of `ffmpeg -version` of the resolved ffmpeg, recorded with the samples because the
 * MP4 bytes are only reproducible with the same build.
 *
 * @example
 * ```ts
 * await ffmpegVersion(); // "ffmpeg version 5.1.9-0+deb12u1 ..."
 * ```
 */
export async function ffmpegVersion(): Promise<string> {
  const ffmpeg = (await resolveBinary("ffmpeg")).path;
  const { stdout } = await new Deno.Command(ffmpeg, {
    args: ["-version"],
    stdout: "piped",
    stderr: "null",
  })
    .output();
  return new TextDecoder().decode(stdout).split("\n")[0].trim();
}
