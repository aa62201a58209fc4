/**
 * Driving the pick page in a real Chromium: open it, click and drag on the frame in frame pixels,
 * wait for the mask drawn after a change, and read the drawn masks back from the canvas.
 * @module
 */
import { objectColors } from "../../src/render/palette.ts";
import type { Page } from "./browser.ts";

/*
 * The DOM as the page functions below use it (Deno's types have no DOM, and the "dom" lib would
 * change the types of every module checked together with this one).
 */
interface PageElement {
  readonly width: number;
  readonly height: number;
  readonly textContent: string | null;
  getBoundingClientRect(): { left: number; top: number; width: number; height: number };
  getContext(id: "2d"): {
    getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray };
  } | null;
}
interface PageVideo {
  readonly currentTime: number;
  readonly duration: number;
  src: string;
  play(): Promise<void>;
  addEventListener(type: "timeupdate", listener: () => void): void;
}
declare const document: {
  body: { dataset: Record<string, string | undefined> };
  getElementById(id: string): PageElement;
  querySelector(selector: "video"): PageVideo;
};

/** The page's facts for tests (`document.body.dataset`). */
export interface PageFacts {
  frame?: string;
  maskVersion?: string;
  latencyMs?: string;
  trackState?: string;
  error?: string;
}

/** Opens the page at `url` and waits until frame `frame` is drawn. */
export async function openPickPage(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await waitForFrame(page, 0);
}

/** Waits until frame `index` is drawn. */
export async function waitForFrame(page: Page, index: number): Promise<void> {
  await page.waitForFunction(
    (i: number) => document.body.dataset.frame === String(i),
    index,
    { timeout: 60_000 },
  );
}

/** The page's facts now. */
export function facts(page: Page): Promise<PageFacts> {
  return page.evaluate(() => ({ ...document.body.dataset }));
}

/** Client coordinates of frame pixel (x, y) (the page rounds them back to the same pixel). */
async function clientPoint(page: Page, x: number, y: number): Promise<[number, number]> {
  return await page.evaluate(([px, py]: number[]) => {
    const canvas = document.getElementById("mark-canvas");
    const rect = canvas.getBoundingClientRect();
    return [
      rect.left + px * rect.width / canvas.width,
      rect.top + py * rect.height / canvas.height,
    ];
  }, [x, y]);
}

/**
 * Runs `action` and resolves once the page has drawn masks again after it (the mask drawing
 * counter moved), failing with the page's error if it reports one.
 */
export async function afterMaskDrawn(page: Page, action: () => Promise<void>): Promise<void> {
  const before = Number((await facts(page)).maskVersion ?? 0);
  await action();
  await page.waitForFunction(
    (v: number) =>
      Number(document.body.dataset.maskVersion ?? 0) > v || document.body.dataset.error,
    before,
    { timeout: 60_000 },
  );
  const { error } = await facts(page);
  if (error) throw new Error(`the page failed: ${error}`);
}

/** Clicks frame pixel (x, y): a positive point, or a negative one with Shift or the right button. */
export async function clickFrame(
  page: Page,
  x: number,
  y: number,
  how: "positive" | "shift" | "right" = "positive",
): Promise<void> {
  const [cx, cy] = await clientPoint(page, x, y);
  if (how === "shift") await page.keyboard.down("Shift");
  await page.mouse.click(cx, cy, { button: how === "right" ? "right" : "left" });
  if (how === "shift") await page.keyboard.up("Shift");
}

/** Drags from one frame pixel to another: a box. */
export async function dragFrame(
  page: Page,
  [x0, y0, x1, y1]: readonly [number, number, number, number],
): Promise<void> {
  const [ax, ay] = await clientPoint(page, x0, y0);
  const [bx, by] = await clientPoint(page, x1, y1);
  await page.mouse.move(ax, ay);
  await page.mouse.down();
  await page.mouse.move(bx, by, { steps: 8 });
  await page.mouse.up();
}

/**
 * The drawn masks, read back from the mask canvas: 1 where a mask is drawn (object `id`'s, in its
 * fill or contour colour, if given), 0 elsewhere, row-major.
 */
export async function drawnMask(page: Page, id?: number): Promise<Uint8Array> {
  const colours = id === undefined ? null : [objectColors(id).fill, objectColors(id).contour];
  const bits: string = await page.evaluate((rgbs: (readonly number[])[] | null) => {
    const canvas = document.getElementById("mask-canvas");
    const { data } = canvas.getContext("2d")!.getImageData(0, 0, canvas.width, canvas.height);
    let out = "";
    for (let i = 0; i < data.length; i += 4) {
      const drawn = data[i + 3] > 0 &&
        (!rgbs ||
          rgbs.some(([r, g, b]) => data[i] === r && data[i + 1] === g && data[i + 2] === b));
      out += drawn ? "1" : "0";
    }
    return out;
  }, colours);
  return Uint8Array.from(bits, (c) => c === "1" ? 1 : 0);
}

/** The text of element `id`. */
export function textOf(page: Page, id: string): Promise<string> {
  return page.evaluate((i: string) => document.getElementById(i).textContent ?? "", id);
}

/** Plays the page's result video and resolves with its time once it has advanced. */
export function playResult(page: Page): Promise<number> {
  return page.evaluate(async () => {
    const video = document.querySelector("video");
    const advanced = new Promise<number>((resolve) =>
      video.addEventListener("timeupdate", () => {
        if (video.currentTime > 0) resolve(video.currentTime);
      })
    );
    await video.play();
    return await advanced;
  });
}
