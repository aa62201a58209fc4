/**
 * Overlay rendering cost per 720p frame with 5 objects of different sizes (blobs, 2 px contours,
 * boxes and prompt markers). Run with `deno task bench`.
 */
import { renderOverlay } from "../../src/render/overlay.ts";
import { maskToBbox } from "../../src/segment/geometry/boxes.ts";
import type { Frame } from "../../src/frame.ts";
import type { BinaryMask, FrameMasks } from "../../src/segment/mask.ts";
import { createPrng } from "../../src/samples/prng.ts";

const WIDTH = 1280, HEIGHT = 720;
const rng = createPrng(720);
const frame: Frame = {
  index: 0,
  ptsSeconds: 0,
  width: WIDTH,
  height: HEIGHT,
  data: new Uint8Array(WIDTH * HEIGHT * 3).map(() => rng.int(0, 255)),
};

function blob(cx: number, cy: number, radius: number): BinaryMask {
  const data = new Uint8Array(WIDTH * HEIGHT);
  for (let y = 0; y < HEIGHT; y++) {
    for (let x = 0; x < WIDTH; x++) {
      const angle = Math.atan2(y - cy, x - cx);
      const r = radius * (1 + 0.2 * Math.sin(3 * angle) + 0.1 * Math.cos(5 * angle));
      data[y * WIDTH + x] = (x - cx) ** 2 + (y - cy) ** 2 <= r * r ? 1 : 0;
    }
  }
  return { width: WIDTH, height: HEIGHT, data };
}

const objects = [
  [300, 250, 180],
  [800, 400, 120],
  [1050, 180, 90],
  [550, 560, 140],
  [150, 600, 60],
].map(([cx, cy, r], i) => {
  const mask = blob(cx, cy, r);
  return { id: i + 1, mask, score: 0.9, bbox: maskToBbox(mask) };
});

const masks: FrameMasks = {
  frameIndex: 0,
  ptsSeconds: 0,
  width: WIDTH,
  height: HEIGHT,
  objects,
  markers: objects.map((o) => ({
    objectId: o.id,
    points: [{ x: o.bbox[0] + o.bbox[2] / 2, y: o.bbox[1] + o.bbox[3] / 2, positive: true }],
    box: [o.bbox[0], o.bbox[1], o.bbox[0] + o.bbox[2], o.bbox[1] + o.bbox[3]] as const,
  })),
};
const covered = objects.reduce((n, o) => n + o.mask.data.reduce((s, v) => s + v, 0), 0);
console.log(
  `720p, 5 objects covering ${(100 * covered / (WIDTH * HEIGHT)).toFixed(1)}% of the frame`,
);

Deno.bench("renderOverlay 720p, 5 objects (fill + 2 px contour)", () => {
  renderOverlay(frame, { ...masks, markers: [] }, { markers: false });
});

Deno.bench("renderOverlay 720p, 5 objects, boxes and prompt markers", () => {
  renderOverlay(frame, masks, { boxes: true });
});

Deno.bench("baseline: copy one 720p rgb24 frame", () => {
  frame.data.slice();
});
