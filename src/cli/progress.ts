/**
 * Progress on stderr: a self-overwriting line on a terminal, or JSON lines for other programs.
 * @module
 */
import { finalize, type MonoTypeOperatorFunction, Observable } from "rxjs";
import type { ProgressMode } from "./args.ts";

/** One progress record (also the shape of a `--progress json` line). */
export interface ProgressRecord {
  readonly event: "progress" | "end";
  readonly frames: number;
  /** Frames expected in total, when known. */
  readonly totalFrames: number | null;
  readonly elapsedSeconds: number;
  readonly fps: number;
  readonly etaSeconds: number | null;
}

/** Options of {@link reportProgress}. */
export interface ProgressOptions {
  readonly mode: ProgressMode;
  readonly totalFrames?: number;
  /** Minimum time between two reports (default 250 ms on a terminal, 500 ms for JSON). */
  readonly intervalMs?: number;
  /** Where text goes (default: stderr). */
  readonly write?: (text: string) => void;
  /** Receives each record instead of it being written (whatever the mode). */
  readonly onRecord?: (record: ProgressRecord) => void;
}

const encoder = new TextEncoder();
const writeStderr = (text: string) => Deno.stderr.writeSync(encoder.encode(text));

/**
 * Counts the items passing through and reports frames, fps and ETA; a final record is written when
 * the stream ends, however it ends.
 *
 * @example
 * ```ts
 * segmented$.pipe(reportProgress({ mode: "json", totalFrames: 300 })).subscribe();
 * // stderr: {"event":"progress","frames":42,"totalFrames":300,"elapsedSeconds":1.5,...}
 * ```
 */
export function reportProgress<T>(options: ProgressOptions): MonoTypeOperatorFunction<T> {
  if (options.mode === "none" && !options.onRecord) return (source) => source;
  const write = options.write ?? writeStderr;
  const interval = options.intervalMs ?? (options.mode === "tty" ? 250 : 500);
  return (source) =>
    new Observable<T>((subscriber) => {
      const started = performance.now();
      let frames = 0;
      let lastReport = -Infinity;
      const record = (event: ProgressRecord["event"]): ProgressRecord => {
        const elapsedSeconds = (performance.now() - started) / 1000;
        const fps = elapsedSeconds > 0 ? frames / elapsedSeconds : 0;
        const total = options.totalFrames ?? null;
        const etaSeconds = total !== null && fps > 0 ? Math.max(0, (total - frames) / fps) : null;
        return {
          event,
          frames,
          totalFrames: total,
          elapsedSeconds: round(elapsedSeconds, 3),
          fps: round(fps, 2),
          etaSeconds: etaSeconds === null ? null : round(etaSeconds, 1),
        };
      };
      const report = (event: ProgressRecord["event"]) => {
        const current = record(event);
        if (options.onRecord) options.onRecord(current);
        else if (options.mode === "json") write(JSON.stringify(current) + "\n");
        else write(`\r\x1b[K${formatProgressLine(current)}${event === "end" ? "\n" : ""}`);
      };
      return source.pipe(finalize(() => report("end"))).subscribe({
        next: (item) => {
          frames++;
          const now = performance.now();
          if (now - lastReport >= interval) {
            lastReport = now;
            report("progress");
          }
          subscriber.next(item);
        },
        error: (error) => subscriber.error(error),
        complete: () => subscriber.complete(),
      });
    });
}

/**
 * The terminal form of a record: `frame 120/300 (40%)  28.3 fps  ETA 0:06`.
 *
 * @example
 * ```ts
 * formatProgressLine({ event: "progress", frames: 120, totalFrames: 300, elapsedSeconds: 4.2,
 *   fps: 28.3, etaSeconds: 6.4 }); // "frame 120/300 (40%)  28.3 fps  ETA 0:06"
 * ```
 */
export function formatProgressLine(record: ProgressRecord): string {
  const total = record.totalFrames;
  const position = total
    ? `frame ${record.frames}/${total} (${Math.floor(100 * record.frames / total)}%)`
    : `frame ${record.frames}`;
  const eta = record.etaSeconds !== null && record.event === "progress"
    ? `  ETA ${formatDuration(record.etaSeconds)}`
    : "";
  return `${position}  ${record.fps.toFixed(1)} fps${eta}`;
}

function formatDuration(seconds: number): string {
  const whole = Math.round(seconds);
  const minutes = Math.floor(whole / 60);
  return `${minutes}:${String(whole % 60).padStart(2, "0")}`;
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
