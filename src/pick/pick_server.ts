/**
 * The click-to-segment web server: one page (plain JS modules from `src/pick/web/`, no build
 * step), the input's frames, prompt decodes and everything passes on the session's model, saving
 * prompts, and tracking runs with their overlay. Listens on 127.0.0.1 only; every request needs
 * the token and passes `guard.ts`; a bad request is a 4xx answer and the server keeps serving.
 *
 * The pick page is a front end like the command line: it sits on the top floor with `src/cli/`
 * and runs tracking through the segment command's own run.
 * @module
 */
import { basename, join } from "node:path";
import { z } from "zod";
import { writeFileAtomic } from "../fs/write_file_atomic.ts";
import {
  MAX_OBJECT_ID,
  parsePromptsJson,
  PromptError,
  type PromptsFile,
  resolvePrompts,
} from "../segment/prompts.ts";
import { FrameOutOfRangeError } from "../video/frame_at.ts";
import { checkRequest, newToken, readJsonBody, Refusal } from "./guard.ts";
import { serveFile } from "./serve_file.ts";
import { ModelBusyError, type PickSession } from "./pick_session.ts";
import { segmentCommand, TRACK_FILES, TrackRunner } from "./track_run.ts";

/** The page's files, by the path they are served at. */
const ASSETS: Record<string, { file: string; type: string }> = {
  "/": { file: "index.html", type: "text/html; charset=utf-8" },
  "/pick.js": { file: "pick.js", type: "text/javascript; charset=utf-8" },
  "/pick.css": { file: "pick.css", type: "text/css; charset=utf-8" },
};
const WEB_DIR = new URL("./web/", import.meta.url);

/** The page's scripts and media come from this server only; it may not be framed. */
const SECURITY_HEADERS = {
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; " +
    "media-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-store",
};

const coordinate = z.number().check(z.refine(Number.isFinite, "must be a finite number"));
const point = z.tuple([coordinate, coordinate]);
const frameIndex = z.number().int().min(0);
const decodeRequest = z.strictObject({
  frame: frameIndex,
  objects: z.array(z.strictObject({
    id: z.number().int().min(1).max(MAX_OBJECT_ID),
    points: z.array(point).max(100),
    negativePoints: z.array(point).max(100),
    box: z.tuple([coordinate, coordinate, coordinate, coordinate]).optional(),
  })).max(256),
});
const everythingRequest = z.strictObject({ frame: frameIndex });
const trackOptions = z.strictObject({
  stride: z.union([z.literal("auto"), z.number().int().min(1).max(1000)]).optional(),
  everythingEvery: z.number().int().min(1).optional(),
});
const saveRequest = z.strictObject({ prompts: z.unknown(), options: trackOptions.optional() });
const trackRequest = z.strictObject({ prompts: z.unknown(), options: trackOptions });

/** How the server is set up. */
export interface PickServerOptions {
  readonly session: PickSession;
  /** Where prompts.json and the tracking runs (`track/`) go. */
  readonly outputDir: string;
  /** Model flags of the equivalent `segment` command (`--checkpoint`, `--precision`, ...). */
  readonly modelFlags?: readonly string[];
  /** Port on 127.0.0.1 (default: a free one). */
  readonly port?: number;
  /** The token (default: a new random one). */
  readonly token?: string;
  /** Called with each request's failure that is not the client's fault (a 5xx answer). */
  readonly onError?: (error: unknown) => void;
}

/** A running pick server. */
export interface PickServer {
  /** `http://127.0.0.1:PORT/?token=TOKEN` */
  readonly url: string;
  readonly port: number;
  readonly token: string;
  readonly tracking: TrackRunner;
  /** Stops a tracking run under way (its outputs discarded), then the server. */
  close(): Promise<void>;
}

/**
 * Starts the pick server for `options.session`.
 *
 * @example
 * ```ts
 * const server = await startPickServer({ session, outputDir: "clip.pick" });
 * console.log(server.url); // http://127.0.0.1:41237/?token=...
 * ```
 */
export async function startPickServer(options: PickServerOptions): Promise<PickServer> {
  const { session, outputDir } = options;
  const token = options.token ?? newToken();
  const modelFlags = options.modelFlags ?? [];
  const tracking = new TrackRunner(session, join(outputDir, "track"), modelFlags);
  const assets = await loadAssets(token);
  let port = 0;

  const routes: Record<string, (request: Request, url: URL) => Promise<Response>> = {
    "GET /api/video": () =>
      Promise.resolve(json({
        name: basename(session.source.spec),
        input: session.source.spec,
        width: session.info.width,
        height: session.info.height,
        fps: session.info.fps,
        // Containers that do not state a count: estimated from the duration.
        frameCount: session.info.frameCount ??
          (session.info.durationSeconds
            ? Math.floor(session.info.durationSeconds * session.info.fps)
            : null),
        outputDir,
      })),
    "POST /api/decode": async (request) => {
      const body = parse(decodeRequest, await readJsonBody(request));
      checkFrame(body.frame);
      for (const object of body.objects) {
        checkPrompt(object, body.frame);
      }
      return json({ frame: body.frame, ...await session.decode(body.frame, body.objects) });
    },
    "POST /api/everything": async (request) => {
      const body = parse(everythingRequest, await readJsonBody(request));
      checkFrame(body.frame);
      return json({ frame: body.frame, ...await session.everything(body.frame) });
    },
    "POST /api/save": async (request) => {
      const body = parse(saveRequest, await readJsonBody(request));
      const prompts = checkPrompts(body.prompts);
      await Deno.mkdir(outputDir, { recursive: true });
      const promptsPath = join(outputDir, "prompts.json");
      await writeFileAtomic(
        promptsPath,
        new TextEncoder().encode(JSON.stringify(prompts, null, 2) + "\n"),
      );
      const command = segmentCommand(
        session.source.spec,
        promptsPath,
        join(outputDir, "track"),
        body.options ?? {},
        modelFlags,
      );
      return json({ prompts: promptsPath, command, tracked: await trackedFiles() });
    },
    "POST /api/track": async (request) => {
      const body = parse(trackRequest, await readJsonBody(request));
      return json(tracking.start(checkPrompts(body.prompts), body.options), 202);
    },
    "GET /api/track": () => Promise.resolve(json(tracking.state)),
    "POST /api/track/cancel": () => {
      tracking.cancel();
      return Promise.resolve(json(tracking.state));
    },
    "GET /api/track/overlay.mp4": async (request) => {
      const response = await serveFile(
        request,
        join(outputDir, "track", TRACK_FILES.overlay),
        "video/mp4",
        SECURITY_HEADERS,
      );
      if (!response) throw new Refusal(404, "nothing tracked yet");
      return response;
    },
  };

  async function trackedFiles(): Promise<string[]> {
    const files: string[] = [];
    for (const file of Object.values(TRACK_FILES)) {
      const path = join(outputDir, "track", file);
      if (await exists(path)) files.push(path);
    }
    return files;
  }

  function checkFrame(index: number): void {
    const count = session.info.frameCount;
    if (count !== undefined && index >= count) {
      throw new Refusal(404, `frame ${index} is past the end (the video has ${count} frames)`);
    }
  }

  /** A decode's prompt checked as a prompts file's would be (the same one-line reasons). */
  function checkPrompt(object: z.infer<typeof decodeRequest>["objects"][number], frame: number) {
    if (object.points.length === 0 && !object.box) {
      throw new Refusal(400, `object ${object.id}: a prompt needs a positive point or a box`);
    }
    const { id, ...prompt } = object;
    checkPrompts({ objects: [{ id, prompts: [{ frame, ...prompt }] }] });
  }

  /**
   * Checks a prompts document exactly as `segment --prompts` does (schema, ids, boxes, frames
   * and coordinates within the video); throws its PromptError.
   */
  function checkPrompts(document: unknown): PromptsFile {
    const text = JSON.stringify(document);
    resolvePrompts(parsePromptsJson(text, "the page's prompts"), session.info);
    return JSON.parse(text);
  }

  async function handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    try {
      checkRequest(request, url, port, token);
      if (request.method === "GET" && assets.has(url.pathname)) {
        const asset = assets.get(url.pathname)!;
        return new Response(asset.body, {
          headers: { "content-type": asset.type, ...SECURITY_HEADERS },
        });
      }
      const frame = /^\/api\/frame\/(\d{1,9})$/.exec(url.pathname);
      if (frame && request.method === "GET") return await frameResponse(Number(frame[1]));
      const route = routes[`${request.method} ${url.pathname}`];
      if (route) return await route(request, url);
      const known = Object.keys(routes).some((key) => key.endsWith(` ${url.pathname}`)) ||
        assets.has(url.pathname);
      throw new Refusal(known ? 405 : 404, known ? "method not allowed" : "not found");
    } catch (error) {
      return errorResponse(error);
    }
  }

  async function frameResponse(index: number): Promise<Response> {
    checkFrame(index);
    const frame = await session.frame(index);
    return new Response(frame.data as Uint8Array<ArrayBuffer>, {
      headers: {
        "content-type": "application/octet-stream",
        "x-frame-width": String(frame.width),
        "x-frame-height": String(frame.height),
        "x-embedding-cached": String(session.hasEmbedding(index)),
        ...SECURITY_HEADERS,
      },
    });
  }

  function errorResponse(error: unknown): Response {
    if (error instanceof Refusal) return json({ error: error.message }, error.status);
    if (error instanceof PromptError) return json({ error: error.message }, 400);
    if (error instanceof ModelBusyError) return json({ error: error.message }, 409);
    if (error instanceof FrameOutOfRangeError) return json({ error: error.message }, 404);
    options.onError?.(error);
    const message = error instanceof Error ? error.message.split("\n")[0] : String(error);
    return json({ error: message }, 500);
  }

  const ready = Promise.withResolvers<Deno.NetAddr>();
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: options.port ?? 0,
    onListen: (addr) => ready.resolve(addr as Deno.NetAddr),
    onError: errorResponse,
  }, handle);
  port = (await ready.promise).port;
  return {
    url: `http://127.0.0.1:${port}/?token=${token}`,
    port,
    token,
    tracking,
    close: async () => {
      tracking.cancel();
      await tracking.finished;
      await server.shutdown();
    },
  };
}

function parse<T>(schema: z.ZodType<T>, value: unknown): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const where = issue.path.length > 0 ? `${issue.path.join(".")}: ` : "";
  throw new Refusal(400, `bad request: ${where}${issue.message}`);
}

function json(value: unknown, status = 200): Response {
  return new Response(JSON.stringify(value), {
    status,
    headers: { "content-type": "application/json; charset=utf-8", ...SECURITY_HEADERS },
  });
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/** The page's files with the token written into the HTML's asset addresses. */
async function loadAssets(token: string): Promise<Map<string, { body: string; type: string }>> {
  const loaded = new Map<string, { body: string; type: string }>();
  for (const [path, { file, type }] of Object.entries(ASSETS)) {
    const text = await Deno.readTextFile(new URL(file, WEB_DIR));
    loaded.set(path, { body: text.replaceAll("{{TOKEN}}", token), type });
  }
  return loaded;
}
