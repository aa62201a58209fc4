import assert from "node:assert/strict";
import { deflateSync } from "node:zlib";
import { decodePng, encodePng } from "../src/export/png.ts";
import { crc32 } from "../src/export/crc32.ts";
import { createPrng } from "../src/samples/prng.ts";
import { resolveBinary } from "../src/video/binaries.ts";
import { encodeFramePng } from "../src/export/frame_png.ts";

const rng = createPrng(99);

function noisyGradient(length: number, max: number): number[] {
  return Array.from(
    { length },
    (_, i) => Math.min(max, Math.floor((i * 37) % (max + 1) * rng.next())),
  );
}

Deno.test("crc32 gives the standard check value", () => {
  assert.equal(crc32(new TextEncoder().encode("123456789")), 0xcbf43926);
  assert.equal(
    crc32(new TextEncoder().encode("1234"), new TextEncoder().encode("56789")),
    0xcbf43926,
  );
});

Deno.test("PNG round-trips 8-bit gray, 16-bit gray and 8-bit RGB exactly", () => {
  const width = 37, height = 23;
  const gray8 = new Uint8Array(noisyGradient(width * height, 255));
  const gray16 = new Uint16Array(noisyGradient(width * height, 65535));
  gray16[0] = 65535;
  gray16[1] = 256;
  const rgb8 = new Uint8Array(noisyGradient(width * height * 3, 255));
  for (
    const image of [
      { kind: "gray8", width, height, data: gray8 } as const,
      { kind: "gray16", width, height, data: gray16 } as const,
      { kind: "rgb8", width, height, data: rgb8 } as const,
    ]
  ) {
    const decoded = decodePng(encodePng(image));
    assert.deepEqual(decoded, image, image.kind);
  }
  // A one-pixel image exercises the no-prior-row filters only.
  const tiny = { kind: "gray8", width: 1, height: 1, data: new Uint8Array([200]) } as const;
  assert.deepEqual(decodePng(encodePng(tiny)), tiny);
});

Deno.test("PNG encoder refuses data that does not match the size", () => {
  assert.throws(
    () => encodePng({ kind: "rgb8", width: 2, height: 2, data: new Uint8Array(4) }),
    /has 4 samples, expected 12/,
  );
});

Deno.test("PNG decoder rejects corrupt, truncated and non-PNG input with a clear error", () => {
  const png = encodePng({
    kind: "gray8",
    width: 16,
    height: 16,
    data: new Uint8Array(256).map((_, i) => i),
  });
  assert.throws(() => decodePng(new Uint8Array(0)), /^Error: PNG: not a PNG file/);
  assert.throws(() => decodePng(new TextEncoder().encode("hello, world")), /not a PNG file/);
  const flipped = png.slice();
  flipped[png.length - 20] ^= 0x55; // inside IDAT
  assert.throws(() => decodePng(flipped), /CRC mismatch in IDAT chunk/);
  assert.throws(() => decodePng(png.subarray(0, png.length - 12)), /missing IEND/);
  assert.throws(() => decodePng(png.subarray(0, 40)), /truncated/);
});

Deno.test("PNG decoder rejects a damaged deflate stream even when its CRC is valid", () => {
  const deflated = new Uint8Array(deflateSync(new Uint8Array(17 * 4)));
  const broken = deflated.subarray(0, deflated.length - 3);
  const ihdr = new Uint8Array([0, 0, 0, 16, 0, 0, 0, 4, 8, 0, 0, 0, 0]);
  const chunk = (name: string, data: Uint8Array) => {
    const t = new TextEncoder().encode(name);
    const out = new Uint8Array(12 + data.length);
    const view = new DataView(out.buffer);
    view.setUint32(0, data.length);
    out.set(t, 4);
    out.set(data, 8);
    view.setUint32(8 + data.length, crc32(t, data));
    return out;
  };
  const png = new Uint8Array([
    ...[137, 80, 78, 71, 13, 10, 26, 10],
    ...chunk("IHDR", ihdr),
    ...chunk("IDAT", broken),
    ...chunk("IEND", new Uint8Array(0)),
  ]);
  assert.throws(() => decodePng(png), /PNG: corrupt image data/);
});

async function ffmpegPath(): Promise<string | undefined> {
  try {
    return (await resolveBinary("ffmpeg")).path;
  } catch {
    return undefined;
  }
}

const FFMPEG = await ffmpegPath();

async function ffmpegFrame(pixFmt: string, format: "png" | "rawvideo"): Promise<Uint8Array> {
  const { success, stdout, stderr } = await new Deno.Command(FFMPEG!, {
    args: [
      "-v",
      "error",
      "-f",
      "lavfi",
      "-i",
      "testsrc2=size=64x48:rate=1",
      "-frames:v",
      "1",
      "-vf",
      "scale=45:31",
      "-pix_fmt",
      pixFmt,
      "-f",
      format === "png" ? "image2pipe" : "rawvideo",
      ...(format === "png" ? ["-c:v", "png", "-pred", "mixed"] : []),
      "-",
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!success) throw new Error(new TextDecoder().decode(stderr));
  return stdout;
}

Deno.test({
  name:
    "PNG decoder reads what ffmpeg's PNG encoder writes (gray, gray16, rgb24, rgba, pal8, 1-bit)",
  ignore: FFMPEG === undefined,
  fn: async () => {
    for (
      const [pixFmt, kind] of [
        ["gray", "gray8"],
        ["gray16be", "gray16"],
        ["rgb24", "rgb8"],
        ["rgba", "rgba8"],
        ["pal8", "indexed"],
        ["monob", "gray8"],
      ] as const
    ) {
      const image = decodePng(await ffmpegFrame(pixFmt, "png"));
      assert.equal(image.kind, kind, pixFmt);
      assert.equal(image.width, 45);
      assert.equal(image.height, 31);
      const raw = await ffmpegFrame(pixFmt, "rawvideo");
      if (image.kind === "gray16") {
        const expected = new Uint16Array(45 * 31);
        for (let i = 0; i < expected.length; i++) expected[i] = (raw[2 * i] << 8) | raw[2 * i + 1];
        assert.deepEqual(image.data, expected, pixFmt);
      } else if (pixFmt === "monob") {
        // 1-bit rows are packed MSB first and padded to whole bytes; samples come back as 0/1.
        const stride = Math.ceil(45 / 8);
        const expected = new Uint8Array(45 * 31).map((_, i) => {
          const x = i % 45, y = Math.floor(i / 45);
          return (raw[y * stride + (x >> 3)] >> (7 - (x & 7))) & 1;
        });
        assert.deepEqual(image.data, expected, pixFmt);
      } else {
        // rawvideo pal8 is the index plane followed by a 1024-byte palette.
        assert.deepEqual(image.data, raw.subarray(0, image.data.length), pixFmt);
      }
    }
  },
});

Deno.test("a frame encodes as an RGB PNG holding its pixels", () => {
  const data = new Uint8Array(5 * 4 * 3).map((_, i) => (i * 11) % 256);
  const png = encodeFramePng({ index: 0, ptsSeconds: 0, width: 5, height: 4, data });
  assert.deepEqual(decodePng(png), { kind: "rgb8", width: 5, height: 4, data });
});
