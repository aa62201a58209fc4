/**
 * Which video encoders the ffmpeg at hand offers, and the H.264 (or fallback) choice.
 * @module
 */

/** Encoders tried in order for the default (H.264) output. */
export const H264_PREFERENCE: readonly string[] = [
  "libx264",
  "libopenh264",
  "h264_v4l2m2m",
  "mpeg4",
  "libxvid",
];

const listed = new Map<string, Promise<ReadonlySet<string>>>();

/**
 * Lists the encoder names ffmpeg reports (`ffmpeg -encoders`), cached per binary.
 *
 * @example
 * ```ts
 * const encoders = await availableEncoders("/usr/bin/ffmpeg");
 * encoders.has("libx264");
 * ```
 */
export function availableEncoders(ffmpegPath: string): Promise<ReadonlySet<string>> {
  let found = listed.get(ffmpegPath);
  if (!found) {
    found = listEncoders(ffmpegPath);
    listed.set(ffmpegPath, found);
  }
  return found;
}

/**
 * Picks the first encoder of `preference` that ffmpeg has; throws a one-line error when none is.
 *
 * @example
 * ```ts
 * const codec = await chooseVideoEncoder("/usr/bin/ffmpeg"); // "libx264" on most builds
 * ```
 */
export async function chooseVideoEncoder(
  ffmpegPath: string,
  preference: readonly string[] = H264_PREFERENCE,
): Promise<string> {
  const encoders = await availableEncoders(ffmpegPath);
  const choice = preference.find((name) => encoders.has(name));
  if (!choice) {
    throw new Error(
      `${ffmpegPath} has none of the video encoders ${preference.join(", ")}`,
    );
  }
  return choice;
}

async function listEncoders(ffmpegPath: string): Promise<ReadonlySet<string>> {
  const output = await new Deno.Command(ffmpegPath, {
    args: ["-hide_banner", "-encoders"],
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).output();
  const names = new Set<string>();
  // Lines look like " V....D libx264    libx264 H.264 / AVC ..."; the legend above uses "=".
  for (const line of new TextDecoder().decode(output.stdout).split("\n")) {
    const match = /^\s([VAS][A-Z.]{5})\s+(\S+)\s/.exec(line);
    if (match && match[2] !== "=") names.add(match[2]);
  }
  return names;
}
