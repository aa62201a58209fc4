/**
 * The pick page end to end in a real headless Chromium (Debian's, driven by playwright-core), on
 * `samples/crossing` with the region-growing test segmenter, and once with the fixture checkpoint:
 * masks are read back from the page's canvas and compared with the sample's ground truth.
 *
 * With `PICK_SCREENSHOTS=DIR` the page is also photographed after a click and after tracking
 * (`DIR/pick_click.png`, `DIR/pick_tracked.png`: the README's pictures, kept in `samples/`).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { decodeRle } from "../src/segment/rle.ts";
import type { Segmenter } from "../src/segment/segmenter.ts";
import { chromiumAvailable, type Page, withBrowser } from "./helpers/browser.ts";
import { filesUnder, TEST_CLI } from "./helpers/batch.ts";
import { coverage, HeldSegmenter, type PickFixture, startPick } from "./helpers/pick.ts";
import {
  afterMaskDrawn,
  clickFrame,
  dragFrame,
  drawnMask,
  facts,
  openPickPage,
  playResult,
  textOf,
  waitForFrame,
} from "./helpers/pick_page.ts";
import { sampleGroundTruth } from "./helpers/sample_frames.ts";
import { FIXTURE_DIR, sharedAvailable } from "./helpers/shared.ts";
import { runScriptCli } from "./helpers/video.ts";

const VIEWPORT = { width: 1280, height: 860 };
const SCREENSHOTS = Deno.env.get("PICK_SCREENSHOTS");
/** Points inside three objects of `samples/crossing` on frame 0 (ids as in its ground truth). */
const ELLIPSE = { id: 1, at: [120, 120] as const };
const BLOB = { id: 2, box: [372, 55, 479, 194] as const };
const SQUARE = { id: 3, at: [380, 210] as const };

/** Runs `body` with a pick server on the sample and a page open on it. */
function pickTest(
  name: string,
  body: (page: Page, pick: PickFixture) => Promise<void>,
  options: { segmenter?: () => Promise<Segmenter>; needsShared?: boolean } = {},
): void {
  Deno.test({
    name,
    ignore: !chromiumAvailable || (options.needsShared === true && !sharedAvailable),
    fn: async () => {
      const segmenter = options.segmenter ? await options.segmenter() : undefined;
      const pick = await startPick(segmenter ? { segmenter } : {});
      try {
        await withBrowser(async (page) => {
          await openPickPage(page, pick.server.url);
          await body(page, pick);
        }, { viewport: VIEWPORT });
      } finally {
        await pick.close();
      }
    },
  });
}

async function truthOf(id: number, frame = 0): Promise<Uint8Array> {
  const mask = (await sampleGroundTruth("crossing", frame)).get(id);
  assert.ok(mask, `object ${id} is in frame ${frame}`);
  return mask;
}

function assertCovers(mask: Uint8Array, truth: Uint8Array, what: string): void {
  const { covered, outside } = coverage(mask, truth);
  assert.ok(covered >= 0.9, `${what}: the drawn mask covers ${covered.toFixed(3)} of the object`);
  assert.ok(outside <= 0.1, `${what}: ${outside.toFixed(3)} of the drawn mask is outside it`);
}

pickTest("a click draws the object's mask at once, in its colour", async (page) => {
  await afterMaskDrawn(page, () => clickFrame(page, ...ELLIPSE.at));
  assertCovers(await drawnMask(page, 1), await truthOf(ELLIPSE.id), "click");
  assert.ok(Number((await facts(page)).latencyMs) > 0, "the click's latency is reported");
  assert.match(await textOf(page, "objects"), /object 1\s*frames 0/);
  if (SCREENSHOTS) await page.screenshot({ path: join(SCREENSHOTS, "pick_click.png") });
});

pickTest(
  "a negative point removes a region; undo puts it back; a drag is a box; Delete clears",
  async (page) => {
    const ellipse = await truthOf(ELLIPSE.id), square = await truthOf(SQUARE.id);
    await afterMaskDrawn(page, () => clickFrame(page, ...ELLIPSE.at));
    await afterMaskDrawn(page, () => clickFrame(page, ...SQUARE.at));
    assert.ok(coverage(await drawnMask(page), square).covered >= 0.9, "two points: both regions");
    await afterMaskDrawn(page, () => clickFrame(page, ...SQUARE.at, "shift"));
    let mask = await drawnMask(page);
    assert.ok(coverage(mask, ellipse).covered >= 0.9, "the ellipse stays");
    assert.ok(coverage(mask, square).covered <= 0.05, "shift-click removed the square");
    await afterMaskDrawn(page, () => page.keyboard.press("z"));
    assert.ok(coverage(await drawnMask(page), square).covered >= 0.9, "undo: the square is back");
    await afterMaskDrawn(page, () => clickFrame(page, ...SQUARE.at, "right"));
    mask = await drawnMask(page);
    assert.ok(coverage(mask, square).covered <= 0.05, "right-click removed the square");
    assert.ok(coverage(mask, ellipse).covered >= 0.9);
    // A new object: its own id and colour, prompted by a box.
    await page.keyboard.press("n");
    await afterMaskDrawn(page, () => dragFrame(page, BLOB.box));
    assertCovers(await drawnMask(page, 2), await truthOf(BLOB.id), "box");
    assertCovers(await drawnMask(page, 1), ellipse, "object 1 unchanged");
    // Clearing the selected object (object 2) removes it and its mask; object 1 stays.
    await afterMaskDrawn(page, () => page.keyboard.press("Delete"));
    assert.equal((await drawnMask(page, 2)).reduce((a, b) => a + b, 0), 0, "object 2 is gone");
    assertCovers(await drawnMask(page, 1), ellipse, "object 1 stays");
    assert.doesNotMatch(await textOf(page, "objects"), /object 2/);
  },
);

pickTest("everything finds the objects; clicking a found mask adopts it", async (page) => {
  await afterMaskDrawn(page, () => page.click("#everything"));
  assert.match(await textOf(page, "status"), /\d+ masks found/);
  await afterMaskDrawn(page, () => clickFrame(page, ...ELLIPSE.at));
  assertCovers(await drawnMask(page, 1), await truthOf(ELLIPSE.id), "adopted");
  assert.match(await textOf(page, "objects"), /object 1/);
});

{
  const segmenter = new HeldSegmenter();
  pickTest(
    "saved prompts.json reproduces the page's tracking with segment --prompts; the overlay plays",
    async (page, pick) => {
      // Object 1 on frame 0, object 2 on frame 0, and a correction of object 1 on frame 30.
      await afterMaskDrawn(page, () => clickFrame(page, ...ELLIPSE.at));
      await page.keyboard.press("n");
      await afterMaskDrawn(page, () => clickFrame(page, ...SQUARE.at));
      for (let i = 0; i < 3; i++) await page.keyboard.press("Shift+ArrowRight");
      await waitForFrame(page, 30);
      await page.click('#objects li[data-id="1"]');
      const later = innerPixel(await truthOf(ELLIPSE.id, 30));
      await afterMaskDrawn(page, () => clickFrame(page, ...later));
      assertCovers(
        await drawnMask(page, 1),
        await truthOf(ELLIPSE.id, 30),
        "correction on frame 30",
      );

      await page.click("#save");
      await page.waitForSelector("#command:not([hidden])");
      const shown = await textOf(page, "command");
      assert.ok(shown.startsWith("deno task segment --input "), shown);
      const saved = JSON.parse(await Deno.readTextFile(`${pick.outputDir}/prompts.json`));
      assert.deepEqual(saved, {
        objects: [
          {
            id: 1,
            prompts: [{ frame: 0, points: [[...ELLIPSE.at]] }, { frame: 30, points: [later] }],
          },
          { id: 2, prompts: [{ frame: 0, points: [[...SQUARE.at]] }] },
        ],
      });

      const hold = segmenter.holdNext(10);
      await page.click("#track");
      await hold.held;
      await page.waitForFunction(() =>
        /running: [1-9]\d* \/ 90 frames/.test(
          document.getElementById("track-status")?.textContent ?? "",
        )
      );
      hold.release();
      await page.waitForFunction(() => document.body.dataset.trackState === "done", null, {
        timeout: 120_000,
      });
      assert.match(await textOf(page, "track-status"), /done: 90 \/ 90 frames/);
      assert.ok(await playResult(page) > 0, "the overlay plays");
      if (SCREENSHOTS) {
        await page.screenshot({ path: join(SCREENSHOTS, "pick_tracked.png"), fullPage: true });
      }

      // The command the page showed after saving, with its outputs somewhere else.
      const elsewhere = await Deno.makeTempDir({ prefix: "pick_cli_" });
      try {
        const args = shellWords(shown).slice(3).map((arg) =>
          arg.replace(`${pick.outputDir}/track`, elsewhere)
        );
        const run = await runScriptCli(TEST_CLI, ["segment", ...args, "--quiet"]);
        assert.equal(run.code, 0, run.stderrLines.join("\n"));
        const [page_, cli] = await Promise.all([
          filesUnder(`${pick.outputDir}/track`),
          filesUnder(elsewhere),
        ]);
        const masks = (files: Map<string, Uint8Array>) =>
          [...files].filter(([path]) => path === "masks.jsonl" || path.startsWith("masks/"));
        assert.equal(masks(page_).length, 91, "masks.jsonl and 90 label maps");
        assert.deepEqual(masks(cli), masks(page_), "segment --prompts reproduces the page's masks");
      } finally {
        await Deno.remove(elsewhere, { recursive: true });
      }
    },
    { segmenter: () => Promise.resolve(segmenter) },
  );
}

{
  const segmenter = new HeldSegmenter();
  pickTest(
    "Cancel stops a tracking run from the page and nothing is left",
    async (page, pick) => {
      await afterMaskDrawn(page, () => clickFrame(page, ...ELLIPSE.at));
      const hold = segmenter.holdNext(5);
      await page.click("#track");
      await hold.held;
      await page.click("#cancel");
      await page.waitForFunction(() => document.body.dataset.cancelRequested === "true");
      hold.release();
      await page.waitForFunction(() => document.body.dataset.trackState === "cancelled");
      assert.match(await textOf(page, "track-status"), /^cancelled/);
      assert.deepEqual([...Deno.readDirSync(pick.outputDir)], [], "no outputs");
    },
    { segmenter: () => Promise.resolve(segmenter) },
  );
}

pickTest(
  "with the fixture checkpoint a click draws exactly the model's mask",
  async (page, pick) => {
    const at = [240, 135] as const;
    await afterMaskDrawn(page, () => clickFrame(page, ...at));
    const answer = await (await pick.api("/api/decode", {
      frame: 0,
      objects: [{ id: 1, points: [at], negativePoints: [] }],
    })).json();
    const expected = decodeRle(answer.masks[0].rle).data;
    const drawn = await drawnMask(page, 1);
    assert.deepEqual(drawn, expected);
  },
  {
    needsShared: true,
    segmenter: async () => {
      const { openSegmenter } = await import("../src/model/open_segmenter.ts");
      return await openSegmenter(
        { checkpoint: `${FIXTURE_DIR}/tinysam_random.pth`, precision: "fp32" },
        { onProgress: () => {}, onDownloadProgress: () => {} },
      );
    },
  },
);

/** A pixel deep inside a mask: the centre of its middle row's longest run. */
function innerPixel(mask: Uint8Array, width = 480): [number, number] {
  const rows = [
    ...new Set([...mask.keys()].filter((i) => mask[i]).map((i) => Math.floor(i / width))),
  ];
  const y = rows[rows.length >> 1];
  const xs = [...Array(width).keys()].filter((x) => mask[y * width + x]);
  return [xs[xs.length >> 1], y];
}

/** Splits a command line quoted as the page quotes it (single quotes). */
function shellWords(line: string): string[] {
  const words: string[] = [];
  for (const match of line.matchAll(/'((?:[^']|'\\'')*)'|(\S+)/g)) {
    words.push(match[1] !== undefined ? match[1].replaceAll(`'\\''`, "'") : match[2]);
  }
  return words;
}

declare const document: {
  body: { dataset: Record<string, string | undefined> };
  getElementById(id: string): { textContent: string | null } | null;
};
