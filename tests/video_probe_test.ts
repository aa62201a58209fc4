import assert from "node:assert/strict";
import { VideoInputError } from "../src/video/errors.ts";
import { parseInputSource } from "../src/video/input_source.ts";
import { probeVideo } from "../src/video/probe.ts";
import { ffmpeg, makeClip } from "./helpers/video.ts";

const dir = await Deno.makeTempDir({ prefix: "probe_test_" });
const clip = `${dir}/clip.mp4`;
await makeClip(clip, { width: 160, height: 96, fps: 25, frames: 20, audio: true });

Deno.test({
  name: "probe reports size, rate, frame count, duration, pixel format and audio",
  fn: async () => {
    const info = await probeVideo(parseInputSource(clip));
    assert.equal(info.width, 160);
    assert.equal(info.height, 96);
    assert.deepEqual(info.frameRate, { num: 25, den: 1 });
    assert.equal(info.fps, 25);
    assert.equal(info.frameCount, 20);
    assert.ok(Math.abs(info.durationSeconds! - 0.8) < 0.05, `duration ${info.durationSeconds}`);
    assert.equal(info.pixelFormat, "yuv420p");
    assert.equal(info.codec, "h264");
    assert.equal(info.rotation, 0);
    assert.equal(info.hasAudio, true);
    assert.equal(info.audioCodec, "aac");
  },
});

Deno.test("probe swaps width and height for a clip with 90-degree rotation metadata", async () => {
  const rotated = `${dir}/rotated.mp4`;
  await ffmpeg(["-i", clip, "-c", "copy", "-metadata:s:v", "rotate=90", rotated]);
  const info = await probeVideo(parseInputSource(rotated));
  assert.ok(info.rotation === 90 || info.rotation === 270, `rotation ${info.rotation}`);
  assert.deepEqual([info.codedWidth, info.codedHeight], [160, 96]);
  assert.deepEqual([info.width, info.height], [96, 160]);
});

Deno.test("probe reads lavfi sources", async () => {
  const info = await probeVideo(parseInputSource("lavfi:testsrc2=size=64x48:rate=10:duration=1"));
  assert.deepEqual([info.width, info.height, info.fps], [64, 48, 10]);
  assert.equal(info.hasAudio, false);
});

Deno.test("probe reads standard input from a pipe and keeps the bytes for decoding", async () => {
  const nut = `${dir}/clip.nut`;
  await ffmpeg(["-i", clip, "-c:v", "rawvideo", "-an", "-f", "nut", nut]);
  const file = await Deno.open(nut);
  const source = parseInputSource("-", { stdin: file.readable });
  const info = await probeVideo(source);
  assert.deepEqual([info.width, info.height, info.fps], [160, 96, 25]);
  // Everything read for the probe is replayed: the stream still holds the whole file.
  const replayed = new Uint8Array(await new Response(source.stdin!.stream()).arrayBuffer());
  assert.deepEqual(replayed, await Deno.readFile(nut));
});

const badInputs: [string, () => Promise<string>, RegExp][] = [
  ["a missing file", () => Promise.resolve(`${dir}/missing.mp4`), /does not exist/],
  ["a directory", () => Promise.resolve(dir), /is a directory/],
  ["a zero-byte file", async () => {
    await Deno.writeFile(`${dir}/empty.mp4`, new Uint8Array());
    return `${dir}/empty.mp4`;
  }, /is empty/],
  ["a corrupt file", async () => {
    const bytes = await Deno.readFile(clip);
    await Deno.writeFile(`${dir}/corrupt.mp4`, bytes.subarray(0, 2000));
    return `${dir}/corrupt.mp4`;
  }, /is not a readable video/],
  ["a text file", async () => {
    await Deno.writeTextFile(`${dir}/notes.txt`, "these are notes, not a video\n".repeat(20));
    return `${dir}/notes.txt`;
  }, /not a (readable )?video/],
  ["an audio-only file", async () => {
    await ffmpeg(["-f", "lavfi", "-i", "sine=duration=0.5", `${dir}/tone.wav`]);
    return `${dir}/tone.wav`;
  }, /has no video stream/],
];

for (const [what, make, message] of badInputs) {
  Deno.test(`probe rejects ${what} with a one-line VideoInputError`, async () => {
    const path = await make();
    await assert.rejects(
      () => probeVideo(parseInputSource(path)),
      (error: Error) => {
        assert.ok(error instanceof VideoInputError, `${error.name}: ${error.message}`);
        assert.match(error.message, message);
        assert.ok(!error.message.includes("\n"), error.message);
        return true;
      },
    );
  });
}

Deno.test("probe rejects an empty standard input", async () => {
  const source = parseInputSource("-", { stdin: new Blob([]).stream() });
  await assert.rejects(() => probeVideo(source), /standard input is empty/);
});

globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));
