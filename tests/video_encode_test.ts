import assert from "node:assert/strict";
import { concatMap, from, lastValueFrom, Observable, take, throwError, timer, toArray } from "rxjs";
import type { Frame } from "../src/frame.ts";
import type { SegmentedFrame } from "../src/segment/mask.ts";
import { decodeVideo } from "../src/video/decode.ts";
import { type EncodeOptions, type EncodeResult, encodeVideo } from "../src/video/encode.ts";
import { FfmpegProcessError } from "../src/video/errors.ts";
import { parseInputSource } from "../src/video/input_source.ts";
import { parseOutputTarget } from "../src/video/output_target.ts";
import { probeVideo, type VideoInfo } from "../src/video/probe.ts";
import { withoutMasks } from "../src/video/without_masks.ts";
import {
  countDecodableFrames,
  eventually,
  exists,
  ffmpeg,
  ffmpegChildren,
  ffprobeStreams,
  makeClip,
  videoInfoOf,
} from "./helpers/video.ts";

const dir = await Deno.makeTempDir({ prefix: "encode_test_" });
globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));

async function decodeAll(spec: string): Promise<{ info: VideoInfo; frames: Frame[] }> {
  const source = parseInputSource(spec);
  const info = await probeVideo(source);
  return { info, frames: await lastValueFrom(decodeVideo(source, info).pipe(toArray())) };
}

function encodeOptions(info: VideoInfo, output: string): EncodeOptions {
  return {
    target: parseOutputTarget(output),
    width: info.width,
    height: info.height,
    frameRate: info.frameRate,
  };
}

Deno.test("decode -> lossless encode -> decode is bit-exact in frame count and pixels", async () => {
  const original = await decodeAll("lavfi:testsrc2=size=176x144:rate=25:duration=1.2");
  assert.equal(original.frames.length, 30);
  const output = `${dir}/lossless.mkv`;
  const source = parseInputSource("lavfi:testsrc2=size=176x144:rate=25:duration=1.2");
  await lastValueFrom(
    decodeVideo(source, original.info).pipe(
      withoutMasks(),
      encodeVideo({ ...encodeOptions(original.info, output), codec: "lossless" }),
    ),
  );
  const roundTrip = await decodeAll(output);
  assert.equal(roundTrip.frames.length, original.frames.length);
  roundTrip.frames.forEach((frame, i) => {
    assert.equal(frame.index, i);
    assert.deepEqual([frame.width, frame.height], [176, 144]);
    assert.ok(frame.data.every((value, j) => value === original.frames[i].data[j]), `frame ${i}`);
  });
});

Deno.test("H.264 output keeps frame count, size and an NTSC frame rate", async () => {
  const input = `${dir}/ntsc.mp4`;
  await makeClip(input, { width: 160, height: 96, fps: 30000 / 1001, frames: 15 });
  const { info } = await decodeAll(input);
  assert.deepEqual(info.frameRate, { num: 30000, den: 1001 });
  const output = `${dir}/ntsc_out.mp4`;
  const source = parseInputSource(input);
  await lastValueFrom(
    decodeVideo(source, info).pipe(withoutMasks(), encodeVideo(encodeOptions(info, output))),
  );
  const probed = await ffprobeStreams(output);
  assert.equal(probed.videoCodec, "h264");
  assert.deepEqual([probed.width, probed.height], [160, 96]);
  assert.equal(probed.frameRate, "30000/1001");
  assert.equal(await countDecodableFrames(output), 15);
});

Deno.test("odd frame sizes are padded for 4:2:0 H.264 instead of failing", async () => {
  const { info, frames } = await decodeAll(
    "lavfi:testsrc2=size=75x51:rate=10:duration=0.5,format=rgb24",
  );
  const output = `${dir}/odd.mp4`;
  await lastValueFrom(
    new Observable<Frame>((subscriber) => {
      frames.forEach((frame) => subscriber.next(frame));
      subscriber.complete();
    }).pipe(withoutMasks(), encodeVideo(encodeOptions(info, output))),
  );
  const probed = await ffprobeStreams(output);
  assert.deepEqual([probed.width, probed.height], [76, 52]);
  assert.equal(await countDecodableFrames(output), 5);
});

Deno.test("audio is stream-copied when the container accepts it, re-encoded to AAC otherwise", async () => {
  const input = `${dir}/with_audio.mkv`;
  await makeClip(input, {
    frames: 10,
    audio: true,
    extra: ["-c:v", "libx264", "-c:a", "pcm_s16le"],
  });
  const source = parseInputSource(input);
  const info = await probeVideo(source);
  assert.equal(info.audioCodec, "pcm_s16le");
  for (
    const [output, expected] of [[`${dir}/audio.mkv`, "pcm_s16le"], [`${dir}/audio.mp4`, "aac"]]
  ) {
    await lastValueFrom(
      decodeVideo(source, info).pipe(
        withoutMasks(),
        encodeVideo({
          ...encodeOptions(info, output),
          audio: { url: source.url, codec: info.audioCodec },
        }),
      ),
    );
    assert.equal((await ffprobeStreams(output)).audioCodec, expected, output);
    assert.equal(await countDecodableFrames(output), 10);
  }
});

Deno.test("a stream that fails before its first frame leaves no output file", async () => {
  const output = `${dir}/never.mp4`;
  let result: EncodeResult | undefined;
  await assert.rejects(
    () =>
      lastValueFrom(
        throwError(() => new Error("probe went wrong")).pipe(
          encodeVideo({
            target: parseOutputTarget(output),
            width: 64,
            height: 48,
            frameRate: { num: 25, den: 1 },
            onFinalized: (finished) => result = finished,
          }),
        ),
      ),
    /probe went wrong/,
  );
  assert.equal(exists(output), false);
  assert.ok(await eventually(() => result !== undefined));
  assert.deepEqual(result, { framesWritten: 0, finalized: false });
});

Deno.test("an encoder started ahead of its first frame is stopped unopened when none comes", async () => {
  for (const end of ["complete", "error"] as const) {
    const output = `${dir}/no_frames_${end}.mp4`;
    let result: EncodeResult | undefined;
    let spawned: number | undefined;
    // The stream ends only after the encoding ffmpeg has started (it starts with the stage).
    const empty = new Observable<SegmentedFrame>((subscriber) => {
      const timer = setInterval(() => {
        if (spawned === undefined) return;
        clearInterval(timer);
        if (end === "complete") subscriber.complete();
        else subscriber.error(new Error("decoder failed first"));
      }, 10);
      return () => clearInterval(timer);
    });
    const run = lastValueFrom(
      empty.pipe(encodeVideo({
        target: parseOutputTarget(output),
        width: 64,
        height: 48,
        frameRate: { num: 25, den: 1 },
        onSpawn: (pid) => spawned = pid,
        onFinalized: (finished) => result = finished,
      })),
      { defaultValue: undefined },
    );
    if (end === "complete") await run;
    else await assert.rejects(run, /decoder failed first/);
    assert.ok(spawned !== undefined, "the encoder was started before any frame");
    assert.ok(await eventually(() => result !== undefined));
    assert.deepEqual(result, { framesWritten: 0, finalized: false });
    assert.equal(exists(output), false, `${end}: an output file was left`);
    assert.ok(await eventually(() => ffmpegChildren().length === 0), "ffmpeg left running");
  }
});

Deno.test("an upstream error after some frames still leaves a playable file", async () => {
  const source = parseInputSource("lavfi:testsrc2=size=160x96:rate=25:duration=600");
  const info = await probeVideo(source);
  const output = `${dir}/partial.mp4`;
  await assert.rejects(
    () =>
      lastValueFrom(
        decodeVideo(source, info).pipe(
          concatMap((frame) => {
            if (frame.index === 20) throw new Error("stage failed");
            return [frame];
          }),
          withoutMasks(),
          encodeVideo(encodeOptions(info, output)),
        ),
      ),
    /stage failed/,
  );
  assert.equal(await countDecodableFrames(output), 20);
  assert.ok(await eventually(() => ffmpegChildren().length === 0), "ffmpeg left running");
});

Deno.test("unsubscribing mid-stream finalizes a playable file and reaps ffmpeg", async () => {
  const source = parseInputSource("lavfi:testsrc2=size=160x96:rate=25:duration=600");
  const info = await probeVideo(source);
  const output = `${dir}/unsubscribed.mp4`;
  let result: EncodeResult | undefined;
  const frames: SegmentedFrame[] = [];
  const subscription = decodeVideo(source, info).pipe(
    withoutMasks(),
    encodeVideo({ ...encodeOptions(info, output), onFinalized: (finished) => result = finished }),
  ).subscribe((item) => frames.push(item));
  assert.ok(await eventually(() => frames.length >= 10));
  subscription.unsubscribe();
  assert.ok(await eventually(() => result !== undefined, 10_000), "encoder never finalized");
  assert.equal(result!.finalized, true);
  assert.equal(await countDecodableFrames(output), result!.framesWritten);
  assert.ok(await eventually(() => ffmpegChildren().length === 0), "ffmpeg left running");
});

Deno.test("an encoder that cannot open its output errors with one line", async () => {
  const output = `${dir}/no/such/dir/out.mp4`;
  await assert.rejects(
    () =>
      lastValueFrom(
        decodeVideo(
          parseInputSource("lavfi:testsrc2=size=64x48:rate=25:duration=1"),
          { ...videoInfoOf(64, 48) },
        ).pipe(withoutMasks(), encodeVideo(encodeOptions(videoInfoOf(64, 48), output))),
      ),
    (error: Error) => {
      assert.ok(error instanceof FfmpegProcessError, String(error));
      assert.match(error.message, /^encoding ffmpeg exited with code \d+: .*No such file/);
      assert.ok(!error.message.includes("\n"));
      return true;
    },
  );
});

Deno.test("frames pass the sink in order, each after it is written", async () => {
  const output = `${dir}/order.mkv`;
  const { info } = await decodeAll("lavfi:testsrc2=size=64x48:rate=25:duration=0.4");
  const indices = await lastValueFrom(
    decodeVideo(parseInputSource("lavfi:testsrc2=size=64x48:rate=25:duration=0.4"), info).pipe(
      concatMap((frame) => timer(frame.index % 2 ? 5 : 0).pipe(take(1), concatMap(() => [frame]))),
      withoutMasks(),
      encodeVideo(encodeOptions(info, output)),
      concatMap((item) => [item.frame.index]),
      toArray(),
    ),
  );
  assert.deepEqual(indices, [...Array(10).keys()]);
  // ffmpeg copes with the lavfi pixel format independently of the frame content.
  await ffmpeg(["-i", output, "-f", "null", "-"]);
});

Deno.test("a live encoder keeps every frame of a burst, each stamped after the one before", async () => {
  // Frames written back to back reach ffmpeg within the same millisecond of wall-clock time; each
  // must still come out as its own frame with a later timestamp.
  const { info, frames } = await decodeAll("lavfi:testsrc2=size=176x144:rate=25:duration=2");
  for (
    const [codec, extension] of [["h264", "mkv"], ["h264", "mp4"], ["lossless", "mkv"]] as const
  ) {
    const output = `${dir}/burst_${codec}.${extension}`;
    await lastValueFrom(
      from(frames).pipe(
        withoutMasks(),
        encodeVideo({ ...encodeOptions(info, output), live: true, codec }),
      ),
    );
    assert.equal(await countDecodableFrames(output), frames.length, output);
    const stamps = await presentationTimes(output);
    assert.equal(stamps.length, frames.length);
    stamps.forEach((stamp, i) => {
      if (i > 0) assert.ok(stamp > stamps[i - 1], `${output}: frame ${i} at ${stamp}s`);
    });
  }
});

/** The presentation time of each frame of `path`, in decoding order sorted by time (seconds). */
async function presentationTimes(path: string): Promise<number[]> {
  const output = await new Deno.Command("ffprobe", {
    args: [
      "-v",
      "error",
      "-select_streams",
      "v:0",
      "-show_entries",
      "packet=pts_time",
      "-of",
      "csv=p=0",
      path,
    ],
    stdout: "piped",
  }).output();
  return new TextDecoder().decode(output.stdout).trim().split("\n").map(Number).sort((a, b) =>
    a - b
  );
}
