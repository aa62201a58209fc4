import assert from "node:assert/strict";
import { concatMap, lastValueFrom, take, tap, timer, toArray } from "rxjs";
import { decoderArgs, decodeVideo } from "../src/video/decode.ts";
import { DropOldestQueue } from "../src/video/drop_oldest_queue.ts";
import { parseInputSource } from "../src/video/input_source.ts";
import { probeVideo } from "../src/video/probe.ts";
import { pulledStream } from "../src/video/pulled_stream.ts";
import { recordLatency } from "../src/video/record_latency.ts";
import { formatStreamStats, StreamStats } from "../src/video/stream_stats.ts";
import { eventually, ffmpegChildren } from "./helpers/video.ts";

Deno.test("the drop-oldest queue evicts the oldest item and counts it", () => {
  const queue = new DropOldestQueue<number>(2);
  assert.equal(queue.push(1), 0);
  assert.equal(queue.push(2), 0);
  assert.equal(queue.push(3), 1);
  assert.equal(queue.push(4), 1);
  assert.deepEqual([queue.shift(), queue.shift(), queue.shift()], [3, 4, undefined]);
  assert.equal(queue.dropped, 2);
});

Deno.test("with a wait limit the queue keeps a short backlog and drops what waited too long", () => {
  // Items are their own arrival times (ms).
  const queue = new DropOldestQueue<number>(6, { maxWaitMs: 100, timeOf: (t) => t });
  // A 90 ms stall: three frames pile up and all are kept.
  for (const t of [0, 33, 66, 90]) assert.equal(queue.push(t, t), 0);
  assert.equal(queue.length, 4);
  // 133 ms: the frame from 0 ms has waited 133 ms and goes; 33 ms (100 ms) stays.
  assert.equal(queue.push(133, 133), 1);
  assert.deepEqual([queue.shift(), queue.shift()], [33, 66]);
  // A long stall: everything older than 100 ms goes, the capacity holds either way.
  assert.equal(queue.push(400, 400), 2);
  assert.deepEqual([queue.shift(), queue.shift()], [400, undefined]);
  for (let t = 500; t < 510; t++) queue.push(t, t);
  assert.equal(queue.length, 6);
  assert.equal(queue.dropped, 7);
});

Deno.test("a live source with a slow stage drops frames and reports them instead of growing", async () => {
  // lavfi produces 640x480 frames far faster than the 25 ms stage consumes them: like a camera
  // feeding a model that cannot keep up.
  const source = parseInputSource("lavfi:testsrc2=size=640x480:rate=30:duration=600", {
    live: true,
  });
  assert.equal(source.live, true);
  const info = await probeVideo(source);
  const stats = new StreamStats();
  const baselineRss = Deno.memoryUsage().rss;
  let peakRss = baselineRss;
  const indices = await lastValueFrom(
    pulledStream(
      (credits) => decodeVideo(source, info, { credits, stats, liveQueueCapacity: 2 }),
      (frames) =>
        frames.pipe(
          concatMap((frame) => timer(25).pipe(concatMap(() => [frame]))),
          recordLatency(stats, (frame) => frame),
          tap(() => peakRss = Math.max(peakRss, Deno.memoryUsage().rss)),
          take(40),
        ),
      (frame) => frame.index,
      2,
    ).pipe(concatMap((frame) => [frame.index]), toArray()),
  );
  const summary = stats.summary();
  console.log(
    `${formatStreamStats(summary)}; RSS grew ${((peakRss - baselineRss) / 2 ** 20).toFixed(1)} MB`,
  );
  assert.equal(indices.length, 40);
  // Indices keep their gaps: the frames between were dropped.
  assert.ok(indices.every((index, i) => i === 0 || index > indices[i - 1]));
  assert.ok(indices.at(-1)! > 40, `last index ${indices.at(-1)}: nothing was skipped`);
  assert.ok(summary.framesDropped > 0, "no frame was dropped");
  assert.ok(
    summary.framesRead - summary.framesDelivered - summary.framesDropped <= 2,
    "frames unaccounted for",
  );
  assert.equal(summary.framesOutput, 40);
  assert.ok(summary.latencyP50Ms! > 0 && summary.latencyP95Ms! >= summary.latencyP50Ms!);
  // Hundreds of frames were read (each 0.9 MB); only the queue and the window are ever held.
  assert.ok(summary.framesRead > 200, `only ${summary.framesRead} frames read`);
  assert.ok(peakRss - baselineRss < 120 * 2 ** 20, `RSS grew ${peakRss - baselineRss} bytes`);
  assert.ok(await eventually(() => ffmpegChildren().length === 0), "ffmpeg left running");
});

Deno.test("devices and streaming URLs are live; files, lavfi and http are pulled", () => {
  assert.equal(parseInputSource("/dev/video0").live, true);
  assert.deepEqual(parseInputSource("/dev/video0").formatArgs, ["-f", "v4l2"]);
  assert.equal(parseInputSource("rtsp://camera.local/stream").live, true);
  assert.equal(parseInputSource("udp://0.0.0.0:1234").live, true);
  assert.equal(parseInputSource("https://example.com/clip.mp4").live, false);
  assert.equal(parseInputSource("clip.mp4").live, false);
  assert.equal(parseInputSource("clip.mp4", { live: true }).live, true);
  assert.equal(parseInputSource("lavfi:testsrc2").live, false);
  assert.equal(parseInputSource("-").kind, "stdin");
});

Deno.test("a live decoder does not hold its first frame back to estimate the frame rate", () => {
  const info = {
    width: 64,
    height: 48,
    frameRate: { num: 30, den: 1 },
  } as Parameters<typeof decoderArgs>[1];
  const live = decoderArgs(parseInputSource("-", { live: true }), info);
  const file = decoderArgs(parseInputSource("clip.mp4"), info);
  assert.ok(
    live.indexOf("-fpsprobesize") >= 0 && live.indexOf("-fpsprobesize") < live.indexOf("-i"),
  );
  assert.equal(live[live.indexOf("-fpsprobesize") + 1], "0");
  assert.equal(file.includes("-fpsprobesize"), false);
});
