import assert from "node:assert/strict";
import { lastValueFrom, tap, toArray } from "rxjs";
import type { Frame } from "../src/frame.ts";
import { decodeVideo } from "../src/video/decode.ts";
import { encodeVideo } from "../src/video/encode.ts";
import { FramePool } from "../src/video/frame_pool.ts";
import { parseInputSource } from "../src/video/input_source.ts";
import { parseOutputTarget } from "../src/video/output_target.ts";
import { probeVideo } from "../src/video/probe.ts";
import { pulledStream } from "../src/video/pulled_stream.ts";
import { withoutMasks } from "../src/video/without_masks.ts";

Deno.test("the frame pool hands a given-back buffer out again and ignores what it cannot reuse", () => {
  const pool = new FramePool(12, 2);
  const a = pool.take(), b = pool.take();
  assert.notEqual(a, b);
  assert.equal(a.byteLength, 12);
  pool.give(a);
  pool.give(a); // twice: kept once
  assert.equal(pool.take(), a);
  assert.equal(pool.reused, 1);
  pool.give(new ArrayBuffer(10)); // another size
  const moved = new ArrayBuffer(12);
  structuredClone(moved, { transfer: [moved] }); // detached
  pool.give(moved);
  assert.notEqual(pool.take(), moved);
  assert.equal(pool.reused, 1, "nothing reusable was kept");
  pool.give(a);
  pool.give(b);
  pool.give(new ArrayBuffer(12)); // beyond capacity 2
  assert.deepEqual(new Set([pool.take(), pool.take()]), new Set([a, b]));
  assert.throws(() => new FramePool(0), /positive integer/);
});

Deno.test("a pass-through that recycles frame buffers stays bit-exact", async () => {
  const spec = "lavfi:testsrc2=size=176x144:rate=25:duration=1.6";
  const source = parseInputSource(spec);
  const info = await probeVideo(source);
  const original = await lastValueFrom(decodeVideo(source, info).pipe(toArray()));
  const output = await Deno.makeTempFile({ suffix: ".mkv" });
  try {
    const pool = new FramePool(info.width * info.height * 3);
    await lastValueFrom(
      pulledStream(
        (credits) => decodeVideo(source, info, { credits, pool }),
        (frames) =>
          frames.pipe(
            withoutMasks(),
            encodeVideo({
              target: parseOutputTarget(output),
              width: info.width,
              height: info.height,
              frameRate: info.frameRate,
              codec: "lossless",
            }),
            tap((item) => pool.give(item.frame.data.buffer)),
          ),
        (item) => item.frame.index,
      ),
    );
    // Frames are read into recycled buffers once the first ones have been written out.
    assert.ok(pool.reused >= original.length - 8, `reused ${pool.reused} of ${original.length}`);
    const out = parseInputSource(output);
    const roundTrip: Frame[] = await lastValueFrom(
      decodeVideo(out, await probeVideo(out)).pipe(toArray()),
    );
    assert.equal(roundTrip.length, original.length);
    roundTrip.forEach((frame, i) => {
      assert.ok(frame.data.every((value, j) => value === original[i].data[j]), `frame ${i}`);
    });
  } finally {
    await Deno.remove(output);
  }
});
