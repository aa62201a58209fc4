/**
 * The browser helper against a real Chromium: a page served from 127.0.0.1 draws on a canvas
 * that the test reads back, a <video> plays a clip that ffmpeg made, served with Range
 * requests as a real server would, and errors in the page fail withBrowser.
 */
import assert from "node:assert/strict";
import { chromiumAvailable, type Page, withBrowser } from "./helpers/browser.ts";
import { ffmpeg } from "./helpers/video.ts";

/*
 * The DOM as the page functions below use it. Deno's types have no DOM, and adding the "dom"
 * lib would change the types of every module checked together with this one.
 */
interface PageCanvas {
  dataset: Record<string, string | undefined>;
  getContext(id: "2d"): { getImageData(x: number, y: number, w: number, h: number): ImageData };
}
interface PageVideo {
  muted: boolean;
  src: string;
  readonly currentTime: number;
  readonly readyState: number;
  readonly error: { code: number; message: string } | null;
  canPlayType(type: string): string;
  play(): Promise<void>;
  pause(): void;
  getVideoPlaybackQuality(): { totalVideoFrames: number };
  addEventListener(type: "timeupdate" | "ended" | "error", listener: () => void): void;
}
declare const document: {
  getElementById(id: "canvas"): PageCanvas | null;
  createElement(tag: "video"): PageVideo;
  body: { append(node: PageVideo): void };
};

const CANVAS_PAGE = `<!doctype html>
<html>
<head><meta charset="utf-8"><title>canvas</title><link rel="icon" href="data:,"></head>
<body>
<canvas id="canvas" width="64" height="48"></canvas>
<script type="module">
  const canvas = document.getElementById("canvas");
  const context = canvas.getContext("2d");
  context.fillStyle = "rgb(255, 0, 0)";
  context.fillRect(8, 8, 32, 16);
  canvas.dataset.drawn = "yes";
</script>
</body>
</html>`;

const BLANK_PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><link rel="icon" href="data:,"></head><body></body></html>`;

/** A file answered whole, or in part for a `Range: bytes=a-b` request (206). */
function serveFile(request: Request, bytes: Uint8Array, type: string): Response {
  const size = bytes.length;
  const headers = { "content-type": type, "accept-ranges": "bytes" };
  const match = /^bytes=(\d*)-(\d*)$/.exec(request.headers.get("range") ?? "");
  if (!match || (match[1] === "" && match[2] === "")) {
    return new Response(bytes.slice(), { headers });
  }
  const [start, end] = match[1] === ""
    ? [Math.max(0, size - Number(match[2])), size - 1]
    : [Number(match[1]), match[2] === "" ? size - 1 : Math.min(Number(match[2]), size - 1)];
  if (start > end || start >= size) {
    return new Response(null, { status: 416, headers: { "content-range": `bytes */${size}` } });
  }
  return new Response(bytes.slice(start, end + 1), {
    status: 206,
    headers: { ...headers, "content-range": `bytes ${start}-${end}/${size}` },
  });
}

interface TestSite {
  readonly baseUrl: string;
  /** `path status` of every response, in order. */
  readonly log: string[];
  close(): Promise<void>;
}

/** Serves the two pages and the given files on 127.0.0.1. */
function serveSite(files: Record<string, { bytes: Uint8Array; type: string }>): TestSite {
  const log: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (request) => {
    const path = new URL(request.url).pathname;
    const file = files[path];
    const response = path === "/canvas.html"
      ? new Response(CANVAS_PAGE, { headers: { "content-type": "text/html" } })
      : path === "/blank.html"
      ? new Response(BLANK_PAGE, { headers: { "content-type": "text/html" } })
      : file
      ? serveFile(request, file.bytes, file.type)
      : new Response("not found", { status: 404 });
    log.push(`${path} ${response.status}`);
    return response;
  });
  return {
    baseUrl: `http://127.0.0.1:${server.addr.port}`,
    log,
    close: () => server.shutdown(),
  };
}

/** What became of playing one clip in a <video>. */
interface Playback {
  canPlayType: string;
  played: boolean;
  currentTime: number;
  decodedFrames: number;
  error?: string;
}

/**
 * Plays `src` muted in a new <video> and settles on the first of: time moving past 0, the end,
 * an error. The page's own 60 s timer only guards against a hang.
 */
function play(page: Page, src: string, type: string): Promise<Playback> {
  return page.evaluate(({ src, type }) => {
    const video = document.createElement("video");
    video.muted = true;
    document.body.append(video);
    return new Promise<Playback>((resolve) => {
      const settle = (played: boolean, error?: string) => {
        video.pause();
        resolve({
          canPlayType: video.canPlayType(type),
          played,
          currentTime: video.currentTime,
          decodedFrames: video.getVideoPlaybackQuality().totalVideoFrames,
          ...(error === undefined ? {} : { error }),
        });
      };
      video.addEventListener("timeupdate", () => {
        if (video.currentTime > 0) settle(true);
      });
      video.addEventListener("ended", () => settle(true));
      video.addEventListener("error", () => {
        settle(false, `media error ${video.error?.code}: ${video.error?.message}`);
      });
      setTimeout(
        () => settle(false, `no progress in 60 s (readyState ${video.readyState})`),
        60_000,
      );
      video.src = src;
      video.play().catch((error: Error) =>
        settle(false, `play(): ${error.name}: ${error.message}`)
      );
    });
  }, { src, type });
}

Deno.test({
  name: "withBrowser: a module script's canvas drawing is read back through getImageData",
  ignore: !chromiumAvailable,
  fn: async () => {
    const site = serveSite({});
    try {
      const pixels = await withBrowser(async (page) => {
        await page.goto(`${site.baseUrl}/canvas.html`);
        await page.waitForFunction(() => document.getElementById("canvas")?.dataset.drawn);
        return await page.evaluate(() => {
          const data =
            document.getElementById("canvas")!.getContext("2d").getImageData(0, 0, 64, 48)
              .data;
          const at = (x: number, y: number) =>
            Array.from(data.slice((y * 64 + x) * 4, (y * 64 + x) * 4 + 4));
          return {
            inside: [at(8, 8), at(39, 23), at(20, 15)],
            outside: [at(7, 8), at(40, 23), at(8, 24)],
          };
        });
      }, { viewport: { width: 320, height: 240 } });
      for (const pixel of pixels.inside) assert.deepEqual(pixel, [255, 0, 0, 255]);
      for (const pixel of pixels.outside) assert.deepEqual(pixel, [0, 0, 0, 0]);
      assert.deepEqual(site.log, ["/canvas.html 200"]);
    } finally {
      await site.close();
    }
  },
});

Deno.test({
  name: "withBrowser: a <video> plays an H.264 mp4 served with Range requests",
  ignore: !chromiumAvailable,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "browser_video_" });
    const files: Record<string, { bytes: Uint8Array; type: string }> = {};
    const encode = async (name: string, type: string, codec: readonly string[]) => {
      await ffmpeg([
        ...["-f", "lavfi", "-i", "testsrc=size=64x64:rate=10", "-t", "1"],
        ...[...codec, "-pix_fmt", "yuv420p", `${dir}/${name}`],
      ]);
      files[`/${name}`] = { bytes: await Deno.readFile(`${dir}/${name}`), type };
    };
    await encode("out.mp4", "video/mp4", ["-c:v", "libx264", "-movflags", "+faststart"]);
    const site = serveSite(files);
    try {
      const { h264, vp9 } = await withBrowser(async (page) => {
        await page.goto(`${site.baseUrl}/blank.html`);
        const h264 = await play(page, "/out.mp4", 'video/mp4; codecs="avc1.42E01E"');
        if (h264.played) return { h264 };
        // Tells on failure whether this Chromium plays video at all or lacks only H.264.
        await encode("out.webm", "video/webm", ["-c:v", "libvpx-vp9"]);
        return { h264, vp9: await play(page, "/out.webm", 'video/webm; codecs="vp9"') };
      });
      const outcome = `H.264 mp4: ${JSON.stringify(h264)}; VP9 webm: ${JSON.stringify(vp9)}`;
      assert.ok(h264.played && h264.decodedFrames > 0, outcome);
      assert.ok(site.log.includes("/out.mp4 206"), site.log.join(", "));
    } finally {
      await site.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "withBrowser: fails on the page's errors unless they are allowed",
  ignore: !chromiumAvailable,
  fn: async () => {
    const faulty = `<script>console.error("logged"); throw new Error("thrown");</script>`;
    await assert.rejects(
      withBrowser(async (page) => {
        await page.setContent(faulty);
      }),
      (error: Error) => {
        assert.match(error.message, /^the page reported 2 error\(s\):\n/);
        assert.match(error.message, /^console\.error: logged$/m);
        assert.match(error.message, /^uncaught Error: thrown$/m);
        return true;
      },
    );
    const allowed = await withBrowser(async (page) => {
      await page.setContent(faulty);
      return "done";
    }, { allowPageErrors: true });
    assert.equal(allowed, "done");
    await assert.rejects(
      withBrowser(async (page) => {
        await page.setContent(faulty);
        throw new Error("from fn");
      }),
      /^Error: from fn$/,
    );
  },
});
