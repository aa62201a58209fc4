/**
 * The model in worker threads (built from the fixture checkpoint): the same embeddings and
 * decodes as the in-thread segmenter, an event loop that keeps running while a frame is encoded
 * (onnxruntime-node blocks the thread it runs on), several encoder workers, and a clean end.
 * Skipped without ../shared.
 */
import assert from "node:assert/strict";
import { decodePng } from "../src/export/png.ts";
import type { Frame } from "../src/frame.ts";
import { ensureModel } from "../src/model/model_cache.ts";
import { OnnxSegmenter, type TinySamEmbedding } from "../src/model/onnx_segmenter.ts";
import { WorkerSegmenter } from "../src/model/worker_segmenter.ts";
import type { PromptSet } from "../src/segment/segmenter.ts";
import { FIXTURE_DIR, sharedAvailable } from "./helpers/shared.ts";

const CHECKPOINT = `${FIXTURE_DIR}/tinysam_random.pth`;

function fixtureFrame(index = 0): Frame {
  const image = decodePng(Deno.readFileSync(`${FIXTURE_DIR}/frame720.png`));
  assert.equal(image.kind, "rgb8");
  return { index, ptsSeconds: 0, width: image.width, height: image.height, data: image.data };
}

const prompts: PromptSet[] = [
  { points: [{ x: 400, y: 300, positive: true }] },
  { points: [{ x: 900, y: 200, positive: true }], box: [800, 100, 1100, 400] },
];

async function models() {
  return await ensureModel({ checkpoint: CHECKPOINT }, { precision: "fp32" });
}

Deno.test({
  name: "the worker segmenter embeds and decodes exactly as the in-thread segmenter",
  ignore: !sharedAvailable,
  fn: async () => {
    const model = await models();
    const local = await OnnxSegmenter.create({ ...model, threads: 1 });
    const workers = await WorkerSegmenter.create({
      ...model,
      encoderThreads: 1,
      decoderThreads: 1,
    });
    try {
      const frame = fixtureFrame();
      const expected = await local.embed(frame);
      const actual = await workers.embed(frame);
      assert.equal(actual.frameWidth, frame.width);
      assert.deepEqual(actual.imageEmbeddings, expected.imageEmbeddings);
      const want = await local.decode(expected, prompts);
      const got = await workers.decode(actual, prompts);
      assert.equal(got.length, 2);
      got.forEach((g, i) => {
        assert.deepEqual(g.lowResLogits, want[i].lowResLogits);
        assert.deepEqual(g.iouPredictions, want[i].iouPredictions);
      });
      assert.deepEqual(
        workers.upscaleLogits(actual, got[0].lowResLogits.subarray(0, 256 * 256)),
        local.upscaleLogits(expected, want[0].lowResLogits.subarray(0, 256 * 256)),
      );
    } finally {
      await local.dispose();
      await workers.dispose();
    }
  },
});

Deno.test({
  name: "the event loop keeps running while a worker encodes a frame",
  ignore: !sharedAvailable,
  fn: async () => {
    const workers = await WorkerSegmenter.create({ ...(await models()), encoderThreads: 1 });
    try {
      let ticks = 0;
      const timer = setInterval(() => ticks++, 5);
      const started = performance.now();
      await workers.embed(fixtureFrame());
      const elapsed = performance.now() - started;
      clearInterval(timer);
      // An encode takes hundreds of ms; a blocked loop would see no tick at all.
      assert.ok(ticks >= Math.floor(elapsed / 5 / 4), `${ticks} ticks in ${elapsed.toFixed(0)} ms`);
    } finally {
      await workers.dispose();
    }
  },
});

Deno.test({
  name: "two encoder workers take a frame each; results come back to the right caller",
  ignore: !sharedAvailable,
  fn: async () => {
    const workers = await WorkerSegmenter.create({
      ...(await models()),
      encoderWorkers: 2,
      encoderThreads: 1,
    });
    try {
      const a = fixtureFrame(0);
      // A second, different frame: the first one mirrored.
      const mirrored = new Uint8Array(a.data.length);
      for (let y = 0; y < a.height; y++) {
        for (let x = 0; x < a.width; x++) {
          mirrored.set(
            a.data.subarray((y * a.width + x) * 3, (y * a.width + x) * 3 + 3),
            (y * a.width + (a.width - 1 - x)) * 3,
          );
        }
      }
      const b: Frame = { ...a, index: 1, data: mirrored };
      const both = Promise.all([workers.embed(a), workers.embed(b)]);
      assert.equal(workers.embedding, 2, "one frame in each worker");
      const [ea, eb] = await both;
      assert.deepEqual(ea.imageEmbeddings, (await workers.embed(a)).imageEmbeddings);
      assert.notDeepEqual(ea.imageEmbeddings, eb.imageEmbeddings);
      assert.deepEqual(eb.imageEmbeddings, (await workers.embed(b)).imageEmbeddings);
    } finally {
      await workers.dispose();
    }
  },
});

Deno.test({
  name: "a disposed worker segmenter refuses work; a bad model file fails to open with its reason",
  ignore: !sharedAvailable,
  fn: async () => {
    const workers = await WorkerSegmenter.create({ ...(await models()), encoderThreads: 1 });
    const pending = workers.embed(fixtureFrame());
    await workers.dispose();
    // Work under way when dispose was called is still answered.
    assert.equal((await pending as TinySamEmbedding).imageEmbeddings.length, 256 * 64 * 64);
    await assert.rejects(() => workers.embed(fixtureFrame()), /disposed/);
    const dir = await Deno.makeTempDir();
    try {
      await Deno.writeTextFile(`${dir}/broken.onnx`, "not a model");
      await assert.rejects(
        () =>
          WorkerSegmenter.create({ encoder: `${dir}/broken.onnx`, decoder: `${dir}/broken.onnx` }),
        Error,
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "a segmenter opened with one session runs that one and refuses the other in one line",
  ignore: !sharedAvailable,
  fn: async () => {
    const model = await models();
    const encoderOnly = await OnnxSegmenter.create({ ...model, threads: 1, sessions: "encoder" });
    const decoderOnly = await OnnxSegmenter.create({ ...model, threads: 1, sessions: "decoder" });
    const both = await OnnxSegmenter.create({ ...model, threads: 1 });
    try {
      const frame = fixtureFrame();
      const embedding = await encoderOnly.embed(frame);
      assert.deepEqual(embedding.imageEmbeddings, (await both.embed(frame)).imageEmbeddings);
      const decoded = await decoderOnly.decode(embedding, prompts);
      assert.deepEqual(
        decoded[0].lowResLogits,
        (await both.decode(embedding, prompts))[0].lowResLogits,
      );
      await assert.rejects(
        () => encoderOnly.decode(embedding, prompts),
        /^Error: this segmenter was opened without its decoder session$/,
      );
      await assert.rejects(() => decoderOnly.embed(frame), /without its encoder session/);
    } finally {
      await Promise.all([encoderOnly.dispose(), decoderOnly.dispose(), both.dispose()]);
    }
  },
});

/** Niceness of each thread of this process (Linux `/proc/self/task/<tid>/stat`, field 19). */
function threadNiceness(): number[] {
  const nice: number[] = [];
  for (const task of Deno.readDirSync("/proc/self/task")) {
    const stat = Deno.readTextFileSync(`/proc/self/task/${task.name}/stat`);
    // Fields after the command name, which is in parentheses and may hold spaces.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    nice.push(Number(fields[16]));
  }
  return nice;
}

Deno.test({
  name:
    "the background view decodes exactly as the segmenter, in a decoder of its own at the lowest priority",
  ignore: !sharedAvailable,
  fn: async () => {
    const model = await models();
    const workers = await WorkerSegmenter.create({
      ...model,
      encoderThreads: 1,
      decoderThreads: 1,
    });
    try {
      const background = workers.background;
      assert.equal(workers.background, background, "one view");
      assert.ok(!threadNiceness().includes(19), "no background decoder before it is used");
      const embedding = await background.embed(fixtureFrame());
      const [foreground, behind] = await Promise.all([
        workers.decode(embedding, prompts),
        background.decode(embedding, prompts),
      ]);
      behind.forEach((b, i) => {
        assert.deepEqual(b.lowResLogits, foreground[i].lowResLogits);
        assert.deepEqual(b.iouPredictions, foreground[i].iouPredictions);
      });
      assert.ok(threadNiceness().includes(19), "the background decoder runs at niceness 19");
      await background.dispose();
      assert.equal(
        (await background.decode(embedding, prompts)).length,
        2,
        "owned by the segmenter",
      );
    } finally {
      await workers.dispose();
    }
    await assert.rejects(() => workers.background.decode(embedding(), prompts), /disposed/);
  },
});

function embedding(): TinySamEmbedding {
  return { frameWidth: 64, frameHeight: 64, imageEmbeddings: new Float32Array(256 * 64 * 64) };
}
