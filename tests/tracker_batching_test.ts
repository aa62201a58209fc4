/**
 * The tracker decodes all objects of a frame in one batched decoder call, embeds each frame once,
 * and skips the model on frames with nothing to track.
 */
import assert from "node:assert/strict";
import { from, lastValueFrom, toArray } from "rxjs";
import { trackObjects } from "../src/segment/tracker/track_objects.ts";
import {
  type Disc,
  discMask,
  discPrompt,
  hueRgb,
  maskIou,
  renderDiscFrames,
} from "./helpers/disc_scene.ts";
import { RegionGrowingSegmenter } from "./helpers/region_growing_segmenter.ts";

const WIDTH = 320, HEIGHT = 240, FRAMES = 10;

/** `count` discs on a 4-column grid, each moving its own way. */
function discGrid(count: number): Disc[] {
  return Array.from({ length: count }, (_, k) => ({
    id: k + 1,
    x: 40 + (k % 4) * 80,
    y: 50 + Math.floor(k / 4) * 110,
    radius: 16,
    vx: [1.5, -1, 0.5, -1.5][k % 4],
    vy: [0.5, 1, -1, 0][k % 4],
    rgb: hueRgb(k * 45),
  }));
}

for (const count of [1, 3, 8]) {
  Deno.test(`tracking ${count} object(s): one embed and one batched decode call per frame, every object in it`, async () => {
    const discs = discGrid(count);
    const frames = renderDiscFrames(WIDTH, HEIGHT, discs, FRAMES);
    const segmenter = new RegionGrowingSegmenter({ recordPrompts: true });
    const out = await lastValueFrom(
      from(frames).pipe(
        trackObjects(segmenter, discs.map((d) => discPrompt(d, 0))),
        toArray(),
      ),
    );
    assert.equal(out.length, FRAMES);
    assert.deepEqual(out.map((o) => o.frame.index), frames.map((f) => f.index));
    assert.equal(segmenter.calls.embeds, FRAMES);
    assert.equal(segmenter.calls.decodes, FRAMES);
    for (const call of segmenter.decodedPrompts) assert.equal(call.prompts.length, count);
    for (const item of out) {
      assert.deepEqual(item.masks.objects.map((o) => o.id), discs.map((d) => d.id));
      for (const object of item.masks.objects) {
        const truth = discMask(WIDTH, HEIGHT, discs, object.id, item.frame.index);
        const iou = maskIou(object.mask, truth);
        assert.ok(
          iou >= 0.9,
          `object ${object.id} frame ${item.frame.index}: IoU ${iou.toFixed(3)}`,
        );
      }
    }
  });
}

Deno.test("frames before the first prompt are passed on without a model call", async () => {
  const discs = discGrid(2);
  const frames = renderDiscFrames(WIDTH, HEIGHT, discs, 8);
  const segmenter = new RegionGrowingSegmenter();
  const out = await lastValueFrom(
    from(frames).pipe(
      trackObjects(segmenter, [discPrompt(discs[0], 3), discPrompt(discs[1], 5)]),
      toArray(),
    ),
  );
  assert.deepEqual(out.map((o) => o.masks.objects.map((m) => m.id)), [
    [],
    [],
    [],
    [1],
    [1],
    [1, 2],
    [1, 2],
    [1, 2],
  ]);
  assert.equal(segmenter.calls.embeds, 5);
  assert.equal(segmenter.calls.decodes, 5);
});

Deno.test("each subscription tracks afresh and emits one output per frame, in order", async () => {
  const discs = discGrid(2);
  const frames = renderDiscFrames(WIDTH, HEIGHT, discs, 4);
  const segmenter = new RegionGrowingSegmenter();
  const stage = trackObjects(segmenter, discs.map((d) => discPrompt(d, 0)));
  const first = await lastValueFrom(from(frames).pipe(stage, toArray()));
  const second = await lastValueFrom(from(frames).pipe(stage, toArray()));
  assert.deepEqual(
    second.map((o) => o.masks.objects.map((m) => [m.id, m.bbox])),
    first.map((o) => o.masks.objects.map((m) => [m.id, m.bbox])),
  );
  assert.equal(segmenter.calls.decodes, 8);
});
