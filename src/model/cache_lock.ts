/**
 * A lock file that lets one process at a time download or build a cache entry, so two
 * concurrent first runs do not both fetch 40 MB. Correctness does not rest on it: every
 * cache file is written to a temporary name and renamed into place, so even two holders
 * (after a stale lock is taken over) can only race to write identical, complete files.
 * @module
 */

/** Options of {@link withFileLock}. */
export interface FileLockOptions {
  /** A lock untouched for this long is stale (default 60 000 ms); holders touch it every third of that. */
  readonly staleAfterMs?: number;
  /** How often a waiting process looks again (default 200 ms). */
  readonly pollMs?: number;
  /** Called once when the lock is held by someone else and this process starts waiting. */
  readonly onWait?: (holder: string) => void;
}

interface LockOwner {
  readonly pid: number;
  readonly hostname: string;
  readonly since: string;
}

/**
 * Runs `task` while holding the lock file `lockPath` (created exclusively, removed after).
 * A lock is taken over when its holder is a process on this host that no longer runs, or
 * when it has not been touched for `staleAfterMs`.
 *
 * @example
 * ```ts ignore
 * import { withFileLock } from "./cache_lock.ts";
 *
 * await withFileLock("models/cache/tinysam-42.3.lock", async () => {
 *   // download and build, alone
 * });
 * ```
 */
export async function withFileLock<T>(
  lockPath: string,
  task: () => Promise<T>,
  options: FileLockOptions = {},
): Promise<T> {
  const staleAfterMs = options.staleAfterMs ?? 60_000;
  const pollMs = options.pollMs ?? 200;
  let told = false;
  while (!(await tryCreate(lockPath))) {
    const holder = await readOwner(lockPath);
    if (await isStale(lockPath, holder, staleAfterMs)) {
      await Deno.remove(lockPath).catch(() => {});
      continue;
    }
    if (!told) {
      told = true;
      options.onWait?.(holder ? `process ${holder.pid} on ${holder.hostname}` : "another process");
    }
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
  const heartbeat = setInterval(() => {
    const now = new Date();
    Deno.utime(lockPath, now, now).catch(() => {});
  }, Math.max(10, staleAfterMs / 3));
  Deno.unrefTimer(heartbeat);
  try {
    return await task();
  } finally {
    clearInterval(heartbeat);
    await Deno.remove(lockPath).catch(() => {});
  }
}

async function tryCreate(lockPath: string): Promise<boolean> {
  const owner: LockOwner = {
    pid: Deno.pid,
    hostname: Deno.hostname(),
    since: new Date().toISOString(),
  };
  try {
    await Deno.writeTextFile(lockPath, JSON.stringify(owner), { createNew: true });
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.AlreadyExists) return false;
    throw error;
  }
}

async function readOwner(lockPath: string): Promise<LockOwner | null> {
  try {
    const owner = JSON.parse(await Deno.readTextFile(lockPath));
    return typeof owner?.pid === "number" && typeof owner?.hostname === "string" ? owner : null;
  } catch {
    return null;
  }
}

async function isStale(
  lockPath: string,
  owner: LockOwner | null,
  staleAfterMs: number,
): Promise<boolean> {
  if (owner && owner.hostname === Deno.hostname() && !(await processRuns(owner.pid))) return true;
  try {
    const { mtime } = await Deno.stat(lockPath);
    return mtime !== null && Date.now() - mtime.getTime() > staleAfterMs;
  } catch {
    return false; // gone already: the next attempt to create it decides
  }
}

/** Whether process `pid` runs on this host; assumed true where /proc cannot tell. */
async function processRuns(pid: number): Promise<boolean> {
  if (Deno.build.os !== "linux") return true;
  try {
    await Deno.stat(`/proc/${pid}`);
    return true;
  } catch (error) {
    return !(error instanceof Deno.errors.NotFound);
  }
}
