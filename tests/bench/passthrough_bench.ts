/**
 * Pass-through cost: the real `segment` command with no prompts (decode -> empty masks -> overlay
 * -> encode, audio copied) against plain `ffmpeg -i clip -c:v libx264 out.mp4` on the same clip.
 * The figure is the ratio of the two means (target: at most 1.3x). Skipped without ../shared.
 * @module
 */
import { CLIPS_DIR, sharedAvailable } from "../helpers/shared.ts";
import { SEGMENT_CLI } from "../helpers/video.ts";

const CLIP = `${CLIPS_DIR}/02_cups.mp4`;
const outDir = sharedAvailable ? await Deno.makeTempDir({ prefix: "passthrough_bench_" }) : "";
globalThis.addEventListener("unload", () => {
  if (outDir) Deno.removeSync(outDir, { recursive: true });
});

async function run(command: string, args: string[]): Promise<void> {
  const output = await new Deno.Command(command, {
    args,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!output.success) {
    throw new Error(`${command} failed: ${new TextDecoder().decode(output.stderr)}`);
  }
}

Deno.bench({
  name: "plain ffmpeg -i 02_cups.mp4 -c:v libx264 out.mp4",
  group: "passthrough",
  baseline: true,
  ignore: !sharedAvailable,
  n: 3,
  warmup: 1,
  fn: async () => {
    await run("ffmpeg", [
      "-hide_banner",
      "-loglevel",
      "error",
      "-nostdin",
      "-y",
      "-i",
      CLIP,
      "-c:v",
      "libx264",
      `${outDir}/plain.mp4`,
    ]);
  },
});

Deno.bench({
  name: "deno task segment --input 02_cups.mp4 --output out.mp4 (pass-through)",
  group: "passthrough",
  ignore: !sharedAvailable,
  n: 3,
  warmup: 1,
  fn: async () => {
    await run(Deno.execPath(), [
      "run",
      "-A",
      SEGMENT_CLI,
      "--input",
      CLIP,
      "--output",
      `${outDir}/segment.mp4`,
      "--quiet",
    ]);
  },
});

// The floor of any pipeline that hands frames over as rgb24: ffmpeg decoding to rgb24 piped into
// ffmpeg encoding from rgb24, with nothing in between (no Deno, no copies).
Deno.bench({
  name: "ffmpeg -pix_fmt rgb24 - | ffmpeg -f rawvideo -i - -c:v libx264 out.mp4 (rgb24 floor)",
  group: "passthrough",
  ignore: !sharedAvailable,
  n: 3,
  warmup: 1,
  fn: async () => {
    const pipeline = `ffmpeg -v error -nostdin -i '${CLIP}' -f rawvideo -pix_fmt rgb24 - | ` +
      `ffmpeg -v error -y -f rawvideo -pix_fmt rgb24 -video_size 1280x720 -framerate 30000/1001 ` +
      `-i - -c:v libx264 -pix_fmt yuv420p '${outDir}/floor.mp4'`;
    await run("sh", ["-c", pipeline]);
  },
});
