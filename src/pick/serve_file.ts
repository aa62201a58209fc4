/**
 * Serving a file with HTTP byte ranges, as a `<video>` element asks for them when it seeks.
 * @module
 */

/**
 * The file at `path`, whole or the byte range the request asks for (206, or 416 for a range
 * outside it), with `headers` added; undefined if there is no such file.
 *
 * @example
 * ```ts
 * const response = await serveFile(request, "out/track/overlay.mp4", "video/mp4");
 * ```
 */
export async function serveFile(
  request: Request,
  path: string,
  type: string,
  extraHeaders: Record<string, string> = {},
): Promise<Response | undefined> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path);
  } catch {
    return undefined;
  }
  const size = (await file.stat()).size;
  const headers = { "content-type": type, "accept-ranges": "bytes", ...extraHeaders };
  const range = /^bytes=(\d*)-(\d*)$/.exec(request.headers.get("range") ?? "");
  if (!range || (range[1] === "" && range[2] === "")) {
    return new Response(file.readable, {
      headers: { ...headers, "content-length": String(size) },
    });
  }
  const start = range[1] === "" ? Math.max(0, size - Number(range[2])) : Number(range[1]);
  const end = range[1] !== "" && range[2] !== "" ? Math.min(Number(range[2]), size - 1) : size - 1;
  if (start > end || start >= size) {
    file.close();
    return new Response(null, {
      status: 416,
      headers: { ...headers, "content-range": `bytes */${size}` },
    });
  }
  await file.seek(start, Deno.SeekMode.Start);
  const length = end - start + 1;
  const body = file.readable.pipeThrough(limitBytes(length));
  return new Response(body, {
    status: 206,
    headers: {
      ...headers,
      "content-length": String(length),
      "content-range": `bytes ${start}-${end}/${size}`,
    },
  });
}

/** Passes the first `limit` bytes of a stream and ends it there. */
function limitBytes(limit: number): TransformStream<Uint8Array, Uint8Array> {
  let left = limit;
  return new TransformStream({
    transform(chunk, controller) {
      if (left <= 0) return;
      const part = chunk.byteLength > left ? chunk.subarray(0, left) : chunk;
      left -= part.byteLength;
      controller.enqueue(part);
      if (left <= 0) controller.terminate();
    },
  });
}
