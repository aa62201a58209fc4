/**
 * Downloading a checkpoint: streamed to a temporary file beside the destination, hashed
 * while it streams, and renamed into place only when it is complete and as expected.
 * @module
 */
import { createHash } from "node:crypto";
import { formatMegabyteRange, formatMegabytes } from "./megabytes.ts";
import { ModelError } from "./model_error.ts";

/** Inclusive byte range a download must fall in. */
export interface ByteRange {
  readonly min: number;
  readonly max: number;
}

/** What a good download looks like. */
export interface DownloadExpectation {
  /** Accepted sizes. */
  readonly bytes: ByteRange;
  /** Lower-case hex SHA-256 the file must have, or null when unknown. */
  readonly sha256: string | null;
}

/** How far a download has come. */
export interface DownloadProgress {
  readonly receivedBytes: number;
  /** From Content-Length; null when the server did not say. */
  readonly totalBytes: number | null;
  readonly elapsedSeconds: number;
  /** True on the last report, sent once whether the download succeeded or failed. */
  readonly done: boolean;
}

/** Options of {@link downloadFile}. */
export interface DownloadOptions {
  readonly expected: DownloadExpectation;
  /** Called as bytes arrive (at most about ten times a second) and once with `done` at the end. */
  readonly onProgress?: (progress: DownloadProgress) => void;
  /** Give up when no byte arrives for this long (default 60 000 ms). */
  readonly idleTimeoutMs?: number;
}

/** A completed download. */
export interface DownloadedFile {
  readonly path: string;
  readonly bytes: number;
  readonly sha256: string;
}

/** Suffix of the temporary files downloads stream into (`<destination>.<pid>.<random>.partial`). */
export const PARTIAL_SUFFIX = ".partial";

/** What someone without network access can do instead; appended to network failures. */
export const OFFLINE_HINT =
  "download the file elsewhere and pass it with --checkpoint FILE (or run deno task model:build --checkpoint FILE)";

const PROGRESS_INTERVAL_MS = 100;

/** Why a download failed, before it is worded as a one-line error naming the URL. */
class DownloadFailure extends Error {
  constructor(reason: string, readonly network = false) {
    super(reason);
  }
}

/**
 * Downloads `url` (following redirects) to `destination`. The body streams into a temporary
 * file in the same directory, with its SHA-256 computed on the way; the file is renamed to
 * `destination` only when the body is complete, its size matches the Content-Length (when
 * sent) and `expected.bytes`, and its digest matches `expected.sha256` (when known). On any
 * failure (HTTP error, network failure, dropped connection, stall, wrong size or digest)
 * nothing is left at `destination` or in the temporary file, and a one-line
 * {@link ModelError} names the URL and the reason; network failures add how to pass a local
 * file instead.
 *
 * @example
 * ```ts ignore
 * import { downloadFile } from "./download.ts";
 *
 * const file = await downloadFile(
 *   "https://github.com/xinghaochen/TinySAM/releases/download/3.0/tinysam_42.3.pth",
 *   "models/cache/tinysam-42.3/checkpoint.pth",
 *   { expected: { bytes: { min: 35e6, max: 45e6 }, sha256: null } },
 * );
 * console.log(file.bytes, file.sha256);
 * ```
 */
export async function downloadFile(
  url: string,
  destination: string,
  options: DownloadOptions,
): Promise<DownloadedFile> {
  const temporary = `${destination}.${Deno.pid}.${
    crypto.randomUUID().slice(0, 8)
  }${PARTIAL_SUFFIX}`;
  try {
    const { bytes, sha256 } = await streamToFile(url, temporary, options);
    await Deno.rename(temporary, destination);
    return { path: destination, bytes, sha256 };
  } catch (error) {
    await Deno.remove(temporary).catch(() => {});
    if (error instanceof DownloadFailure) {
      const hint = error.network ? `; ${OFFLINE_HINT}` : "";
      throw new ModelError(`cannot download ${url}: ${error.message}${hint}`);
    }
    throw error;
  }
}

async function streamToFile(
  url: string,
  temporary: string,
  options: DownloadOptions,
): Promise<{ bytes: number; sha256: string }> {
  const { expected } = options;
  const idleTimeoutMs = options.idleTimeoutMs ?? 60_000;
  const stall = new AbortController();
  let stallTimer = setTimeout(() => stall.abort(), idleTimeoutMs);
  const rearm = () => {
    clearTimeout(stallTimer);
    stallTimer = setTimeout(() => stall.abort(), idleTimeoutMs);
  };
  const stalled = () => new DownloadFailure(`no data received for ${idleTimeoutMs / 1000} s`, true);
  try {
    let response: Response;
    try {
      response = await fetch(url, { redirect: "follow", signal: stall.signal });
    } catch (error) {
      throw stall.signal.aborted ? stalled() : new DownloadFailure(networkReason(error), true);
    }
    if (!response.ok) {
      await response.body?.cancel().catch(() => {});
      throw new DownloadFailure(`HTTP ${response.status} ${response.statusText}`.trim());
    }
    if (!response.body) throw new DownloadFailure("the response has no body");
    const totalBytes = announcedLength(response, expected.bytes);

    const hash = createHash("sha256");
    const started = performance.now();
    let receivedBytes = 0;
    let lastReport = -Infinity;
    const report = (done: boolean) => {
      const now = performance.now();
      if (!options.onProgress || (!done && now - lastReport < PROGRESS_INTERVAL_MS)) return;
      lastReport = now;
      const elapsedSeconds = (now - started) / 1000;
      options.onProgress({ receivedBytes, totalBytes, elapsedSeconds, done });
    };

    const file = await Deno.open(temporary, { createNew: true, write: true });
    const writer = file.writable.getWriter();
    const reader = response.body.getReader();
    try {
      while (true) {
        let chunk: ReadableStreamReadResult<Uint8Array>;
        try {
          chunk = await reader.read();
        } catch (error) {
          if (stall.signal.aborted) throw stalled();
          const of = totalBytes === null ? "" : ` of ${totalBytes}`;
          throw new DownloadFailure(
            `connection dropped after ${receivedBytes}${of} bytes (${networkReason(error)})`,
            true,
          );
        }
        if (chunk.done) break;
        rearm();
        receivedBytes += chunk.value.length;
        if (receivedBytes > (totalBytes ?? expected.bytes.max)) {
          throw new DownloadFailure(
            totalBytes === null
              ? `more than ${expected.bytes.max} bytes received, expected ${
                formatMegabyteRange(expected.bytes)
              }`
              : `more bytes received than the announced ${totalBytes}`,
          );
        }
        hash.update(chunk.value);
        await writer.write(chunk.value);
        report(false);
      }
      await file.syncData();
      await writer.close();
    } catch (error) {
      await reader.cancel().catch(() => {});
      await writer.abort().catch(() => {});
      throw error;
    } finally {
      report(true);
    }

    if (totalBytes !== null && receivedBytes !== totalBytes) {
      throw new DownloadFailure(
        `connection closed after ${receivedBytes} of ${totalBytes} bytes`,
        true,
      );
    }
    if (receivedBytes < expected.bytes.min) {
      throw new DownloadFailure(
        `received ${receivedBytes} bytes (${formatMegabytes(receivedBytes)}), expected ${
          formatMegabyteRange(expected.bytes)
        }`,
      );
    }
    const sha256 = hash.digest("hex");
    if (expected.sha256 !== null && sha256 !== expected.sha256.toLowerCase()) {
      throw new DownloadFailure(`SHA-256 is ${sha256}, expected ${expected.sha256}`);
    }
    return { bytes: receivedBytes, sha256 };
  } finally {
    clearTimeout(stallTimer);
  }
}

/** The Content-Length, checked against the expected range; null when absent or not the file's size. */
function announcedLength(response: Response, range: ByteRange): number | null {
  const header = response.headers.get("content-length");
  // A compressed body's Content-Length counts compressed bytes, not the file's.
  if (header === null || response.headers.get("content-encoding")) return null;
  const length = Number(header);
  if (!Number.isSafeInteger(length) || length < 0) {
    throw new DownloadFailure(`the server sent an invalid Content-Length '${header}'`);
  }
  if (length < range.min || length > range.max) {
    throw new DownloadFailure(
      `the server announces ${length} bytes (${formatMegabytes(length)}), expected ${
        formatMegabyteRange(range)
      }`,
    );
  }
  return length;
}

/** The innermost useful words of a fetch failure, e.g. `tcp connect error: Connection refused`. */
function networkReason(error: unknown): string {
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  const message = cause instanceof Error ? cause.message : String(cause);
  const afterClient = message.match(/client error \([^)]*\): (.*)$/);
  const reason =
    (afterClient
      ? afterClient[1]
      : message.replace(/^error sending request for url \([^)]*\): /, ""))
      .replace(/\s*\(os error \d+\)/g, "");
  return reason || "network failure";
}
