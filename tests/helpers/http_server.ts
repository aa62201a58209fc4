/**
 * A real HTTP server on 127.0.0.1 (Deno.serve, port 0) for download tests: routes by path,
 * a log of every request, and responses that misbehave the ways real servers do (a body cut
 * off before its Content-Length, no Content-Length, a stall, redirects).
 * @module
 */

/** Answers one request. */
export type Route = (request: Request) => Response | Promise<Response>;

/** A running test server. */
export interface TestServer {
  /** `http://127.0.0.1:<port>` */
  readonly baseUrl: string;
  /** Paths requested so far, in order. */
  readonly requests: string[];
  /** How many requests asked for `path`. */
  count(path: string): number;
  /** Stops the server (also aborts streams still being sent). */
  close(): Promise<void>;
}

/**
 * Starts a server answering each path with its route and everything else with 404.
 *
 * @example
 * ```ts ignore
 * const server = serveRoutes({ "/model.pth": () => new Response(bytes) });
 * await fetch(`${server.baseUrl}/model.pth`);
 * await server.close();
 * ```
 */
export function serveRoutes(routes: Readonly<Record<string, Route>>): TestServer {
  const requests: string[] = [];
  const stop = new AbortController();
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    signal: stop.signal,
    onListen: () => {},
    // A body cut off on purpose surfaces here; the client side is what the tests check.
    onError: () => new Response("server error", { status: 500 }),
  }, (request) => {
    const path = new URL(request.url).pathname;
    requests.push(path);
    const route = routes[path];
    return route
      ? route(request)
      : new Response("not found", { status: 404, statusText: "Not Found" });
  });
  return {
    baseUrl: `http://127.0.0.1:${server.addr.port}`,
    requests,
    count: (path) => requests.filter((requested) => requested === path).length,
    close: async () => {
      stop.abort();
      await server.finished;
    },
  };
}

/** The whole file, with Content-Length. */
export function fileResponse(bytes: Uint8Array): Response {
  return new Response(bytes.slice(), { headers: { "content-type": "application/octet-stream" } });
}

/** Announces all of `bytes` in Content-Length, sends the first `sentBytes`, then drops the connection. */
export function truncatedResponse(bytes: Uint8Array, sentBytes: number): Response {
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(bytes.slice(0, sentBytes));
      controller.close();
    },
  });
  return new Response(body, { headers: { "content-length": String(bytes.length) } });
}

/** `totalBytes` of zeros in 1 MiB chunks without Content-Length (chunked transfer). */
export function unsizedResponse(totalBytes: number): Response {
  let sent = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      const size = Math.min(1 << 20, totalBytes - sent);
      if (size <= 0) return controller.close();
      controller.enqueue(new Uint8Array(size));
      sent += size;
    },
  });
  return new Response(body);
}

/** Sends `sentBytes` of zeros, announcing `announcedBytes`, then nothing more until the client gives up. */
export function stallingResponse(announcedBytes: number, sentBytes: number): Response {
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new Uint8Array(sentBytes));
    },
  });
  return new Response(body, { headers: { "content-length": String(announcedBytes) } });
}

/** A redirect to `location` (GitHub release URLs answer 302 to a storage host). */
export function redirectResponse(location: string, status = 302): Response {
  return new Response(null, { status, headers: { location } });
}

/** A URL on 127.0.0.1 where nothing listens (a port bound and released again). */
export function closedPortUrl(path: string): string {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return `http://127.0.0.1:${port}${path}`;
}
