import assert from "node:assert/strict";
import { upscaleMaskLogits } from "../src/model/postprocess.ts";
import { LOW_RES_SIDE } from "../src/segment/segmenter.ts";

/** Deterministic low-res logits with structure at every scale. */
function lowResLogits(seed: number): Float32Array {
  const out = new Float32Array(LOW_RES_SIDE * LOW_RES_SIDE);
  let state = seed;
  for (let i = 0; i < out.length; i++) {
    state = (state * 1103515245 + 12345) % 2147483648;
    const x = i % LOW_RES_SIDE, y = Math.floor(i / LOW_RES_SIDE);
    out[i] = 8 * Math.sin(x / 9) * Math.cos(y / 13) + (state / 2147483648 - 0.5);
  }
  return out;
}

Deno.test("a windowed upscale computes exactly the whole upscale's values inside the window", () => {
  for (const [width, height] of [[1280, 720], [640, 480], [333, 517], [1920, 1080]]) {
    const low = lowResLogits(width);
    const whole = upscaleMaskLogits(low, width, height);
    assert.equal(whole.length, width * height);
    assert.ok(whole.every(Number.isFinite));
    const windows = [
      { x0: 0, y0: 0, x1: width, y1: height },
      { x0: 0, y0: 0, x1: 1, y1: 1 },
      { x0: width - 1, y0: height - 1, x1: width, y1: height },
      { x0: 17, y0: 5, x1: Math.floor(width / 2), y1: Math.floor(height / 3) },
      { x0: -40, y0: -3, x1: 90, y1: height + 50 }, // clipped to the frame
    ];
    for (const window of windows) {
      const part = upscaleMaskLogits(low, width, height, window);
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) {
          const i = y * width + x;
          const inside = x >= window.x0 && x < window.x1 && y >= window.y0 && y < window.y1;
          if (inside ? part[i] !== whole[i] : part[i] !== -Infinity) {
            assert.fail(`${width}x${height} window ${JSON.stringify(window)}: pixel ${x},${y}`);
          }
        }
      }
    }
    const empty = upscaleMaskLogits(low, width, height, { x0: 5, y0: 5, x1: 5, y1: 9 });
    assert.ok(empty.every((v) => v === -Infinity));
  }
});
