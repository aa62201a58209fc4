/**
 * A real Redis server for the batch tests: Debian's `redis-server` on 127.0.0.1 at a free port,
 * without persistence, ready once it says so, stopped (and its files removed) by the test.
 * @module
 */
import { LineWatcher } from "./lines.ts";

/** A running Redis server. */
export interface RedisServer {
  readonly port: number;
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  /** Stops the server (SIGKILL: no shutdown save) and removes its directory. */
  stop(): Promise<void>;
}

/** Whether `redis-server` is on PATH (`.ci/run` installs it). */
export const redisAvailable: boolean = onPath("redis-server");

if (!redisAvailable) {
  console.warn(
    "tests needing redis-server (apt-get install redis-server) are skipped: not on PATH",
  );
}

function onPath(command: string): boolean {
  return (Deno.env.get("PATH") ?? "").split(":").some((dir) => {
    try {
      return Deno.statSync(`${dir}/${command}`).isFile;
    } catch {
      return false;
    }
  });
}

/** A port nobody listens on right now (the kernel's pick for a socket closed at once). */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** Attempts at a free port (another process may take the one picked before Redis binds it). */
const START_ATTEMPTS = 3;

/**
 * Starts `redis-server` on 127.0.0.1 (on `port`, or a free one) and resolves once it accepts
 * connections.
 *
 * @example
 * ```ts ignore
 * const redis = await startRedis();
 * try { ... redis.url ... } finally { await redis.stop(); }
 * ```
 */
export async function startRedis(port?: number): Promise<RedisServer> {
  let lastError: unknown;
  for (let attempt = 0; attempt < (port === undefined ? START_ATTEMPTS : 1); attempt++) {
    try {
      return await startOn(port ?? freePort());
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

async function startOn(port: number): Promise<RedisServer> {
  const dir = await Deno.makeTempDir({ prefix: "redis_" });
  const child = new Deno.Command("redis-server", {
    args: [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
      "--dir",
      dir,
      "--logfile",
      "",
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const output = new LineWatcher(child.stdout);
  const stop = async () => {
    try {
      child.kill("SIGKILL");
    } catch {
      // already exited
    }
    await child.status;
    await output.ended;
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  try {
    await output.waitFor((line) => line.includes("Ready to accept connections"), "Redis ready");
  } catch (error) {
    await stop();
    throw error;
  }
  return { port, url: `redis://127.0.0.1:${port}`, stop };
}
