/**
 * Connections to the queue server (Redis, which BullMQ runs on): a `redis://` URL in, a connected
 * ioredis client out. A server that cannot be reached at first is one line and an error, never a
 * hang; a connection lost later is retried with backoff (workers) or ends the command (submit,
 * status).
 * @module
 */
import { Redis, type RedisOptions } from "ioredis";

/** The queue server cannot be reached or refused us; the message is one line for the user. */
export class QueueServerError extends Error {
  override name = "QueueServerError";
}

/** Longest wait for the first connection (TCP, TLS, authentication, database selection). */
export const CONNECT_TIMEOUT_MS = 5000;

/** First delay between reconnection attempts after a connection is lost; it doubles up to the cap. */
const RECONNECT_FIRST_MS = 500;
const RECONNECT_MAX_MS = 30_000;

/** What a connection does once it is lost. */
export interface ReconnectOptions {
  /**
   * Called before each attempt to reconnect, with the attempt's number (from 1), the delay before
   * it and the reason the connection was lost. Without it a lost connection stays lost: commands
   * fail with a {@link QueueServerError}.
   */
  readonly onRetry?: (attempt: number, delayMs: number, reason: string) => void;
  /** Called when a lost connection is back. */
  readonly onReconnect?: () => void;
}

/**
 * Checks that `url` names a Redis server (`redis://` or `rediss://` for TLS, with an optional
 * `user:password@` and `/db`) and returns it; throws a one-line `Error` otherwise.
 *
 * @example
 * ```ts
 * checkQueueUrl("redis://10.0.0.5:6379/0"); // "redis://10.0.0.5:6379/0"
 * checkQueueUrl("nats://10.0.0.5"); // throws: --queue must be a redis:// or rediss:// URL ...
 * ```
 */
export function checkQueueUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`--queue must be a redis:// or rediss:// URL (got "${url}")`);
  }
  if (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:") {
    throw new Error(`--queue must be a redis:// or rediss:// URL (got "${url}")`);
  }
  if (parsed.hostname === "") throw new Error(`--queue names no host (got "${url}")`);
  const db = parsed.pathname.replace(/^\//, "");
  if (db !== "" && !/^\d+$/.test(db)) {
    throw new Error(`--queue: the path of a redis URL is a database number (got "${url}")`);
  }
  return url;
}

/** `url` without its password, for messages. */
export function displayUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString().replace(/\/$/, "");
  } catch {
    return url;
  }
}

/**
 * Opens a client on `url` and waits until it is ready. Rejects with a {@link QueueServerError}
 * (refused, unknown host, timed out, not a Redis server, authentication) within about
 * {@link CONNECT_TIMEOUT_MS}. The client suits BullMQ's workers as well as its queues (commands
 * wait for a reconnection instead of failing after a few retries).
 *
 * @example
 * ```ts
 * const client = await connectQueueServer("redis://127.0.0.1:6379");
 * const queue = new Queue("segment", { connection: client });
 * ```
 */
export async function connectQueueServer(
  url: string,
  reconnect: ReconnectOptions = {},
): Promise<Redis> {
  let lastError = "";
  let ready = false;
  let lost = false;
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: CONNECT_TIMEOUT_MS,
    // BullMQ's workers need commands to wait for a reconnection rather than fail after retries.
    maxRetriesPerRequest: null,
    retryStrategy: (attempt) => {
      // The first connection is not retried: its failure is reported at once.
      if (!ready || !reconnect.onRetry) return null;
      const delayMs = reconnectDelay(attempt);
      reconnect.onRetry(attempt, delayMs, lastError || "connection closed");
      return delayMs;
    },
  });
  client.on("error", (error: Error) => lastError = describeConnectionError(error));
  client.on("close", () => {
    if (ready) lost = true;
  });
  client.on("ready", () => {
    if (lost) {
      lost = false;
      reconnect.onReconnect?.();
    }
  });
  try {
    await client.connect();
  } catch (error) {
    client.disconnect();
    const reason = lastError || describeConnectionError(error as Error);
    throw new QueueServerError(`queue server ${displayUrl(url)} unreachable: ${reason}`);
  }
  ready = true;
  return client;
}

/** The wait before reconnection attempt `attempt` (from 1): doubling, capped. */
function reconnectDelay(attempt: number): number {
  return Math.min(RECONNECT_FIRST_MS * 2 ** (attempt - 1), RECONNECT_MAX_MS);
}

/**
 * Connection options for the clients BullMQ opens itself (a worker's command and blocking
 * connections): the server at `url`, reconnecting with the same backoff for as long as it takes.
 * Open a client with {@link connectQueueServer} first, so that a server unreachable at start is
 * an error rather than an endless wait.
 */
export function reconnectingOptions(url: string): RedisOptions & { url: string } {
  return {
    url,
    connectTimeout: CONNECT_TIMEOUT_MS,
    maxRetriesPerRequest: null,
    retryStrategy: reconnectDelay,
  };
}

/**
 * One short reason for a connection error: `connection refused`, `unknown host`, `timed out`,
 * `not a Redis server`, or the server's own message.
 */
export function describeConnectionError(error: Error): string {
  const code = (error as { code?: string }).code;
  const message = error.message ?? String(error);
  if (code === "ECONNREFUSED" || message.includes("ECONNREFUSED")) return "connection refused";
  if (code === "ENOTFOUND" || message.includes("ENOTFOUND")) return "unknown host";
  if (code === "ETIMEDOUT" || /timed? ?out/i.test(message)) return "timed out";
  if (code === "ECONNRESET" || message.includes("ECONNRESET")) return "connection reset";
  if (message.startsWith("Protocol error")) return "not a Redis server (protocol error)";
  return message.split("\n")[0];
}
