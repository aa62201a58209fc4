import assert from "node:assert/strict";
import { from, lastValueFrom, Observable, Subject, toArray } from "rxjs";
import { listMaskPngs, readMaskPngs, writeMaskPngs } from "../src/export/masks_dir.ts";
import {
  frameMasksFromJsonLine,
  frameMasksToJsonLine,
  readMasksJsonl,
  writeMasksJsonl,
} from "../src/export/masks_jsonl.ts";
import { decodePng } from "../src/export/png.ts";
import { labelMapFromMasks, maskPngName } from "../src/export/label_map.ts";
import { maskToBbox } from "../src/segment/geometry/boxes.ts";
import { encodeRle, rleCountsToString } from "../src/segment/rle.ts";
import type { BinaryMask, FrameMasks, ObjectMask, SegmentedFrame } from "../src/segment/mask.ts";

const WIDTH = 40, HEIGHT = 30;

function disc(cx: number, cy: number, r: number): BinaryMask {
  const data = new Uint8Array(WIDTH * HEIGHT);
  for (let y = 0; y < HEIGHT; y++) {
    for (let x = 0; x < WIDTH; x++) {
      data[y * WIDTH + x] = (x - cx) ** 2 + (y - cy) ** 2 <= r * r ? 1 : 0;
    }
  }
  return { width: WIDTH, height: HEIGHT, data };
}

function object(id: number, mask: BinaryMask, score = 1, label?: string): ObjectMask {
  return { id, mask, score, bbox: maskToBbox(mask), ...(label !== undefined ? { label } : {}) };
}

function segmented(index: number, objects: ObjectMask[]): SegmentedFrame {
  return {
    frame: {
      index,
      ptsSeconds: index / 30,
      width: WIDTH,
      height: HEIGHT,
      data: new Uint8Array(WIDTH * HEIGHT * 3),
    },
    masks: { frameIndex: index, ptsSeconds: index / 30, width: WIDTH, height: HEIGHT, objects },
  };
}

/** Five frames of two moving discs (disjoint), one frame with an id above 255, one empty frame. */
function clip(scores = false): SegmentedFrame[] {
  return [0, 1, 2, 3, 4].map((i) => {
    if (i === 3) return segmented(i, []);
    const objects = [
      object(1, disc(8 + i, 10, 5), scores ? 0.9 - i / 100 : 1, scores ? "red disc" : undefined),
      object(i === 2 ? 300 : 2, disc(28 - i, 18, 7), scores ? 0.5 : 1),
    ];
    return segmented(i, objects);
  });
}

async function tempDir(): Promise<string> {
  return await Deno.makeTempDir({ prefix: "export_test_" });
}

Deno.test("masks-dir stage writes one label map per frame and the reader gives the masks back exactly", async () => {
  const dir = `${await tempDir()}/masks`;
  const input = clip();
  const passed = await lastValueFrom(from(input).pipe(writeMaskPngs(dir), toArray()));
  assert.deepEqual(passed, input, "frames pass through unchanged and in order");
  const names = (await listMaskPngs(dir)).map((e) => e.path.slice(dir.length + 1));
  assert.deepEqual(names, ["000000.png", "000001.png", "000002.png", "000003.png", "000004.png"]);
  const read: FrameMasks[] = [];
  for await (const masks of readMaskPngs(dir, { fps: 30 })) read.push(masks);
  assert.deepEqual(read, input.map((s) => s.masks));
  // Per-frame bit depth: 16-bit only for the frame holding id 300.
  const kinds = [];
  for (let i = 0; i < 5; i++) {
    kinds.push(decodePng(await Deno.readFile(`${dir}/${maskPngName(i)}`)).kind);
  }
  assert.deepEqual(kinds, ["gray8", "gray8", "gray16", "gray8", "gray8"]);
});

Deno.test("label maps resolve overlaps in favour of the later object", () => {
  const a = object(1, disc(15, 15, 6));
  const b = object(2, disc(20, 15, 6));
  const map = labelMapFromMasks({
    frameIndex: 0,
    ptsSeconds: 0,
    width: WIDTH,
    height: HEIGHT,
    objects: [a, b],
  });
  assert.equal(map.labels[15 * WIDTH + 17], 2);
  assert.equal(map.labels[15 * WIDTH + 10], 1);
  assert.throws(
    () =>
      labelMapFromMasks({
        frameIndex: 0,
        ptsSeconds: 0,
        width: WIDTH,
        height: HEIGHT,
        objects: [object(70000, disc(5, 5, 2))],
      }),
    /object id 70000 cannot be stored/,
  );
});

Deno.test("masks JSONL stage writes one line per frame and the reader gives everything back exactly", async () => {
  const path = `${await tempDir()}/masks.jsonl`;
  const input = clip(true);
  const passed = await lastValueFrom(from(input).pipe(writeMasksJsonl(path), toArray()));
  assert.deepEqual(passed, input);
  const lines = (await Deno.readTextFile(path)).trimEnd().split("\n");
  assert.equal(lines.length, 5);
  const first = JSON.parse(lines[0]);
  assert.deepEqual(Object.keys(first), ["frame", "time", "width", "height", "objects"]);
  assert.deepEqual(first.objects[0].segmentation.size, [HEIGHT, WIDTH]);
  assert.equal(first.objects[0].label, "red disc");
  const read: FrameMasks[] = [];
  for await (const masks of readMasksJsonl(path)) read.push(masks);
  assert.deepEqual(read, input.map((s) => s.masks));
});

Deno.test("masks JSONL reader accepts pycocotools' compressed string counts", () => {
  const mask = disc(10, 10, 4);
  const rle = encodeRle(mask);
  const line = JSON.stringify({
    frame: 3,
    time: 0.1,
    width: WIDTH,
    height: HEIGHT,
    objects: [{
      id: 5,
      score: 0.75,
      bbox: maskToBbox(mask),
      segmentation: { size: rle.size, counts: rleCountsToString(rle.counts) },
    }],
  });
  assert.deepEqual(frameMasksFromJsonLine(line), {
    frameIndex: 3,
    ptsSeconds: 0.1,
    width: WIDTH,
    height: HEIGHT,
    objects: [object(5, mask, 0.75)],
  });
  // An unknown time (NaN) is written as null and read back as NaN.
  const untimed = frameMasksToJsonLine({
    frameIndex: 0,
    ptsSeconds: NaN,
    width: 2,
    height: 1,
    objects: [],
  });
  assert.match(untimed, /"time":null/);
  assert.ok(Number.isNaN(frameMasksFromJsonLine(untimed).ptsSeconds));
});

Deno.test("writers finish pending writes, close the file and pass on a source error", async () => {
  const root = await tempDir();
  const frames = clip();
  const failing = new Observable<SegmentedFrame>((subscriber) => {
    subscriber.next(frames[0]);
    subscriber.next(frames[1]);
    subscriber.error(new Error("decoder died"));
  });
  await assert.rejects(
    lastValueFrom(failing.pipe(writeMasksJsonl(`${root}/m.jsonl`))),
    /decoder died/,
  );
  assert.equal((await Deno.readTextFile(`${root}/m.jsonl`)).trimEnd().split("\n").length, 2);
  await assert.rejects(lastValueFrom(failing.pipe(writeMaskPngs(`${root}/dir`))), /decoder died/);
  assert.equal((await listMaskPngs(`${root}/dir`)).length, 2);
});

Deno.test("writers stop on unsubscribe and leave no partial files", async () => {
  const root = await tempDir();
  const subject = new Subject<SegmentedFrame>();
  const received: number[] = [];
  const jsonl = subject.pipe(writeMasksJsonl(`${root}/m.jsonl`)).subscribe((s) =>
    received.push(s.frame.index)
  );
  const pngs = subject.pipe(writeMaskPngs(`${root}/dir`)).subscribe();
  for (const frame of clip().slice(0, 3)) subject.next(frame);
  await new Promise((resolve) => setTimeout(resolve, 200));
  jsonl.unsubscribe();
  pngs.unsubscribe();
  subject.next(clip()[3]);
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.deepEqual(received, [0, 1, 2]);
  assert.equal((await Deno.readTextFile(`${root}/m.jsonl`)).trimEnd().split("\n").length, 3);
  const names = [];
  for await (const entry of Deno.readDir(`${root}/dir`)) names.push(entry.name);
  assert.deepEqual(names.sort(), ["000000.png", "000001.png", "000002.png"]);
});

Deno.test("unsubscribing while writes are in flight closes the file and leaves only whole PNGs", async () => {
  const root = await tempDir();
  const subject = new Subject<SegmentedFrame>();
  const jsonl = subject.pipe(writeMasksJsonl(`${root}/m.jsonl`)).subscribe();
  const pngs = subject.pipe(writeMaskPngs(`${root}/dir`)).subscribe();
  for (const frame of clip()) subject.next(frame);
  jsonl.unsubscribe();
  pngs.unsubscribe();
  await new Promise((resolve) => setTimeout(resolve, 200));
  // The test sanitizer fails the test if the JSONL file handle were still open.
  for await (const entry of Deno.readDir(`${root}/dir`)) {
    assert.match(entry.name, /^\d{6}\.png$/);
    decodePng(await Deno.readFile(`${root}/dir/${entry.name}`));
  }
});

Deno.test("writers error clearly when the output path cannot be used", async () => {
  const root = await tempDir();
  await Deno.writeTextFile(`${root}/file`, "x");
  await assert.rejects(
    lastValueFrom(from(clip()).pipe(writeMaskPngs(`${root}/file`))),
    /exists and is not a directory/,
  );
  await assert.rejects(
    lastValueFrom(from(clip()).pipe(writeMasksJsonl(`${root}/missing/m.jsonl`))),
    /cannot write masks JSON/,
  );
});

Deno.test("readers reject a missing, empty or corrupt masks directory and JSONL with the file named", async () => {
  const root = await tempDir();
  await assert.rejects(listMaskPngs(`${root}/nope`), /does not exist/);
  await Deno.mkdir(`${root}/empty`);
  await assert.rejects(listMaskPngs(`${root}/empty`), /holds no NNNNNN.png label maps/);
  await Deno.mkdir(`${root}/bad`);
  await Deno.writeTextFile(`${root}/bad/000000.png`, "not a png");
  await assert.rejects(async () => {
    for await (const _ of readMaskPngs(`${root}/bad`)) { /* drain */ }
  }, /bad\/000000.png: PNG: not a PNG file/);
  const drain = async (path: string) => {
    for await (const _ of readMasksJsonl(path)) { /* drain */ }
  };
  await assert.rejects(drain(`${root}/none.jsonl`), /does not exist/);
  await Deno.writeTextFile(`${root}/empty.jsonl`, "");
  await assert.rejects(drain(`${root}/empty.jsonl`), /holds no frames/);
  await Deno.writeTextFile(
    `${root}/broken.jsonl`,
    `{"frame":0,"time":0,"width":2,"height":1,"objects":[]}\n{"frame":1,`,
  );
  await assert.rejects(drain(`${root}/broken.jsonl`), /broken.jsonl:2: not valid JSON/);
  await Deno.writeTextFile(
    `${root}/runs.jsonl`,
    `{"frame":0,"time":0,"width":2,"height":1,"objects":[{"id":1,"score":1,"bbox":[0,0,1,1],"segmentation":{"size":[1,2],"counts":[1,5]}}]}\n`,
  );
  await assert.rejects(drain(`${root}/runs.jsonl`), /runs.jsonl:1: RLE runs cover 6 pixels/);
  await Deno.writeTextFile(
    `${root}/schema.jsonl`,
    `{"frame":-1,"time":0,"width":2,"height":1,"objects":[]}\n`,
  );
  await assert.rejects(drain(`${root}/schema.jsonl`), /schema.jsonl:1: frame:/);
});
