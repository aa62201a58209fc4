/**
 * A spawned ffmpeg process with its stderr collected (for one-line error messages) and a
 * kill-and-reap that is safe to call from any path.
 * @module
 */
import { lastStderrLine } from "./errors.ts";

/** How the child's standard streams are wired. */
export interface FfmpegSpawnOptions {
  readonly stdin: "piped" | "null" | "inherit";
  readonly stdout: "piped" | "null" | "inherit";
  /**
   * Start it in its own process group (default true), out of reach of a Ctrl-C typed in the
   * terminal. False for a short read that may as well die with the program: spawning into a new
   * group forks this process, and the next encoder run pays for it (its ~240 MB of buffers fault
   * in again: one 720p fp32 run measured 1.6 s instead of 0.75 s).
   */
  readonly ownProcessGroup?: boolean;
}

const STDERR_KEEP_CHARS = 16384;

/**
 * A running ffmpeg. It is started in its own process group (`detached`) unless told otherwise, so
 * a Ctrl-C typed in the terminal reaches only this program, which then stops or finalizes the
 * child deliberately.
 *
 * @example
 * ```ts
 * const proc = new FfmpegProcess("/usr/bin/ffmpeg", ["-version"], { stdin: "null", stdout: "piped" });
 * const status = await proc.status;
 * ```
 */
export class FfmpegProcess {
  readonly child: Deno.ChildProcess;
  readonly pid: number;
  /** Resolves when the process has exited and been reaped; never rejects. */
  readonly status: Promise<Deno.CommandStatus>;
  /** Resolves once stderr has been read to its end. */
  readonly stderrDone: Promise<void>;
  #stderr = "";
  #exited = false;

  constructor(path: string, args: readonly string[], options: FfmpegSpawnOptions) {
    this.child = new Deno.Command(path, {
      args: [...args],
      stdin: options.stdin,
      stdout: options.stdout,
      stderr: "piped",
      detached: options.ownProcessGroup ?? true,
    }).spawn();
    this.pid = this.child.pid;
    this.status = this.child.status.then((status) => {
      this.#exited = true;
      return status;
    });
    this.stderrDone = this.#collectStderr();
  }

  /** True once the process has exited. */
  get exited(): boolean {
    return this.#exited;
  }

  /** The last non-empty stderr line (after stderr has ended, if `settled`). */
  async lastError(): Promise<string> {
    await this.stderrDone;
    return lastStderrLine(this.#stderr);
  }

  /** Stderr collected so far (the last 16 KiB). */
  get stderrText(): string {
    return this.#stderr;
  }

  /** Sends `signal` if the process is still running; returns the reaped status. */
  kill(signal: Deno.Signal = "SIGKILL"): Promise<Deno.CommandStatus> {
    if (!this.#exited) {
      try {
        this.child.kill(signal);
      } catch {
        // already exited between the check and the kill
      }
    }
    return this.status;
  }

  async #collectStderr(): Promise<void> {
    const decoder = new TextDecoder();
    try {
      for await (const chunk of this.child.stderr) {
        this.#stderr = (this.#stderr + decoder.decode(chunk, { stream: true })).slice(
          -STDERR_KEEP_CHARS,
        );
      }
    } catch {
      // the stream errors only if the process vanished; what was read is kept
    }
  }
}

/** Describes an exit status in words: "exited with code 1", "was killed by SIGKILL". */
export function describeExit(status: Deno.CommandStatus): string {
  if (status.signal) return `was killed by ${status.signal}`;
  return `exited with code ${status.code}`;
}
