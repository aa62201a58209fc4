/**
 * A user prompt on an object an everything pass already added: the discovered object is merged
 * into the prompted one (its id disappears) instead of lingering as a lost duplicate that could
 * later be re-acquired in the prompted object's place.
 */
import assert from "node:assert/strict";
import { from, lastValueFrom, toArray } from "rxjs";
import type { Frame } from "../src/frame.ts";
import {
  type DiscoveryReport,
  everythingDiscovery,
} from "../src/segment/everything/discovery_step.ts";
import type { ObjectPrompt } from "../src/segment/prompts.ts";
import { trackObjects } from "../src/segment/tracker/track_objects.ts";
import type { TrackerState } from "../src/segment/tracker/tracker_state.ts";
import { RegionGrowingSegmenter } from "./helpers/region_growing_segmenter.ts";
import { WholeFramePoints } from "./helpers/whole_frame_points.ts";

const W = 96, H = 48;

/** Two dark squares on a light frame: left [10, 34) x [12, 36), right [60, 84) x [12, 36). */
function frames(count: number): Frame[] {
  return Array.from({ length: count }, (_, index) => {
    const data = new Uint8Array(W * H * 3).fill(220);
    for (let y = 12; y < 36; y++) {
      data.fill(30, (y * W + 10) * 3, (y * W + 34) * 3);
      data.fill(60, (y * W + 60) * 3, (y * W + 84) * 3);
    }
    return { index, ptsSeconds: index / 30, width: W, height: H, data };
  });
}

function pointAt(objectId: number, frame: number, x: number, y: number): ObjectPrompt {
  return {
    objectId,
    at: { frame },
    points: [{ x, y, positive: true }],
    origin: `--point ${x},${y},${objectId}@${frame}`,
  };
}

async function run(prompts: ObjectPrompt[]) {
  let state: TrackerState | undefined;
  const passes: DiscoveryReport[] = [];
  const stage = trackObjects(new WholeFramePoints(new RegionGrowingSegmenter()), prompts, {
    discovery: everythingDiscovery({
      every: 2,
      everything: { pointsPerSide: 8 },
      onPass: (report) => passes.push(report),
    }),
    onState: (s) => state = s,
  });
  const output = await lastValueFrom(from(frames(7)).pipe(stage, toArray()));
  return {
    drawn: output.map((f) => f.masks.objects.map((o) => o.id)),
    ids: [...state!.tracks()].map((t) => t.id).sort((a, b) => a - b),
    passes,
  };
}

Deno.test("a user prompt on a discovered object takes it over: the discovered id is gone", async () => {
  // Frame 0: the pass adds both squares (ids 10 and 11, above the reserved prompt id 9). Frame 3:
  // the user names the left square 9.
  const { drawn, ids, passes } = await run([pointAt(9, 3, 22, 24)]);
  assert.deepEqual(passes[0].added, [10, 11]);
  assert.deepEqual(drawn.slice(0, 3), [[10, 11], [10, 11], [10, 11]]);
  assert.deepEqual(drawn.slice(3), [[9, 11], [9, 11], [9, 11], [9, 11]]);
  assert.deepEqual(ids, [9, 11], "no lost duplicate of the left square is kept");
  // Later passes confirm the prompted object; nothing re-acquires or re-adds the old id.
  for (const pass of passes.slice(2)) assert.deepEqual(pass.added, []);
});

Deno.test("prompts on both squares take both over; a prompt on the background takes nothing", async () => {
  const both = await run([pointAt(9, 3, 72, 24), pointAt(8, 3, 22, 24)]);
  assert.deepEqual(both.drawn.at(-1), [8, 9]);
  assert.deepEqual(both.ids, [8, 9]);
  const background = await run([pointAt(9, 3, 48, 4)]);
  assert.deepEqual(background.drawn[3].filter((id) => id !== 9), [10, 11]);
  assert.ok(background.ids.includes(10) && background.ids.includes(11));
});

Deno.test("an object the user named is never taken over by another user prompt", async () => {
  // The user names the left square 5 on frame 0, then names it 9 on frame 3 as well: both stay
  // (two named objects may overlap, e.g. a person and their coat), only discovered ids go.
  const { ids } = await run([pointAt(5, 0, 22, 24), pointAt(9, 3, 22, 24)]);
  assert.ok(ids.includes(5) && ids.includes(9), `ids ${ids}`);
});
