import assert from "node:assert/strict";
import { from, lastValueFrom, toArray } from "rxjs";
import { renderOverlay } from "../src/render/overlay.ts";
import { drawOverlay } from "../src/render/overlay_stage.ts";
import { objectColors } from "../src/render/palette.ts";
import { maskToBbox } from "../src/segment/geometry/boxes.ts";
import type { Frame } from "../src/frame.ts";
import type { BinaryMask, FrameMasks, ObjectMask } from "../src/segment/mask.ts";

const W = 64, H = 48;
const GRAY = 100;

function grayFrame(index = 0): Frame {
  return {
    index,
    ptsSeconds: index / 30,
    width: W,
    height: H,
    data: new Uint8Array(W * H * 3).fill(GRAY),
  };
}

function disc(cx: number, cy: number, r: number): BinaryMask {
  const data = new Uint8Array(W * H);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) data[y * W + x] = (x - cx) ** 2 + (y - cy) ** 2 <= r * r ? 1 : 0;
  }
  return { width: W, height: H, data };
}

function objectOf(id: number, mask: BinaryMask): ObjectMask {
  return { id, mask, score: 0.9, bbox: maskToBbox(mask) };
}

function masksOf(objects: ObjectMask[], markers?: FrameMasks["markers"]): FrameMasks {
  return {
    frameIndex: 0,
    ptsSeconds: 0,
    width: W,
    height: H,
    objects,
    ...(markers ? { markers } : {}),
  };
}

function pixel(frame: Frame, x: number, y: number): number[] {
  const i = (y * W + x) * 3;
  return [...frame.data.subarray(i, i + 3)];
}

/** The blend of the gray background with a fill colour at alpha 0.5 (128 / 256). */
function blended(fill: readonly number[]): number[] {
  return fill.map((c) => (GRAY * 128 + c * 128) >> 8);
}

Deno.test("overlay blends the object colour inside, draws a contour at the edge and leaves the rest", () => {
  const frame = grayFrame();
  const before = frame.data.slice();
  const out = renderOverlay(frame, masksOf([objectOf(3, disc(30, 24, 10))]));
  const { fill, contour } = objectColors(3);
  assert.deepEqual(pixel(out, 30, 24), blended(fill), "interior is alpha-blended");
  assert.deepEqual(pixel(out, 40, 24), [...contour], "rightmost mask pixel is contour");
  assert.deepEqual(pixel(out, 39, 24), [...contour], "2 px contour by default");
  assert.deepEqual(pixel(out, 37, 24), blended(fill), "3 px inside is fill again");
  assert.deepEqual(pixel(out, 41, 24), [GRAY, GRAY, GRAY], "outside untouched");
  assert.deepEqual(frame.data, before, "input frame untouched");
  assert.notEqual(out.data, frame.data);
  assert.equal(out.index, frame.index);
  const thin = renderOverlay(frame, masksOf([objectOf(3, disc(30, 24, 10))]), { contourWidth: 1 });
  assert.deepEqual(pixel(thin, 39, 24), blended(fill));
  const none = renderOverlay(frame, masksOf([objectOf(3, disc(30, 24, 10))]), {
    contourWidth: 0,
    alpha: 1,
  });
  assert.deepEqual(pixel(none, 40, 24), [...fill]);
});

Deno.test("object colours are stable per id across frames and distinct between ids", () => {
  const a = renderOverlay(grayFrame(0), masksOf([objectOf(5, disc(15, 15, 8))]));
  const b = renderOverlay(grayFrame(1), masksOf([objectOf(5, disc(45, 30, 9))]));
  assert.deepEqual(pixel(a, 15, 15), pixel(b, 45, 30));
  assert.deepEqual(objectColors(5), objectColors(5));
  for (let id = 1; id < 30; id++) {
    const [r1, g1, b1] = objectColors(id).fill;
    const [r2, g2, b2] = objectColors(id + 1).fill;
    const distance = Math.hypot(r1 - r2, g1 - g2, b1 - b2);
    assert.ok(distance > 60, `ids ${id} and ${id + 1} look alike (${distance})`);
  }
});

Deno.test("later objects are painted over earlier ones; boxes are drawn when asked", () => {
  const out = renderOverlay(
    grayFrame(),
    masksOf([objectOf(1, disc(20, 24, 10)), objectOf(2, disc(28, 24, 10))]),
    { boxes: true },
  );
  assert.deepEqual(pixel(out, 24, 24), blended(objectColors(2).fill));
  // Object 1's box is [10, 14, 21, 21]: its top-left corner gets object 1's contour colour.
  assert.deepEqual(pixel(out, 10, 14), [...objectColors(1).contour]);
});

Deno.test("positive and negative prompt points are drawn differently, with the prompt box", () => {
  const out = renderOverlay(
    grayFrame(),
    masksOf([], [{
      objectId: 4,
      points: [{ x: 15, y: 20, positive: true }, { x: 45, y: 20, positive: false }],
      box: [5, 5, 60, 44],
    }]),
    { markerRadius: 5 },
  );
  assert.deepEqual(pixel(out, 17, 22), [40, 220, 40], "positive disc is green");
  assert.deepEqual(pixel(out, 47, 22), [235, 30, 30], "negative disc is red");
  assert.deepEqual(pixel(out, 15, 22), [255, 255, 255], "positive has a vertical bar (plus sign)");
  assert.deepEqual(pixel(out, 45, 22), [235, 30, 30], "negative has none (minus sign)");
  assert.deepEqual(pixel(out, 5, 30), [...objectColors(4).contour], "prompt box edge");
  const hidden = renderOverlay(
    grayFrame(),
    masksOf([], [{ objectId: 4, points: [{ x: 15, y: 20, positive: true }] }]),
    {
      markers: false,
    },
  );
  assert.deepEqual(pixel(hidden, 15, 20), [GRAY, GRAY, GRAY]);
});

Deno.test("overlay refuses a mask whose size differs from the frame", () => {
  const small = { width: 10, height: 10, data: new Uint8Array(100) };
  assert.throws(
    () =>
      renderOverlay(grayFrame(), masksOf([{ id: 1, mask: small, score: 1, bbox: [0, 0, 0, 0] }])),
    /object 1 mask is 10x10, frame 0 is 64x48/,
  );
});

Deno.test("drawOverlay stage draws every frame and passes the masks through", async () => {
  const items = [0, 1, 2].map((i) => ({
    frame: grayFrame(i),
    masks: { ...masksOf([objectOf(1, disc(10 + 10 * i, 24, 6))]), frameIndex: i },
  }));
  const out = await lastValueFrom(from(items).pipe(drawOverlay(), toArray()));
  assert.equal(out.length, 3);
  out.forEach((item, i) => {
    assert.equal(item.masks, items[i].masks);
    assert.deepEqual(item.frame, renderOverlay(items[i].frame, items[i].masks));
    assert.deepEqual(pixel(item.frame, 10 + 10 * i, 24), blended(objectColors(1).fill));
  });
});

Deno.test("overlay with nothing to draw hands the frame on without copying it", () => {
  const frame = grayFrame();
  assert.equal(renderOverlay(frame, masksOf([])), frame);
  const marker = { objectId: 1, points: [{ x: 10, y: 10, positive: true }] };
  assert.equal(renderOverlay(frame, masksOf([], [marker]), { markers: false }), frame);
  const drawn = renderOverlay(frame, masksOf([], [marker]));
  assert.notEqual(drawn.data, frame.data);
  assert.deepEqual(pixel(frame, 10, 10), [GRAY, GRAY, GRAY]);
});
