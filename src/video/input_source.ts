/**
 * What `--input` names: a file, standard input, a capture device, a URL or a `lavfi:` graph,
 * and whether frames from it are pulled (files) or pushed (live sources).
 * @module
 */
import { BufferedStdin } from "./buffered_stdin.ts";

/** The kinds of source ffmpeg can read for us. */
export type InputKind = "file" | "stdin" | "device" | "url" | "lavfi";

/** A parsed input, ready to be probed and decoded. */
export interface InputSource {
  readonly kind: InputKind;
  /** The input as the user wrote it. */
  readonly spec: string;
  /** Live sources are pushed through a drop-oldest queue instead of being pulled. */
  readonly live: boolean;
  /** ffmpeg/ffprobe options placed before `-i` (e.g. `-f lavfi`). */
  readonly formatArgs: readonly string[];
  /** The argument given to `-i`. */
  readonly url: string;
  /** Present for `-`: standard input, buffered so it can be probed and then decoded. */
  readonly stdin?: BufferedStdin;
}

/** URL schemes that carry live streams (pushed, not pulled). */
export const LIVE_SCHEMES: ReadonlySet<string> = new Set([
  "rtsp",
  "rtsps",
  "rtmp",
  "rtmps",
  "rtp",
  "srt",
  "udp",
  "tcp",
  "mms",
  "mmsh",
]);

/** Options for {@link parseInputSource}. */
export interface InputSourceOptions {
  /** Forces live (push) mode, e.g. for a live stream piped to stdin. */
  readonly live?: boolean;
  /** The stream read for `-`; standard input by default. */
  readonly stdin?: ReadableStream<Uint8Array>;
}

/**
 * Classifies an input specification.
 *
 * - `-`: standard input (any format ffmpeg detects: nut, matroska, mpegts, y4m, ...)
 * - `lavfi:<graph>`: an ffmpeg filter graph source, e.g. `lavfi:testsrc2=size=320x240:duration=2`
 * - `/dev/video*`: a v4l2 capture device (live)
 * - `scheme://...`: a URL; rtsp, rtmp, udp, srt and similar are live
 * - anything else: a file path
 *
 * @example
 * ```ts
 * parseInputSource("lavfi:testsrc2=duration=1").formatArgs; // ["-f", "lavfi"]
 * parseInputSource("/dev/video0").live; // true
 * ```
 */
export function parseInputSource(spec: string, options: InputSourceOptions = {}): InputSource {
  const forceLive = options.live ?? false;
  if (spec === "-") {
    return {
      kind: "stdin",
      spec,
      live: forceLive,
      formatArgs: [],
      url: "pipe:0",
      stdin: new BufferedStdin(options.stdin ?? Deno.stdin.readable),
    };
  }
  if (spec.startsWith("lavfi:")) {
    return {
      kind: "lavfi",
      spec,
      live: forceLive,
      formatArgs: ["-f", "lavfi"],
      url: spec.slice(6),
    };
  }
  if (/^\/dev\/video\d+$/.test(spec)) {
    return { kind: "device", spec, live: true, formatArgs: ["-f", "v4l2"], url: spec };
  }
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(spec)?.[1]?.toLowerCase();
  if (scheme && scheme !== "file") {
    return {
      kind: "url",
      spec,
      live: forceLive || LIVE_SCHEMES.has(scheme),
      formatArgs: [],
      url: spec,
    };
  }
  const path = scheme === "file" ? decodeURIComponent(new URL(spec).pathname) : spec;
  // "file:" keeps ffmpeg from reading a path containing ":" as a protocol.
  return { kind: "file", spec: path, live: forceLive, formatArgs: [], url: `file:${path}` };
}
