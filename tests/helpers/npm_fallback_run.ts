/**
 * Run as a subprocess by `video_binaries_test.ts` with ffmpeg removed from PATH: resolves the
 * binaries, probes and decodes `Deno.args[0]`, encodes the frames to `Deno.args[1]`, and prints a
 * JSON report on stdout.
 * @module
 */
import { lastValueFrom, toArray } from "rxjs";
import { resolveBinary } from "../../src/video/binaries.ts";
import { decodeVideo } from "../../src/video/decode.ts";
import { encodeVideo } from "../../src/video/encode.ts";
import { parseInputSource } from "../../src/video/input_source.ts";
import { parseOutputTarget } from "../../src/video/output_target.ts";
import { probeVideo } from "../../src/video/probe.ts";
import { withoutMasks } from "../../src/video/without_masks.ts";

const [inputPath, outputPath] = Deno.args;
const ffmpeg = await resolveBinary("ffmpeg");
const ffprobe = await resolveBinary("ffprobe");
const source = parseInputSource(inputPath);
const info = await probeVideo(source);
const frames = await lastValueFrom(
  decodeVideo(source, info, { maxFrames: 5 }).pipe(
    withoutMasks(),
    encodeVideo({
      target: parseOutputTarget(outputPath),
      width: info.width,
      height: info.height,
      frameRate: info.frameRate,
    }),
    toArray(),
  ),
);
console.log(JSON.stringify({
  ffmpeg,
  ffprobe,
  width: info.width,
  height: info.height,
  decoded: frames.length,
  firstFrameBytes: frames[0].frame.data.byteLength,
}));
