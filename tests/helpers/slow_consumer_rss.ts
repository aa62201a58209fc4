/**
 * Run as a subprocess by `video_memory_test.ts`: reads a 10-minute 1080p `lavfi:` source through
 * a deliberately slow stage for 300 frames, unsubscribes, and prints a JSON report: peak RSS
 * (sampled every 10 ms and at every frame), frames seen, and the ffmpeg children still alive.
 * @module
 */
import { concatMap, lastValueFrom, take, timer } from "rxjs";
import { decodeVideo } from "../../src/video/decode.ts";
import { parseInputSource } from "../../src/video/input_source.ts";
import { probeVideo } from "../../src/video/probe.ts";
import { pulledStream } from "../../src/video/pulled_stream.ts";
import { StreamStats } from "../../src/video/stream_stats.ts";
import { eventually, ffmpegChildren } from "./video.ts";

const FRAMES = 300;
const SLOW_STAGE_MS = 20;

const source = parseInputSource("lavfi:testsrc2=size=1920x1080:rate=30:duration=600");
const info = await probeVideo(source);
const stats = new StreamStats();
let peakRss = Deno.memoryUsage().rss;
const sample = () => peakRss = Math.max(peakRss, Deno.memoryUsage().rss);
const sampler = setInterval(sample, 10);
let checksum = 0;
const last = await lastValueFrom(
  pulledStream(
    (credits) => decodeVideo(source, info, { credits, stats }),
    (frames) =>
      frames.pipe(
        concatMap((frame) =>
          timer(SLOW_STAGE_MS).pipe(concatMap(() => {
            // Touch the pixels, as a real stage would.
            for (let i = 0; i < frame.data.length; i += 4096) checksum += frame.data[i];
            sample();
            return [frame];
          }))
        ),
        take(FRAMES),
      ),
    (frame) => frame.index,
  ),
);
clearInterval(sampler);
const childrenGone = await eventually(() => ffmpegChildren().length === 0, 5000);
console.log(JSON.stringify({
  frames: last.index + 1,
  framesRead: stats.framesRead,
  peakRssMb: Math.round(peakRss / 2 ** 20 * 10) / 10,
  ffmpegLeft: childrenGone ? 0 : ffmpegChildren().length,
  checksum,
}));
