/**
 * Helpers for the batch tests: `batch` and `segment` as real processes (with the region-growing
 * test segmenter, or the real model), workers whose output lines a test can wait for, a batch's
 * status, and the files a job wrote.
 * @module
 */
import { fileURLToPath } from "node:url";
import type { BatchStatus } from "../../src/batch/status.ts";
import { LineWatcher } from "./lines.ts";
import { REPO_DIR, runScriptCli } from "./video.ts";

/** `tests/helpers/region_growing_cli.ts`: segment and batch with the test segmenter. */
export const TEST_CLI: string = fileURLToPath(new URL("./region_growing_cli.ts", import.meta.url));
/** The real `batch` command. */
export const BATCH_CLI: string = fileURLToPath(new URL("../../src/cli/batch.ts", import.meta.url));

/** A finished command, its standard output as text. */
export interface Finished {
  readonly code: number;
  readonly stdout: string;
  readonly stderrLines: string[];
}

/** Runs `deno run -A SCRIPT ...args` to completion. */
export async function runScript(script: string, args: readonly string[]): Promise<Finished> {
  const result = await runScriptCli(script, args);
  return {
    code: result.code,
    stdout: new TextDecoder().decode(result.stdout),
    stderrLines: result.stderrLines,
  };
}

/** A worker process and its output, line by line. */
export interface WorkerProcess {
  readonly child: Deno.ChildProcess;
  readonly stdout: LineWatcher;
  readonly stderr: LineWatcher;
  /** Resolves once the worker waits for jobs. */
  ready(): Promise<void>;
  /** Kills it (if still running) and waits for its end. */
  stop(): Promise<void>;
}

/**
 * Starts `batch worker --queue URL ...args` (by default through the test CLI, with the
 * region-growing segmenter; `env` may hold `HOLD_AT_EMBED` and `GATE`).
 */
export function startWorker(
  queue: string,
  args: readonly string[] = [],
  options: { env?: Record<string, string>; script?: string } = {},
): WorkerProcess {
  const script = options.script ?? TEST_CLI;
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      script,
      ...(script === TEST_CLI ? ["batch"] : []),
      "worker",
      "--queue",
      queue,
      ...args,
    ],
    cwd: REPO_DIR,
    env: options.env ?? {},
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stdout = new LineWatcher(child.stdout);
  const stderr = new LineWatcher(child.stderr);
  return {
    child,
    stdout,
    stderr,
    ready: async () => {
      await stderr.waitFor((line) => line.includes("waiting for jobs"), "the worker's ready line");
    },
    stop: async () => {
      try {
        child.kill("SIGKILL");
      } catch {
        // already exited
      }
      await child.status;
      await stdout.ended;
      await stderr.ended;
    },
  };
}

/** `batch status --json` of the queue at `url`. */
export async function batchStatus(url: string): Promise<BatchStatus> {
  const result = await runScript(BATCH_CLI, ["status", "--queue", url, "--json"]);
  if (result.code !== 0) throw new Error(`status failed: ${result.stderrLines.join("\n")}`);
  return JSON.parse(result.stdout);
}

/** Polls the status until `done` holds (every 200 ms), or fails after `timeoutMs` with the last one. */
export async function waitForStatus(
  url: string,
  done: (status: BatchStatus) => boolean,
  timeoutMs = 180_000,
): Promise<BatchStatus> {
  const deadline = performance.now() + timeoutMs;
  let status = await batchStatus(url);
  while (!done(status)) {
    if (performance.now() > deadline) {
      throw new Error(`the batch did not get there in time: ${JSON.stringify(status)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    status = await batchStatus(url);
  }
  return status;
}

/** Every file under `dir` (relative paths, sorted) with its bytes. */
export async function filesUnder(dir: string): Promise<Map<string, Uint8Array>> {
  const files = new Map<string, Uint8Array>();
  const walk = async (relative: string) => {
    for await (const entry of Deno.readDir(`${dir}/${relative}`)) {
      const path = relative ? `${relative}/${entry.name}` : entry.name;
      if (entry.isDirectory) await walk(path);
      else files.set(path, await Deno.readFile(`${dir}/${path}`));
    }
  };
  await walk("");
  return new Map([...files].sort(([a], [b]) => a.localeCompare(b)));
}

/** Names in `dir` that start with "." (what a job left behind mid-run). */
export function hiddenEntries(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((entry) => entry.name).filter((name) =>
    name.startsWith(".")
  );
}
