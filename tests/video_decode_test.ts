import assert from "node:assert/strict";
import { concatMap, lastValueFrom, take, tap, timer, toArray } from "rxjs";
import type { Frame } from "../src/frame.ts";
import { acknowledgeFrames, CreditWindow } from "../src/video/credit_window.ts";
import { decodeVideo } from "../src/video/decode.ts";
import { FfmpegProcessError } from "../src/video/errors.ts";
import { parseInputSource } from "../src/video/input_source.ts";
import { probeVideo } from "../src/video/probe.ts";
import { StreamStats } from "../src/video/stream_stats.ts";
import { eventually, ffmpeg, ffmpegChildren, makeClip } from "./helpers/video.ts";

const dir = await Deno.makeTempDir({ prefix: "decode_test_" });
const clip = `${dir}/clip.mp4`;
await makeClip(clip, { width: 160, height: 96, fps: 25, frames: 12 });
globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));

async function decodeAll(spec: string, options: { live?: boolean } = {}): Promise<Frame[]> {
  const source = parseInputSource(spec, options);
  const info = await probeVideo(source);
  return await lastValueFrom(decodeVideo(source, info).pipe(toArray()));
}

async function ffmpegRgbFrames(path: string): Promise<Uint8Array> {
  const output = await new Deno.Command("ffmpeg", {
    args: ["-v", "error", "-nostdin", "-i", path, "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
    stdout: "piped",
  }).output();
  return output.stdout;
}

Deno.test("decoded frames are ffmpeg's rgb24 frames with index, time and size", async () => {
  const frames = await decodeAll(clip);
  assert.equal(frames.length, 12);
  const reference = await ffmpegRgbFrames(clip);
  const frameBytes = 160 * 96 * 3;
  frames.forEach((frame, i) => {
    assert.equal(frame.index, i);
    assert.equal(frame.ptsSeconds, i / 25);
    assert.deepEqual([frame.width, frame.height], [160, 96]);
    assert.equal(frame.data.byteLength, frameBytes);
    assert.ok(frame.capturedAtMs !== undefined);
    assert.deepEqual(frame.data, reference.subarray(i * frameBytes, (i + 1) * frameBytes));
  });
  assert.deepEqual(ffmpegChildren(), []);
});

Deno.test("rotation metadata is honoured: a 90-degree clip decodes to swapped size", async () => {
  const rotated = `${dir}/rotated.mp4`;
  await ffmpeg(["-i", clip, "-c", "copy", "-metadata:s:v", "rotate=90", rotated]);
  const frames = await decodeAll(rotated);
  assert.equal(frames.length, 12);
  assert.deepEqual([frames[0].width, frames[0].height], [96, 160]);
  assert.equal(frames[0].data.byteLength, 96 * 160 * 3);
  // Same pixels as ffmpeg's own autorotated decode.
  const reference = await ffmpegRgbFrames(rotated);
  assert.deepEqual(frames[0].data, reference.subarray(0, 96 * 160 * 3));
});

for (
  const [format, args] of [
    ["nut", ["-c:v", "ffv1", "-f", "nut"]],
    ["matroska", ["-c:v", "libx264", "-f", "matroska"]],
    ["mpegts", ["-c:v", "libx264", "-f", "mpegts"]],
    ["y4m", ["-pix_fmt", "yuv420p", "-f", "yuv4mpegpipe"]],
  ] as const
) {
  Deno.test(`standard input in ${format} decodes to every frame`, async () => {
    const path = `${dir}/stdin.${format}`;
    await ffmpeg(["-i", clip, ...args, path]);
    const file = await Deno.open(path);
    const source = parseInputSource("-", { stdin: file.readable });
    const info = await probeVideo(source);
    const frames = await lastValueFrom(decodeVideo(source, info).pipe(toArray()));
    assert.equal(frames.length, 12);
    assert.deepEqual([frames[11].index, frames[11].width, frames[11].height], [11, 160, 96]);
  });
}

Deno.test("maxFrames stops decoding after that many frames", async () => {
  const source = parseInputSource(clip);
  const frames = await lastValueFrom(
    decodeVideo(source, await probeVideo(source), { maxFrames: 5 }).pipe(toArray()),
  );
  assert.equal(frames.length, 5);
});

Deno.test("backpressure: the decoder reads at most the window ahead of a slow consumer", async () => {
  const source = parseInputSource("lavfi:testsrc2=size=320x240:rate=25:duration=60");
  const info = await probeVideo(source);
  const frameBytes = 320 * 240 * 3;
  const credits = new CreditWindow(3);
  const stats = new StreamStats();
  let decoderPid = 0;
  let maxAhead = 0;
  let maxFfmpegBytes = 0;
  const frames = await lastValueFrom(
    decodeVideo(source, info, { credits, stats, onSpawn: (pid) => decoderPid = pid }).pipe(
      concatMap((frame) => timer(40).pipe(take(1), concatMap(() => [frame]))),
      tap(() => {
        maxAhead = Math.max(maxAhead, stats.framesRead - credits.acknowledged);
        const io = Deno.readTextFileSync(`/proc/${decoderPid}/io`);
        maxFfmpegBytes = Number(/wchar: (\d+)/.exec(io)![1]);
      }),
      acknowledgeFrames(credits, (frame) => frame.index),
      take(15),
      toArray(),
    ),
  );
  assert.equal(frames.length, 15);
  assert.ok(maxAhead <= 3, `decoder read ${maxAhead} frames ahead with a window of 3`);
  // ffmpeg itself is held back by the full pipe: it has written little more than what was read
  // (frames read + one 64 KiB pipe buffer + one frame blocked in write).
  const ffmpegFrames = maxFfmpegBytes / frameBytes;
  console.log(`read ahead <= ${maxAhead} frames; ffmpeg wrote ${ffmpegFrames.toFixed(2)} frames`);
  assert.ok(ffmpegFrames <= 15 + 3 + 2, `ffmpeg wrote ${ffmpegFrames.toFixed(1)} frames`);
  assert.ok(await eventually(() => ffmpegChildren().length === 0), "ffmpeg left running");
});

Deno.test("unsubscribing kills and reaps the decoding ffmpeg", async () => {
  const source = parseInputSource("lavfi:testsrc2=size=320x240:rate=25:duration=600");
  const info = await probeVideo(source);
  let pid = 0;
  const frames = await lastValueFrom(
    decodeVideo(source, info, { onSpawn: (spawned) => pid = spawned }).pipe(take(3), toArray()),
  );
  assert.equal(frames.length, 3);
  assert.ok(pid > 0);
  assert.ok(await eventually(() => ffmpegChildren().length === 0), "ffmpeg left running");
});

Deno.test("aborting the signal completes the stream gracefully", async () => {
  const source = parseInputSource("lavfi:testsrc2=size=64x48:rate=25:duration=600");
  const info = await probeVideo(source);
  const stop = new AbortController();
  const frames = await lastValueFrom(
    decodeVideo(source, info, { signal: stop.signal }).pipe(
      tap((frame) => {
        if (frame.index === 9) stop.abort();
      }),
      toArray(),
    ),
  );
  assert.equal(frames.length, 10);
  assert.ok(await eventually(() => ffmpegChildren().length === 0), "ffmpeg left running");
});

Deno.test("a decoder killed mid-stream errors with one line naming the signal", async () => {
  const source = parseInputSource("lavfi:testsrc2=size=64x48:rate=25:duration=600");
  const info = await probeVideo(source);
  let pid = 0;
  await assert.rejects(
    () =>
      lastValueFrom(
        decodeVideo(source, info, { onSpawn: (spawned) => pid = spawned }).pipe(
          tap((frame) => {
            if (frame.index === 5) Deno.kill(pid, "SIGKILL");
          }),
          concatMap((frame) => timer(1).pipe(concatMap(() => [frame]))),
        ),
      ),
    (error: Error) => {
      assert.ok(error instanceof FfmpegProcessError, String(error));
      assert.match(error.message, /decoding ffmpeg was killed by SIGKILL after \d+ frames/);
      assert.ok(!error.message.includes("\n"));
      return true;
    },
  );
});

Deno.test("a URL input is probed and decoded by ffmpeg", async () => {
  const bytes = await Deno.readFile(clip);
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    () => new Response(bytes, { headers: { "content-type": "video/mp4" } }),
  );
  try {
    const frames = await decodeAll(`http://127.0.0.1:${server.addr.port}/clip.mp4`);
    assert.equal(frames.length, 12);
    assert.deepEqual([frames[0].width, frames[0].height], [160, 96]);
  } finally {
    await server.shutdown();
  }
});
