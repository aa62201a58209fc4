import assert from "node:assert/strict";
import {
  type GeneratedSample,
  generateSample,
  generateSamples,
  sha256,
} from "../src/samples/generate.ts";
import { SAMPLE_SCENES } from "../src/samples/scenes.ts";
import { renderSceneFrame, type Scene, sceneTextures } from "../src/samples/scene.ts";
import { ffmpegVersion } from "../src/samples/sample_video.ts";
import { MIN_PROMPT_DEPTH } from "../src/samples/timeline.ts";
import { decodeLabelMapPng, maskPngName } from "../src/export/label_map.ts";
import { evaluateMasks } from "../src/eval/evaluate.ts";
import { parsePromptsJson } from "../src/segment/prompts.ts";
import { resolveBinary } from "../src/video/binaries.ts";

const SAMPLES_DIR = new URL("../samples", import.meta.url).pathname;

let generated: Promise<{ dir: string; samples: GeneratedSample[] }> | undefined;

/** One fresh generation (without video) shared by the tests that only read it. */
function freshSamples(): Promise<{ dir: string; samples: GeneratedSample[] }> {
  generated ??= (async () => {
    const dir = await Deno.makeTempDir({ prefix: "samples_fresh_" });
    return { dir, samples: await generateSamples(dir, { video: false }) };
  })();
  return generated;
}

async function listFiles(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) names.push(entry.name);
  return names.sort();
}

Deno.test("sample generation is deterministic: label maps, prompts and README are byte-identical", async () => {
  const a = (await freshSamples()).dir;
  const b = await Deno.makeTempDir({ prefix: "samples_b_" });
  await generateSamples(b, { video: false });
  assert.deepEqual(await Deno.readFile(`${a}/README.md`), await Deno.readFile(`${b}/README.md`));
  for (const scene of SAMPLE_SCENES) {
    const names = await listFiles(`${a}/${scene.name}/gt`);
    assert.equal(names.length, scene.frames);
    assert.deepEqual(await listFiles(`${b}/${scene.name}/gt`), names);
    for (const name of names) {
      assert.deepEqual(
        await Deno.readFile(`${a}/${scene.name}/gt/${name}`),
        await Deno.readFile(`${b}/${scene.name}/gt/${name}`),
        `${scene.name}/gt/${name}`,
      );
    }
    assert.equal(
      await Deno.readTextFile(`${a}/${scene.name}/prompts.json`),
      await Deno.readTextFile(`${b}/${scene.name}/prompts.json`),
    );
  }
});

Deno.test("committed samples match what the generator produces (ground truth, prompts, README)", async () => {
  const fresh = (await freshSamples()).dir;
  assert.equal(
    await Deno.readTextFile(`${SAMPLES_DIR}/README.md`),
    await Deno.readTextFile(`${fresh}/README.md`),
  );
  for (const scene of SAMPLE_SCENES) {
    assert.equal(
      await Deno.readTextFile(`${SAMPLES_DIR}/${scene.name}/prompts.json`),
      await Deno.readTextFile(`${fresh}/${scene.name}/prompts.json`),
      `${scene.name}/prompts.json`,
    );
    const names = await listFiles(`${fresh}/${scene.name}/gt`);
    assert.deepEqual(await listFiles(`${SAMPLES_DIR}/${scene.name}/gt`), names);
    for (const name of names) {
      // Pixels, not bytes: another zlib may compress the same label map differently.
      assert.deepEqual(
        decodeLabelMapPng(await Deno.readFile(`${SAMPLES_DIR}/${scene.name}/gt/${name}`)),
        decodeLabelMapPng(await Deno.readFile(`${fresh}/${scene.name}/gt/${name}`)),
        `${scene.name}/gt/${name}`,
      );
    }
  }
});

Deno.test("committed videos are what this ffmpeg build encodes, or the build differs (then skipped)", async () => {
  const manifest = JSON.parse(await Deno.readTextFile(`${SAMPLES_DIR}/manifest.json`));
  for (const scene of SAMPLE_SCENES) {
    assert.equal(
      await sha256(`${SAMPLES_DIR}/${scene.name}/video.mp4`),
      manifest.videos[`${scene.name}/video.mp4`],
      `${scene.name}/video.mp4 differs from manifest.json`,
    );
  }
  const version = await ffmpegVersion();
  if (version !== manifest.ffmpeg) {
    console.log(
      `ffmpeg is "${version}", samples were encoded by "${manifest.ffmpeg}": not re-encoding`,
    );
    return;
  }
  const fresh = await Deno.makeTempDir({ prefix: "samples_video_" });
  const scene = SAMPLE_SCENES[0];
  await generateSample(scene, fresh);
  assert.equal(
    await sha256(`${fresh}/${scene.name}/video.mp4`),
    manifest.videos[`${scene.name}/video.mp4`],
  );
});

/** Decodes a video with ffmpeg to rgb24 frames. */
async function decodeVideo(path: string, width: number, height: number): Promise<Uint8Array[]> {
  const ffmpeg = (await resolveBinary("ffmpeg")).path;
  const { success, stdout } = await new Deno.Command(ffmpeg, {
    args: ["-v", "error", "-i", path, "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
    stdout: "piped",
    stderr: "null",
  }).output();
  assert.ok(success, `ffmpeg could not decode ${path}`);
  const size = width * height * 3;
  assert.equal(stdout.length % size, 0);
  return Array.from(
    { length: stdout.length / size },
    (_, i) => stdout.subarray(i * size, (i + 1) * size),
  );
}

Deno.test("each committed video decodes to its frame count and matches the rendered frames closely", async () => {
  for (const scene of SAMPLE_SCENES) {
    const frames = await decodeVideo(
      `${SAMPLES_DIR}/${scene.name}/video.mp4`,
      scene.width,
      scene.height,
    );
    assert.equal(frames.length, scene.frames, scene.name);
    const textures = sceneTextures(scene);
    for (const t of [0, Math.floor(scene.frames / 2), scene.frames - 1]) {
      const rendered = renderSceneFrame(scene, textures, t).rgb;
      let error = 0;
      for (let i = 0; i < rendered.length; i++) error += Math.abs(rendered[i] - frames[t][i]);
      const meanError = error / rendered.length;
      // H.264 at CRF 18 with 4:2:0 chroma: a few levels on average, never a different picture.
      assert.ok(meanError < 4, `${scene.name} frame ${t}: mean abs error ${meanError.toFixed(2)}`);
    }
  }
});

Deno.test("each sample's prompts parse with the CLI's prompts reader and point inside their object", async () => {
  for (const scene of SAMPLE_SCENES) {
    const text = await Deno.readTextFile(`${SAMPLES_DIR}/${scene.name}/prompts.json`);
    const prompts = parsePromptsJson(text, `${scene.name}/prompts.json`);
    assert.deepEqual(prompts.map((p) => p.objectId), scene.objects.map((o) => o.id));
    for (const prompt of prompts) {
      assert.ok("frame" in prompt.at);
      const frame = prompt.at.frame;
      const map = decodeLabelMapPng(
        await Deno.readFile(`${SAMPLES_DIR}/${scene.name}/gt/${maskPngName(frame)}`),
      );
      const [{ x, y, positive }] = prompt.points;
      assert.ok(positive);
      assert.equal(
        map.labels[y * map.width + x],
        prompt.objectId,
        `${scene.name} object ${prompt.objectId}`,
      );
      // The point is at least MIN_PROMPT_DEPTH px from any other label (a cheap check of "well inside").
      const d = MIN_PROMPT_DEPTH - 1;
      for (const [dx, dy] of [[d, 0], [-d, 0], [0, d], [0, -d]]) {
        assert.equal(map.labels[(y + dy) * map.width + x + dx], prompt.objectId);
      }
      const [x0, y0, x1, y1] = prompt.box!;
      assert.ok(x0 <= x && x < x1 && y0 <= y && y < y1);
      // The box is tight around the object's visible pixels on that frame.
      let minX = Infinity, minY = Infinity, maxX = -1, maxY = -1;
      map.labels.forEach((id, i) => {
        if (id !== prompt.objectId) return;
        const px = i % map.width, py = Math.floor(i / map.width);
        minX = Math.min(minX, px),
          maxX = Math.max(maxX, px),
          minY = Math.min(minY, py),
          maxY = Math.max(maxY, py);
      });
      assert.deepEqual([x0, y0, x1, y1], [minX, minY, maxX + 1, maxY + 1]);
    }
  }
});

Deno.test("the samples show the required events: a 12-frame full occlusion, an exit, a late entry", async () => {
  const { samples } = await freshSamples();
  const all = samples.flatMap((s) => s.timelines.map((t) => ({ scene: s.scene, ...t })));
  const occluded = all.find((t) =>
    t.fullyOccluded.some(([a, b]) => b - a + 1 >= 12 && t.visible.some(([v]) => v > b))
  );
  assert.ok(occluded, "an object fully occluded for 12+ frames that reappears");
  const left = all.find((t) => {
    const last = t.outOfFrame.at(-1);
    return t.visible[0][0] === 0 && last !== undefined && last[1] === t.scene.frames - 1 &&
      last[0] > t.visible.at(-1)![1];
  });
  assert.ok(left, "an object that leaves the frame and does not come back");
  assert.ok(all.some((t) => t.visible[0][0] >= 20), "an object that enters well after frame 0");
});

Deno.test("a scene that does not show its declared event is refused", async () => {
  const scene: Scene = {
    ...SAMPLE_SCENES[1],
    name: "broken",
    events: [{ kind: "entersLate", id: 3, afterFrame: 10 }],
  };
  await assert.rejects(
    generateSample(scene, await Deno.makeTempDir(), { video: false }),
    /broken: object 3 is visible at frame 0, not after 10/,
  );
});

Deno.test("ground truth of every sample evaluated against itself scores J = F = J&F = 1", async () => {
  for (const scene of SAMPLE_SCENES) {
    const gt = `${SAMPLES_DIR}/${scene.name}/gt`;
    const report = await evaluateMasks(gt, gt);
    assert.equal(report.frames, scene.frames);
    assert.deepEqual(report.objects.map((o) => o.id), scene.objects.map((o) => o.id));
    assert.equal(report.jMean, 1);
    assert.equal(report.fMean, 1);
    assert.equal(report.jfMean, 1);
    assert.equal(report.idSwitches, 0);
  }
});
