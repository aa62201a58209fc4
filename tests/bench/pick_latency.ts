/**
 * Click-to-mask latency of the pick page in a real headless Chromium with the fixture checkpoint
 * on a 720p video (`../shared/clips/bedroom.mp4` scaled to 1280x720): from the pointer's release
 * to the mask drawn (the page's own measure, `performance.now()` at `pointerup` to the frame after
 * the canvas is painted), for clicks on a frame whose embedding is cached, and for the first click
 * on a frame not seen before (its embedding computed then).
 *
 * `deno run -A tests/bench/pick_latency.ts [--clicks 20] [--new-frames 5] [--precision fp32,int8]`
 * @module
 */
import { parseArgs } from "node:util";
import { openSegmenter } from "../../src/model/open_segmenter.ts";
import type { Precision } from "../../src/model/precision.ts";
import { chromiumAvailable, withBrowser } from "../helpers/browser.ts";
import { startPick } from "../helpers/pick.ts";
import {
  afterMaskDrawn,
  clickFrame,
  facts,
  openPickPage,
  textOf,
  waitForFrame,
} from "../helpers/pick_page.ts";
import { CLIPS_DIR, FIXTURE_DIR, sharedAvailable } from "../helpers/shared.ts";
import { ffmpeg } from "../helpers/video.ts";

const WIDTH = 1280, HEIGHT = 720;

interface Click {
  readonly latencyMs: number;
  readonly embedMs: number;
  readonly decodeMs: number;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** Points spread over the frame (a 5x4 grid inset from the borders). */
function spread(n: number): [number, number][] {
  return Array.from({ length: n }, (_, i) => [
    Math.round(WIDTH * (0.1 + 0.8 * ((i % 5) / 4))),
    Math.round(HEIGHT * (0.15 + 0.7 * ((Math.floor(i / 5) % 4) / 3))),
  ]);
}

async function measure(
  video: string,
  precision: Precision,
  clicks: number,
  newFrames: number,
): Promise<{ cached: Click[]; fresh: Click[] }> {
  const segmenter = await openSegmenter(
    { checkpoint: `${FIXTURE_DIR}/tinysam_random.pth`, precision },
    { onProgress: (line) => console.error(`  ${line}`), onDownloadProgress: () => {} },
  );
  const pick = await startPick({ video, segmenter });
  try {
    return await withBrowser(async (page) => {
      await openPickPage(page, pick.server.url);
      const click = async (x: number, y: number): Promise<Click> => {
        await afterMaskDrawn(page, () => clickFrame(page, x, y));
        const status = await textOf(page, "status");
        const [, embed, decode] = /embedding (\d+) ms, decoder (\d+) ms/.exec(status) ?? [];
        return {
          latencyMs: Number((await facts(page)).latencyMs),
          embedMs: Number(embed),
          decodeMs: Number(decode),
        };
      };
      const fresh: Click[] = [await click(WIDTH / 2, HEIGHT / 2)];
      await afterMaskDrawn(page, () => page.keyboard.press("z"));
      const cached: Click[] = [];
      for (const [x, y] of spread(clicks)) {
        cached.push(await click(x, y));
        // One point at a time: undo, so that every click decodes a single-point prompt.
        await afterMaskDrawn(page, () => page.keyboard.press("z"));
      }
      for (let frame = 1; frame < newFrames; frame++) {
        await page.keyboard.press("ArrowRight");
        await waitForFrame(page, frame);
        fresh.push(await click(WIDTH / 2, HEIGHT / 2));
      }
      return { cached, fresh };
    }, { viewport: { width: 1600, height: 1000 } });
  } finally {
    await pick.close();
  }
}

if (import.meta.main) {
  if (!sharedAvailable || !chromiumAvailable) {
    console.error("skipped: needs ../shared (fixture checkpoint, clips) and chromium");
    Deno.exit(0);
  }
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      clicks: { type: "string", default: "20" },
      "new-frames": { type: "string", default: "5" },
      precision: { type: "string", default: "fp32,int8" },
    },
  });
  const dir = await Deno.makeTempDir({ prefix: "pick-latency-" });
  try {
    const video = `${dir}/bedroom720.mp4`;
    await ffmpeg([
      "-i",
      `${CLIPS_DIR}/bedroom.mp4`,
      "-vf",
      `scale=${WIDTH}:${HEIGHT}`,
      "-frames:v",
      "30",
      "-an",
      "-c:v",
      "libx264",
      "-pix_fmt",
      "yuv420p",
      video,
    ]);
    const rows: string[] = [];
    for (const precision of values.precision!.split(",") as Precision[]) {
      console.error(`${precision}:`);
      const { cached, fresh } = await measure(
        video,
        precision,
        Number(values.clicks),
        Number(values["new-frames"]),
      );
      const ms = (x: number) => `${x.toFixed(0)} ms`;
      rows.push(
        `| ${precision} | ${ms(median(cached.map((c) => c.latencyMs)))} (p90 ${
          ms(quantile(cached.map((c) => c.latencyMs), 0.9))
        }) | ${ms(median(cached.map((c) => c.decodeMs)))} | ${
          ms(median(fresh.map((c) => c.latencyMs)))
        } | ${ms(median(fresh.map((c) => c.embedMs)))} |`,
      );
    }
    console.log(
      `\nfixture checkpoint, ${WIDTH}x${HEIGHT}; ${values.clicks} clicks on a frame with its embedding cached ` +
        `(median), first click on ${values["new-frames"]} frames not seen before (median)\n`,
    );
    console.log(
      "| precision | click to mask, embedding cached | of which server decode | first click on a new frame | of which embedding |",
    );
    console.log("| --- | --- | --- | --- | --- |");
    for (const row of rows) console.log(row);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
