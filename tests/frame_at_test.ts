/**
 * `readFrameAt` seeks a file to one frame and returns exactly the frame the segment pipeline's
 * decoder numbers so (bytes and index), at the start, the middle and the last frame; past the end
 * it is a `FrameOutOfRangeError`.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { lastValueFrom, toArray } from "rxjs";
import { decodeVideo } from "../src/video/decode.ts";
import { FrameOutOfRangeError, readFrameAt } from "../src/video/frame_at.ts";
import { parseInputSource } from "../src/video/input_source.ts";
import { probeVideo } from "../src/video/probe.ts";
import { SAMPLES_DIR } from "./helpers/sample_frames.ts";
import { CLIPS_DIR, sharedAvailable } from "./helpers/shared.ts";

async function assertSeeksExactly(path: string, indices: (count: number) => number[]) {
  const source = parseInputSource(path);
  const info = await probeVideo(source);
  const all = await lastValueFrom(
    decodeVideo(source, info, { maxFrames: 200 }).pipe(toArray()),
  );
  for (const index of indices(all.length)) {
    const frame = await readFrameAt(source, info, index);
    assert.equal(frame.index, index);
    assert.equal(frame.ptsSeconds, all[index].ptsSeconds);
    assert.ok(
      Buffer.from(frame.data).equals(Buffer.from(all[index].data)),
      `${path}: frame ${index} differs from the sequential decode's`,
    );
  }
}

Deno.test("a seeked frame is the sequential decoder's frame of that index", async () => {
  await assertSeeksExactly(`${SAMPLES_DIR}/crossing/video.mp4`, (n) => [0, 1, 29, 37, n - 1]);
});

Deno.test({
  name: "a seeked frame of a real clip is the sequential decoder's frame of that index",
  ignore: !sharedAvailable,
  fn: async () => {
    await assertSeeksExactly(`${CLIPS_DIR}/02_cups.mp4`, (n) => [3, 50, Math.min(n - 1, 149)]);
  },
});

Deno.test("a frame past the end is a FrameOutOfRangeError naming the frame count", async () => {
  const source = parseInputSource(`${SAMPLES_DIR}/crossing/video.mp4`);
  const info = await probeVideo(source);
  await assert.rejects(
    readFrameAt(source, info, 90),
    (error: Error) =>
      error instanceof FrameOutOfRangeError &&
      /frame 90 is past the end.*90 frames/.test(error.message),
  );
});
