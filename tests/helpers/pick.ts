/**
 * Helpers for the pick tests: a pick server in this process on a sample video (with the
 * region-growing test segmenter, or one held at an embedding until the test lets it go), raw HTTP
 * requests for what `fetch` will not send, and ground-truth coverage of a mask.
 * @module
 */
import type { Frame } from "../../src/frame.ts";
import { PickSession } from "../../src/pick/pick_session.ts";
import { type PickServer, startPickServer } from "../../src/pick/pick_server.ts";
import type { FrameEmbedding, Segmenter } from "../../src/segment/segmenter.ts";
import { parseInputSource } from "../../src/video/input_source.ts";
import { probeVideo } from "../../src/video/probe.ts";
import { RegionGrowingSegmenter } from "./region_growing_segmenter.ts";
import { SAMPLES_DIR } from "./sample_frames.ts";

/** A pick server on a sample, its output directory, and how to stop both. */
export interface PickFixture {
  readonly server: PickServer;
  readonly session: PickSession;
  readonly outputDir: string;
  /** `http://127.0.0.1:PORT` */
  readonly base: string;
  /** Fetches `path` with the token (header), JSON body if given. */
  api(path: string, body?: unknown, init?: RequestInit): Promise<Response>;
  close(): Promise<void>;
}

/** Starts a pick server on `samples/NAME/video.mp4` (or `video`) with `segmenter`. */
export async function startPick(
  options: {
    sample?: string;
    video?: string;
    segmenter?: Segmenter;
    modelFlags?: string[];
    embeddingsKept?: number;
  } = {},
): Promise<PickFixture> {
  const source = parseInputSource(
    options.video ?? `${SAMPLES_DIR}/${options.sample ?? "crossing"}/video.mp4`,
  );
  const info = await probeVideo(source);
  const segmenter = options.segmenter ?? new RegionGrowingSegmenter();
  const session = new PickSession(source, info, segmenter, options.embeddingsKept);
  const outputDir = await Deno.makeTempDir({ prefix: "pick_" });
  const server = await startPickServer({
    session,
    outputDir,
    ...(options.modelFlags ? { modelFlags: options.modelFlags } : {}),
  });
  const base = `http://127.0.0.1:${server.port}`;
  return {
    server,
    session,
    outputDir,
    base,
    api: (path, body, init = {}) =>
      fetch(`${base}${path}`, {
        method: body === undefined ? "GET" : "POST",
        ...init,
        headers: {
          "x-pick-token": server.token,
          ...(body === undefined ? {} : { "content-type": "application/json" }),
          ...init.headers,
        },
        ...(body === undefined
          ? {}
          : { body: typeof body === "string" ? body : JSON.stringify(body) }),
      }),
    close: async () => {
      await server.close();
      await segmenter.dispose();
      await Deno.remove(outputDir, { recursive: true });
    },
  };
}

/**
 * Sends `head` (request line and headers, without the blank line) and `body` as raw HTTP/1.1 to
 * 127.0.0.1:`port` and returns the status and the body text: a request target `fetch` would
 * normalize (`/../`), a Host header it would not send.
 */
export async function rawRequest(
  port: number,
  head: string,
  body = "",
): Promise<{ status: number; text: string }> {
  const connection = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const bytes = new TextEncoder().encode(body);
    const request = `${head}\r\nconnection: close\r\ncontent-length: ${bytes.length}\r\n\r\n`;
    await connection.write(new TextEncoder().encode(request));
    if (bytes.length > 0) await connection.write(bytes);
    const text = await new Response(connection.readable).text();
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? "0");
    return { status, text };
  } finally {
    try {
      connection.close();
    } catch {
      // closed by the server already
    }
  }
}

/** Share of the true pixels inside the mask, and share of the mask outside the truth. */
export function coverage(
  mask: ArrayLike<number>,
  truth: ArrayLike<number>,
): { covered: number; outside: number } {
  let truthArea = 0, inside = 0, maskArea = 0;
  for (let i = 0; i < truth.length; i++) {
    if (truth[i]) truthArea++;
    if (mask[i]) {
      maskArea++;
      if (truth[i]) inside++;
    }
  }
  return { covered: inside / truthArea, outside: maskArea ? (maskArea - inside) / maskArea : 0 };
}

/** An embedding held back: `held` resolves when it starts waiting, `release()` lets it go. */
export interface Hold {
  readonly held: Promise<void>;
  release(): void;
}

/** The region-growing segmenter, which can hold one embedding back until the test lets it go. */
export class HeldSegmenter extends RegionGrowingSegmenter {
  #embeds = 0;
  #hold?: { at: number; held: PromiseWithResolvers<void>; gate: PromiseWithResolvers<void> };

  /** Holds the `k`-th embedding from now (1: the next one). */
  holdNext(k: number): Hold {
    const hold = {
      at: this.#embeds + k,
      held: Promise.withResolvers<void>(),
      gate: Promise.withResolvers<void>(),
    };
    this.#hold = hold;
    return { held: hold.held.promise, release: () => hold.gate.resolve() };
  }

  override async embed(frame: Frame): Promise<FrameEmbedding & { rgb: Float32Array }> {
    const hold = this.#hold;
    if (++this.#embeds === hold?.at) {
      hold.held.resolve();
      await hold.gate.promise;
    }
    return await super.embed(frame);
  }
}
