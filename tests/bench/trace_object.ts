/**
 * One object's story in one scene, frame by frame, as the tracker saw it: its status and why it was
 * lost, its ground-truth area, the J of its mask, its reference area, velocity and bounds. For
 * finding out why the suite reports a slow re-acquisition or an identity switch.
 *
 *   deno run -A tests/bench/trace_object.ts SCENE_DIR OBJECT_ID
 *
 * SCENE_DIR is laid out like `samples/` (`video.mp4`, `gt/`, `prompts.json`), e.g. a scene kept by
 * `deno task suite --cache DIR`; tracking is every frame, with the region-growing test segmenter.
 */
import { lastValueFrom, toArray } from "rxjs";
import { decodeVideo } from "../../src/video/decode.ts";
import { parseInputSource } from "../../src/video/input_source.ts";
import { probeVideo } from "../../src/video/probe.ts";
import { readPromptsFile, resolvePrompts } from "../../src/segment/prompts.ts";
import { ObjectTracker } from "../../src/segment/tracker/object_tracker.ts";
import { RegionGrowingSegmenter } from "../helpers/region_growing_segmenter.ts";
import { readMaskPng } from "../../src/export/masks_dir.ts";
import { maskPngName } from "../../src/export/label_map.ts";
const [dir, idArg] = Deno.args;
const id = Number(idArg);
if (dir === undefined || !Number.isInteger(id)) {
  console.error("usage: deno run -A tests/bench/trace_object.ts SCENE_DIR OBJECT_ID");
  Deno.exit(2);
}
const source = parseInputSource(`${dir}/video.mp4`);
const info = await probeVideo(source);
const prompts = resolvePrompts(await readPromptsFile(`${dir}/prompts.json`), info);
const frames = await lastValueFrom(decodeVideo(source, info).pipe(toArray()));
const seg = new RegionGrowingSegmenter();
const tracker = new ObjectTracker(seg, prompts, {});
for (const frame of frames) {
  const masks = await tracker.step(frame);
  const gt = await readMaskPng(`${dir}/gt/${maskPngName(frame.index)}`);
  let inter = 0, uni = 0, gtA = 0;
  const mine = masks.objects.find((o) => o.id === id);
  for (let i = 0; i < gt.labels.length; i++) {
    const g = gt.labels[i] === id ? 1 : 0, p = mine ? mine.mask.data[i] : 0;
    gtA += g;
    if (g && p) inter++;
    if (g || p) uni++;
  }
  const t = tracker.state.track(id);
  if (!t) {
    console.log(frame.index, "not prompted yet");
    continue;
  }
  console.log(
    frame.index,
    t.status,
    t.lossReason ?? "",
    "gt",
    gtA,
    "J",
    uni ? (inter / uni).toFixed(2) : "-",
    "ref",
    Math.round(t.referenceArea),
    "v",
    t.velocity.x.toFixed(1),
    t.velocity.y.toFixed(1),
    "b",
    JSON.stringify(t.bounds),
  );
}
