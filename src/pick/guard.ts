/**
 * Who may talk to the pick server: requests addressed to it on loopback (Host), from its own page
 * or from no page at all (Origin, Sec-Fetch-Site), carrying its token; and request bodies that
 * are small JSON documents.
 * @module
 */

/** Largest request body read (a prompts document with hundreds of objects fits easily). */
export const MAX_BODY_BYTES = 256 * 1024;

/** A refused request: its status and a one-line reason. */
export class Refusal extends Error {
  override name = "Refusal";
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** A random token: 32 hex digits (128 bits). */
export function newToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Throws a {@link Refusal} unless `request` is addressed to `127.0.0.1:port` or
 * `localhost:port` (a page on another name resolving to loopback, DNS rebinding, is refused),
 * comes from this server's own page or from no page, and carries `token` in the `X-Pick-Token`
 * header or the `token` query parameter.
 */
export function checkRequest(request: Request, url: URL, port: number, token: string): void {
  const host = request.headers.get("host");
  const origins = [`127.0.0.1:${port}`, `localhost:${port}`];
  if (!host || !origins.includes(host.toLowerCase())) {
    throw new Refusal(403, `refused: host ${JSON.stringify(host)} is not this server`);
  }
  const origin = request.headers.get("origin");
  if (origin !== null && !origins.some((own) => origin.toLowerCase() === `http://${own}`)) {
    throw new Refusal(403, `refused: origin ${JSON.stringify(origin)} is not this page`);
  }
  if (request.headers.get("sec-fetch-site") === "cross-site") {
    throw new Refusal(403, "refused: a cross-site request");
  }
  const given = request.headers.get("x-pick-token") ?? url.searchParams.get("token") ?? "";
  if (!sameToken(given, token)) {
    throw new Refusal(401, given ? "refused: wrong token" : "refused: no token");
  }
}

/** Compares in time independent of where the strings differ. */
function sameToken(given: string, token: string): boolean {
  const a = new TextEncoder().encode(given), b = new TextEncoder().encode(token);
  let diff = a.length ^ b.length;
  for (let i = 0; i < b.length; i++) diff |= (a[i] ?? 0) ^ b[i];
  return diff === 0;
}

/**
 * The JSON body of `request`: refused unless it is `application/json` (which a form on another
 * site cannot send without the browser asking first), at most {@link MAX_BODY_BYTES}, and parses.
 */
export async function readJsonBody(request: Request): Promise<unknown> {
  const type = request.headers.get("content-type") ?? "";
  if (!/^application\/json\s*(;|$)/i.test(type)) {
    throw new Refusal(415, "the body must be application/json");
  }
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > MAX_BODY_BYTES) throw new Refusal(413, "the body is too large");
  if (!request.body) throw new Refusal(400, "the body is empty");
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of request.body) {
    size += chunk.byteLength;
    if (size > MAX_BODY_BYTES) throw new Refusal(413, "the body is too large");
    chunks.push(chunk);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  try {
    return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    throw new Refusal(400, "the body is not JSON");
  }
}
