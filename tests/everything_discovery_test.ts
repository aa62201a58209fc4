/**
 * Periodic discovery (`--everything-every K`) on the committed samples, through the real pipeline
 * (ffmpeg decode, tracker with the discovery step, masks JSON lines, overlay video), with the
 * region-growing test segmenter. Discovered objects get new ids that cannot equal the ground
 * truth's, so identity is judged by matching: the first predicted id matching a ground-truth
 * object (IoU >= 0.5) must match it on every later frame where it is matched.
 */
import assert from "node:assert/strict";
import { lastValueFrom } from "rxjs";
import { segmentVideo } from "../pipelines/segment_video.ts";
import { evaluateMasks } from "../src/eval/evaluate.ts";
import { readGroundTruth } from "../src/eval/sources.ts";
import { readMasksJsonl } from "../src/export/masks_jsonl.ts";
import {
  type DiscoveryReport,
  everythingDiscovery,
} from "../src/segment/everything/discovery_step.ts";
import { type ObjectPrompt, readPromptsFile, resolvePrompts } from "../src/segment/prompts.ts";
import { trackObjects, type TrackObjectsOptions } from "../src/segment/tracker/track_objects.ts";
import { parseInputSource } from "../src/video/input_source.ts";
import { parseOutputTarget } from "../src/video/output_target.ts";
import { probeVideo } from "../src/video/probe.ts";
import { StreamStats } from "../src/video/stream_stats.ts";
import { RegionGrowingSegmenter } from "./helpers/region_growing_segmenter.ts";
import { SAMPLE_NAMES, SAMPLES_DIR } from "./helpers/sample_frames.ts";
import { WholeFramePoints } from "./helpers/whole_frame_points.ts";

const K = 10;

interface Run {
  readonly masksJsonl: string;
  readonly passes: DiscoveryReport[];
  readonly cleanup: () => Promise<void>;
}

/** Decode -> track (optionally with discovery every `every` frames) -> masks JSON + overlay video. */
async function runSample(
  name: string,
  options: { prompts: boolean; every?: number; tracker?: TrackObjectsOptions },
): Promise<Run> {
  const sampleDir = `${SAMPLES_DIR}/${name}`;
  const out = await Deno.makeTempDir({ prefix: `discovery_${name}_` });
  const source = parseInputSource(`${sampleDir}/video.mp4`);
  const info = await probeVideo(source);
  const prompts: ObjectPrompt[] = options.prompts
    ? resolvePrompts(await readPromptsFile(`${sampleDir}/prompts.json`), info)
    : [];
  const passes: DiscoveryReport[] = [];
  const segmenter = new WholeFramePoints(new RegionGrowingSegmenter());
  await lastValueFrom(
    segmentVideo({
      source,
      info,
      segmentation: trackObjects(segmenter, prompts, {
        ...options.tracker,
        ...(options.every
          ? {
            discovery: everythingDiscovery({
              every: options.every,
              onPass: (report) => passes.push(report),
            }),
          }
          : {}),
      }),
      target: parseOutputTarget(`${out}/overlay.mp4`),
      masksJsonl: `${out}/masks.jsonl`,
      stats: new StreamStats(),
    }),
    { defaultValue: undefined },
  );
  return {
    masksJsonl: `${out}/masks.jsonl`,
    passes,
    cleanup: () => Deno.remove(out, { recursive: true }),
  };
}

interface Identity {
  /** First frame the ground-truth object is visible on. */
  readonly firstVisible: number;
  /** First frame some predicted id matches it, and that id. */
  readonly firstMatch?: { readonly frame: number; readonly id: number };
  /** Frames where another id matched it after the first match. */
  readonly switches: readonly { readonly frame: number; readonly id: number }[];
  /** Frames where it is visible, by whether it was matched. */
  readonly matchedFrames: readonly number[];
}

/** Per ground-truth object: when it was first matched, by which id, and any later change of id. */
async function identities(name: string, masksJsonl: string): Promise<Map<number, Identity>> {
  const predicted = new Map<number, Map<number, Uint8Array>>();
  for await (const frame of readMasksJsonl(masksJsonl)) {
    predicted.set(frame.frameIndex, new Map(frame.objects.map((o) => [o.id, o.mask.data])));
  }
  const result = new Map<
    number,
    {
      firstVisible: number;
      firstMatch?: { frame: number; id: number };
      switches: { frame: number; id: number }[];
      matchedFrames: number[];
    }
  >();
  for await (const gt of readGroundTruth(`${SAMPLES_DIR}/${name}/gt`)) {
    for (const [gtId, gtMask] of gt.masks) {
      if (!gtMask.some((v) => v !== 0)) continue;
      const entry = result.get(gtId) ??
        { firstVisible: gt.frameIndex, switches: [], matchedFrames: [] };
      result.set(gtId, entry);
      let best: number | undefined, bestIou = 0.5;
      for (const [id, mask] of predicted.get(gt.frameIndex) ?? []) {
        let inter = 0, union = 0;
        for (let i = 0; i < mask.length; i++) {
          if (mask[i] && gtMask[i]) inter++;
          if (mask[i] || gtMask[i]) union++;
        }
        const iou = union > 0 ? inter / union : 0;
        if (iou >= bestIou) {
          best = id;
          bestIou = iou;
        }
      }
      if (best === undefined) continue;
      entry.matchedFrames.push(gt.frameIndex);
      if (!entry.firstMatch) entry.firstMatch = { frame: gt.frameIndex, id: best };
      else if (best !== entry.firstMatch.id) {
        entry.switches.push({ frame: gt.frameIndex, id: best });
      }
    }
  }
  return result;
}

for (const name of SAMPLE_NAMES) {
  Deno.test(`discovery every ${K} frames keeps J&F at or above plain tracking on sample ${name}`, async () => {
    const plain = await runSample(name, { prompts: true });
    const discovering = await runSample(name, { prompts: true, every: K });
    try {
      const gt = `${SAMPLES_DIR}/${name}/gt`;
      const before = await evaluateMasks(plain.masksJsonl, gt);
      const after = await evaluateMasks(discovering.masksJsonl, gt);
      console.log(
        `${name}: J&F tracking ${before.jfMean.toFixed(4)} (J ${
          before.jMean.toFixed(4)
        }), with discovery ${after.jfMean.toFixed(4)} (J ${
          after.jMean.toFixed(4)
        }); ${discovering.passes.length} passes, ${
          discovering.passes.reduce((s, p) => s + p.stats.promptsDecoded, 0)
        } prompts; added ids [${discovering.passes.flatMap((p) => p.added)}]`,
      );
      // Passes run on frame 0 and every K frames.
      assert.deepEqual(
        discovering.passes.map((p) => p.frameIndex),
        Array.from({ length: discovering.passes.length }, (_, i) => i * K),
      );
      assert.ok(
        after.jfMean >= before.jfMean,
        `J&F with discovery ${after.jfMean} < tracking alone ${before.jfMean}`,
      );
      assert.equal(after.drawnAfterLeft, 0);
    } finally {
      await plain.cleanup();
      await discovering.cleanup();
    }
  });
}

for (const name of ["exit_enter", "crossing"] as const) {
  Deno.test(`without prompts, discovery finds every object of ${name}, a late entrant within ${K} frames, each keeping its id`, async () => {
    const run = await runSample(name, { prompts: false, every: K });
    try {
      const objects = await identities(name, run.masksJsonl);
      const lines = [...objects].map(([gtId, o]) =>
        `gt ${gtId}: visible from ${o.firstVisible}, first matched on ${o.firstMatch?.frame} by id ${o.firstMatch?.id}, ${o.switches.length} switches`
      );
      console.log(`${name}:\n  ${lines.join("\n  ")}`);
      const ids = new Set<number>();
      for (const [gtId, o] of objects) {
        assert.ok(o.firstMatch, `gt object ${gtId} never found`);
        assert.ok(
          o.firstMatch.frame - o.firstVisible <= K,
          `gt object ${gtId} visible from ${o.firstVisible}, found on ${o.firstMatch.frame}`,
        );
        assert.deepEqual(o.switches, [], `gt object ${gtId} changed id`);
        ids.add(o.firstMatch.id);
      }
      assert.equal(ids.size, objects.size, "every object has an id of its own");
      // The late entrant (the last to appear) was found by a pass on or after it appeared, under
      // an id never drawn before it appeared.
      const [lateId, late] = [...objects].sort((a, b) => b[1].firstVisible - a[1].firstVisible)[0];
      assert.ok(late.firstVisible > 0, `${name} has a late entrant`);
      const pass = run.passes.find((p) => p.added.includes(late.firstMatch!.id));
      assert.ok(pass, `gt object ${lateId}'s id was added by a discovery pass`);
      assert.ok(pass.frameIndex >= late.firstVisible);
      for await (const frame of readMasksJsonl(run.masksJsonl)) {
        if (frame.frameIndex >= late.firstVisible) break;
        assert.ok(!frame.objects.some((o) => o.id === late.firstMatch!.id));
      }
    } finally {
      await run.cleanup();
    }
  });
}

Deno.test("a lost object found again by an everything pass keeps its old id", async () => {
  // The tracker's own search for lost objects is switched off, so only discovery can bring the
  // red disc (id 1, fully hidden on frames 20-40) back.
  const tracker: TrackObjectsOptions = { reacquisition: { forFrames: 0 } };
  const without = await runSample("occlusion", { prompts: true, tracker });
  const withDiscovery = await runSample("occlusion", { prompts: true, every: K, tracker });
  try {
    const back = 41;
    const lost = (await identities("occlusion", without.masksJsonl)).get(1)!;
    assert.ok(
      !lost.matchedFrames.some((f) => f >= back),
      "without discovery the disc is not found again",
    );
    const found = (await identities("occlusion", withDiscovery.masksJsonl)).get(1)!;
    assert.equal(found.firstMatch?.id, 1);
    assert.deepEqual(found.switches, []);
    const again = found.matchedFrames.find((f) => f >= back);
    console.log(
      `red disc reappears on frame ${back}, found again on frame ${again}; passes re-acquiring: ${
        withDiscovery.passes.filter((p) => p.reacquired.length > 0).map((p) =>
          `${p.frameIndex}: [${p.reacquired}]`
        )
      }`,
    );
    assert.ok(again !== undefined && again - back <= K, `found again on frame ${again}`);
    assert.ok(withDiscovery.passes.some((p) => p.reacquired.includes(1)));
    assert.ok(!withDiscovery.passes.some((p) => p.added.length > 0), "no duplicate id added");
    // From then on it is drawn under id 1 on every frame it is visible.
    const visibleAfter = found.matchedFrames.filter((f) => f >= again!);
    assert.equal(visibleAfter.length, 72 - again!);
  } finally {
    await without.cleanup();
    await withDiscovery.cleanup();
  }
});
