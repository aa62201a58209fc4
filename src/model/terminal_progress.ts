/**
 * Model progress for people at a terminal: status lines and a download progress bar
 * (percent, MB, MB/s) redrawn in place on stderr when it is a terminal; silent otherwise, so
 * logs and pipes see only the result and, on failure, the one error line.
 * @module
 */
import type { DownloadProgress } from "./download.ts";
import { formatMegabytes } from "./megabytes.ts";

/** The progress callbacks `ensureModel` takes. */
export interface ModelProgressReporters {
  /** One line per step (downloading, building, done). */
  readonly onProgress: (line: string) => void;
  /** Bytes of a download as they arrive. */
  readonly onDownloadProgress: (progress: DownloadProgress) => void;
}

const BAR_WIDTH = 24;

/** One redraw of the bar, e.g. `[##########--------------]  42%  17.1/40.7 MB  8.3 MB/s`. */
export function progressBarLine(progress: DownloadProgress): string {
  const { receivedBytes, totalBytes, elapsedSeconds } = progress;
  const rate = elapsedSeconds > 0 ? `${formatMegabytes(receivedBytes / elapsedSeconds)}/s` : "";
  if (totalBytes === null || totalBytes === 0) {
    return `${formatMegabytes(receivedBytes)}  ${rate}`.trimEnd();
  }
  const fraction = Math.min(1, receivedBytes / totalBytes);
  const filled = Math.floor(fraction * BAR_WIDTH);
  const bar = `[${"#".repeat(filled)}${"-".repeat(BAR_WIDTH - filled)}]`;
  const percent = `${Math.floor(fraction * 100)}%`.padStart(4);
  const megabytes = `${(receivedBytes / 1e6).toFixed(1)}/${formatMegabytes(totalBytes)}`;
  return `${bar} ${percent}  ${megabytes}  ${rate}`.trimEnd();
}

/**
 * Reporters writing status lines and the progress bar to `output` (stderr by default) when it
 * is a terminal, and nothing otherwise.
 *
 * @example
 * ```ts ignore
 * import { ensureModel } from "./model_cache.ts";
 * import { terminalProgress } from "./terminal_progress.ts";
 *
 * const model = await ensureModel({ model: "tinysam-42.3" }, { precision: "fp32", ...terminalProgress() });
 * ```
 */
export function terminalProgress(
  output: { writeSync(bytes: Uint8Array): number; isTerminal(): boolean } = Deno.stderr,
): ModelProgressReporters {
  const encoder = new TextEncoder();
  const write = (text: string) => {
    const bytes = encoder.encode(text);
    for (let offset = 0; offset < bytes.length;) offset += output.writeSync(bytes.subarray(offset));
  };
  if (!output.isTerminal()) return { onProgress: () => {}, onDownloadProgress: () => {} };
  return {
    onProgress: (line) => write(`${line}\n`),
    onDownloadProgress: (progress) => {
      write(`\r\x1b[2K  ${progressBarLine(progress)}${progress.done ? "\n" : ""}`);
    },
  };
}
