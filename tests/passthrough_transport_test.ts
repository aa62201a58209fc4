/**
 * Frame transport of a pipeline that reads no pixels: frames travel as yuv420p from decoder to
 * encoder (half the bytes of rgb24, no conversion), and nothing that reads or draws pixels ever
 * takes those bytes for RGB.
 */
import assert from "node:assert/strict";
import { from, lastValueFrom, map, type OperatorFunction, toArray } from "rxjs";
import { segmentVideo, transportFormat } from "../pipelines/segment_video.ts";
import { assertRgbFrame, type Frame, frameByteLength } from "../src/frame.ts";
import { drawsNothing, renderOverlay } from "../src/render/overlay.ts";
import { drawOverlayInWorker } from "../src/render/overlay_in_worker.ts";
import { objectColors } from "../src/render/palette.ts";
import { maskToBbox } from "../src/segment/geometry/boxes.ts";
import { type BinaryMask, frameMasksOf, type SegmentedFrame } from "../src/segment/mask.ts";
import { decoderArgs, decodeVideo } from "../src/video/decode.ts";
import { encoderArgs, encodeVideo } from "../src/video/encode.ts";
import { parseInputSource } from "../src/video/input_source.ts";
import { parseOutputTarget } from "../src/video/output_target.ts";
import { probeVideo } from "../src/video/probe.ts";
import { StreamStats } from "../src/video/stream_stats.ts";
import { withoutMasks } from "../src/video/without_masks.ts";
import { countDecodableFrames, makeClip, runSegmentCli, videoInfoOf } from "./helpers/video.ts";

const dir = await Deno.makeTempDir({ prefix: "transport_test_" });
globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));

const LAVFI = "lavfi:testsrc2=size=176x144:rate=25:duration=0.8";

async function decodeAll(spec: string, pixelFormat?: "rgb24" | "yuv420p") {
  const source = parseInputSource(spec);
  const info = await probeVideo(source);
  const frames = await lastValueFrom(decodeVideo(source, info, { pixelFormat }).pipe(toArray()));
  return { info, frames };
}

/** Mean absolute difference of two equally long byte arrays. */
function meanAbsDiff(a: Uint8Array, b: Uint8Array): number {
  assert.equal(a.length, b.length);
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i] - b[i]);
  return sum / a.length;
}

/** Peak signal-to-noise ratio of `b` against `a`, in dB. */
function psnr(a: Uint8Array, b: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i] - b[i]) ** 2;
  return 10 * Math.log10(255 ** 2 / (sum / a.length));
}

function discMask(width: number, height: number, cx: number, cy: number, r: number): BinaryMask {
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      data[y * width + x] = (x - cx) ** 2 + (y - cy) ** 2 <= r * r ? 1 : 0;
    }
  }
  return { width, height, data };
}

/** A stage that reads no pixel but returns one disc-shaped object per frame (so it draws). */
function oneDisc(): OperatorFunction<Frame, SegmentedFrame> {
  return map((frame) => {
    const mask = discMask(frame.width, frame.height, 40, 40, 12);
    return {
      frame,
      masks: frameMasksOf(frame, [{ id: 1, mask, score: 1, bbox: maskToBbox(mask) }]),
    };
  });
}

Deno.test("frame sizes per pixel format, and the rgb guard", () => {
  assert.equal(frameByteLength(1280, 720), 2_764_800);
  assert.equal(frameByteLength(1280, 720, "yuv420p"), 1_382_400);
  assert.equal(frameByteLength(5, 3, "yuv420p"), 15 + 2 * 3 * 2, "chroma rounds up");
  const frame: Frame = { index: 4, ptsSeconds: 0, width: 2, height: 2, data: new Uint8Array(6) };
  assertRgbFrame(frame, "x");
  assertRgbFrame({ ...frame, format: "rgb24" }, "x");
  assert.throws(
    () => assertRgbFrame({ ...frame, format: "yuv420p" }, "the stage"),
    /the stage needs rgb24 pixels, frame 4 is yuv420p/,
  );
});

Deno.test("yuv420p frames are decoded with their format and size, luma plane first", async () => {
  assert.deepEqual(decoderArgs(parseInputSource("a.mp4"), videoInfoOf(64, 48)).slice(-3), [
    "-pix_fmt",
    "rgb24",
    "pipe:1",
  ]);
  assert.deepEqual(
    decoderArgs(parseInputSource("a.mp4"), videoInfoOf(64, 48), undefined, "yuv420p").slice(-3),
    ["-pix_fmt", "yuv420p", "pipe:1"],
  );
  const rgb = await decodeAll(LAVFI);
  const yuv = await decodeAll(LAVFI, "yuv420p");
  assert.equal(yuv.frames.length, 20);
  assert.equal(yuv.frames.length, rgb.frames.length);
  const { width, height } = rgb.info;
  yuv.frames.forEach((frame, i) => {
    assert.equal(frame.format, "yuv420p");
    assert.equal(frame.index, i);
    assert.equal(frame.data.byteLength, width * height * 3 / 2);
    assert.equal(rgb.frames[i].format, undefined, "rgb24 frames carry no format (the default)");
  });
  // The first width*height bytes are the luma of the rgb frame (BT.601, limited range).
  const luma = new Uint8Array(width * height);
  const pixels = rgb.frames[5].data;
  for (let p = 0; p < luma.length; p++) {
    const [r, g, b] = [pixels[3 * p], pixels[3 * p + 1], pixels[3 * p + 2]];
    luma[p] = Math.round(16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255);
  }
  const diff = meanAbsDiff(luma, yuv.frames[5].data.subarray(0, width * height));
  assert.ok(diff < 2, `luma differs by ${diff.toFixed(2)} on average`);
});

Deno.test("yuv420p frames go to the encoder as they are; a frame in another format fails", async () => {
  const info = videoInfoOf(64, 48);
  const options = {
    target: parseOutputTarget(`${dir}/x.mp4`),
    width: 64,
    height: 48,
    frameRate: info.frameRate,
  };
  const inputFormat = (args: string[]) => args[args.indexOf("-pix_fmt") + 1];
  assert.equal(inputFormat(encoderArgs(options, "libx264")), "rgb24");
  const yuvArgs = encoderArgs({ ...options, pixelFormat: "yuv420p" }, "libx264");
  assert.equal(inputFormat(yuvArgs), "yuv420p");
  assert.equal(yuvArgs[yuvArgs.lastIndexOf("-pix_fmt") + 1], "yuv420p");
  const ffv1 = encoderArgs({ ...options, pixelFormat: "yuv420p" }, "ffv1");
  assert.equal(ffv1[ffv1.lastIndexOf("-pix_fmt") + 1], "yuv420p", "lossless keeps yuv as yuv");

  // An rgb24 frame handed to a yuv420p encoder (or the other way round) is refused.
  const { frames } = await decodeAll("lavfi:testsrc2=size=64x48:rate=25:duration=0.2");
  for (
    const [frame, pixelFormat] of [[frames[0], "yuv420p"], [{ ...frames[0] }, "rgb24"]] as const
  ) {
    const sent = pixelFormat === "rgb24"
      ? { ...frame, format: "yuv420p" as const, data: frame.data.subarray(0, 64 * 48 * 3 / 2) }
      : frame;
    await assert.rejects(
      lastValueFrom(
        from([sent]).pipe(
          withoutMasks(),
          encodeVideo({ ...options, target: parseOutputTarget(`${dir}/refused.mp4`), pixelFormat }),
        ),
      ),
      /frame 0 is (rgb24|yuv420p), \d+ bytes; the encoder takes (yuv420p|rgb24)/,
    );
  }
});

Deno.test("a yuv420p lossless round trip is bit-exact; an H.264 one matches its input closely", async () => {
  const { info, frames } = await decodeAll(LAVFI, "yuv420p");
  for (const codec of ["lossless", "h264"] as const) {
    const output = `${dir}/yuv_${codec}.mkv`;
    await lastValueFrom(
      decodeVideo(parseInputSource(LAVFI), info, { pixelFormat: "yuv420p" }).pipe(
        withoutMasks(),
        encodeVideo({
          target: parseOutputTarget(output),
          width: info.width,
          height: info.height,
          frameRate: info.frameRate,
          pixelFormat: "yuv420p",
          codec,
        }),
      ),
    );
    assert.equal(await countDecodableFrames(output), frames.length);
    const back = (await decodeAll(output, "yuv420p")).frames;
    assert.equal(back.length, frames.length);
    back.forEach((frame, i) => {
      if (codec === "lossless") {
        assert.ok(frame.data.every((value, j) => value === frames[i].data[j]), `frame ${i}`);
      } else {
        const db = psnr(frames[i].data, frame.data);
        assert.ok(db > 30, `frame ${i}: PSNR ${db.toFixed(1)} dB`);
      }
    });
  }
});

Deno.test("the overlay never draws on yuv420p and hands frames with nothing to draw on untouched", async () => {
  const width = 64, height = 48;
  const yuvFrame: Frame = {
    index: 0,
    ptsSeconds: 0,
    width,
    height,
    data: new Uint8Array(frameByteLength(width, height, "yuv420p")),
    format: "yuv420p",
  };
  const empty = frameMasksOf(yuvFrame, []);
  assert.equal(drawsNothing(empty), true);
  assert.equal(renderOverlay(yuvFrame, empty), yuvFrame);
  const mask = discMask(width, height, 20, 20, 5);
  const withObject = frameMasksOf(yuvFrame, [{ id: 1, mask, score: 1, bbox: maskToBbox(mask) }]);
  assert.equal(drawsNothing(withObject), false);
  assert.throws(() => renderOverlay(yuvFrame, withObject), /overlay needs rgb24 pixels/);
  const marker = { objectId: 1, points: [{ x: 5, y: 5, positive: true }] };
  assert.equal(drawsNothing(frameMasksOf(yuvFrame, [], [marker])), false);
  assert.equal(drawsNothing(frameMasksOf(yuvFrame, [], [marker]), { markers: false }), true);

  // In a worker: an item with nothing to draw is passed on as it is (no clone, no round trip);
  // one with an object is drawn; a yuv frame with an object fails the stream.
  const rgbFrame: Frame = {
    ...yuvFrame,
    format: undefined,
    data: new Uint8Array(width * height * 3),
  };
  const items: SegmentedFrame[] = [
    { frame: yuvFrame, masks: empty },
    { frame: { ...rgbFrame, index: 1 }, masks: { ...withObject, frameIndex: 1 } },
  ];
  const out = await lastValueFrom(from(items).pipe(drawOverlayInWorker(), toArray()));
  assert.equal(out[0], items[0]);
  assert.notEqual(out[1].frame.data, items[1].frame.data);
  assert.deepEqual(out[1].frame.data, renderOverlay(items[1].frame, items[1].masks).data);
  await assert.rejects(
    lastValueFrom(from([{ frame: yuvFrame, masks: withObject }]).pipe(drawOverlayInWorker())),
    /overlay needs rgb24 pixels, frame 0 is yuv420p/,
  );
});

Deno.test("the pipeline carries yuv420p only when no stage reads or draws pixels", () => {
  const info = videoInfoOf(64, 48);
  assert.equal(transportFormat({ info, segmentation: withoutMasks() }), "yuv420p");
  assert.equal(transportFormat({ info, segmentation: oneDisc() }), "rgb24");
  assert.equal(transportFormat({ info, segmentation: oneDisc(), readsPixels: false }), "yuv420p");
  assert.equal(
    transportFormat({ info, segmentation: withoutMasks(), readsPixels: true }),
    "rgb24",
  );
  assert.equal(
    transportFormat({ info, segmentation: withoutMasks(), codec: "lossless" }),
    "rgb24",
  );
  assert.equal(
    transportFormat({ info: videoInfoOf(65, 48), segmentation: withoutMasks() }),
    "rgb24",
  );
});

Deno.test("a pass-through pipeline runs in yuv420p; a masked one still draws in rgb24", async () => {
  const clip = `${dir}/clip.mp4`;
  await makeClip(clip, { width: 160, height: 96, frames: 12 });
  const source = parseInputSource(clip);
  const info = await probeVideo(source);
  const run = async (segmentation: OperatorFunction<Frame, SegmentedFrame>, name: string) => {
    const output = `${dir}/${name}.mp4`;
    const items = await lastValueFrom(
      segmentVideo({
        source,
        info,
        segmentation,
        keepsFrames: false,
        target: parseOutputTarget(output),
        stats: new StreamStats(),
      }).pipe(map((item) => ({ format: item.frame.format, frame: item.frame })), toArray()),
    );
    return { output, items };
  };
  const passed = await run(withoutMasks(), "passed");
  assert.equal(passed.items.length, 12);
  assert.ok(passed.items.every((item) => item.format === "yuv420p"));
  assert.equal(await countDecodableFrames(passed.output), 12);

  const masked = await run(oneDisc(), "masked");
  assert.equal(masked.items.length, 12);
  assert.ok(masked.items.every((item) => item.format === undefined), "rgb24 frames");
  assert.equal(await countDecodableFrames(masked.output), 12);
  // The disc's centre is tinted with object 1's colour in the output, not in the pass-through.
  const centre = async (output: string) => {
    const frame = (await decodeAll(output)).frames[6];
    const i = (40 * frame.width + 40) * 3;
    return [...frame.data.subarray(i, i + 3)];
  };
  const original = (await decodeAll(clip)).frames[6];
  const i = (40 * original.width + 40) * 3;
  const fill = objectColors(1).fill;
  const expected = [0, 1, 2].map((c) => (original.data[i + c] * 128 + fill[c] * 128) >> 8);
  const [drawn, plain] = [await centre(masked.output), await centre(passed.output)];
  const distance = (a: number[], b: number[]) => Math.max(...a.map((v, c) => Math.abs(v - b[c])));
  assert.ok(distance(drawn, expected) < 16, `drawn ${drawn}, expected ${expected}`);
  assert.ok(distance(plain, [...original.data.subarray(i, i + 3)]) < 16, `plain ${plain}`);
});

Deno.test("the segment command's pass-through keeps every frame and matches its input closely", async () => {
  const clip = `${dir}/cli_clip.mp4`;
  await makeClip(clip, { width: 320, height: 180, frames: 15, audio: true });
  const output = `${dir}/cli_out.mp4`;
  const result = await runSegmentCli([
    "--input",
    clip,
    "--output",
    output,
    "--preset",
    "veryfast",
    "--quiet",
  ]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(await countDecodableFrames(output), 15);
  const [input, passed] = [(await decodeAll(clip)).frames, (await decodeAll(output)).frames];
  assert.equal(passed.length, input.length);
  passed.forEach((frame, i) => {
    const db = psnr(input[i].data, frame.data);
    assert.ok(db > 30, `frame ${i}: PSNR ${db.toFixed(1)} dB against the input`);
  });
});
