import { Redis, type RedisOptions } from "ioredis";
import { errorMessage, UsageError } from "../../core/errors.js";
import { TaskQueueUnavailableError } from "../task-service.js";

/** How long a request waits for a (re)connecting Redis before it is told the queue is unavailable. */
const READY_WAIT_MS = 1000;

/** Checks a `--redis` value: a redis:// or rediss:// URL. */
export function parseRedisUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`--redis must be a redis:// URL, e.g. redis://127.0.0.1:6379 (got '${value}')`);
  }
  if (url.protocol !== "redis:" && url.protocol !== "rediss:") {
    throw new UsageError(`--redis must be a redis:// or rediss:// URL (got '${url.protocol}')`);
  }
  return value;
}

/**
 * A connection for request-time commands. They fail fast while Redis is away (no offline queue, one
 * try) instead of hanging the request; the client reconnects in the background.
 */
export function connectRedis(url: string, options: RedisOptions = {}): Redis {
  const redis = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    retryStrategy: (times) => Math.min(100 * times, 2000),
    ...options,
  });
  // A lost connection is reported to the request that needed it; the client's own 'error' events
  // (one per reconnect attempt) would otherwise crash the process as unhandled.
  redis.on("error", () => {});
  return redis;
}

/** One wait per connecting client, however many requests wait on it. */
const waiting = new WeakMap<Redis, Promise<void>>();

/** Waits briefly for a connecting client; TaskQueueUnavailableError if it is not ready by then. */
export function whenReady(redis: Redis): Promise<void> {
  if (redis.status === "ready") return Promise.resolve();
  if (redis.status === "end")
    return Promise.reject(new TaskQueueUnavailableError("the connection was closed"));
  let wait = waiting.get(redis);
  if (!wait) {
    wait = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        redis.off("ready", onReady);
        reject(
          new TaskQueueUnavailableError(`no connection to ${describe(redis)} within ${READY_WAIT_MS} ms`),
        );
      }, READY_WAIT_MS);
      const onReady = () => {
        clearTimeout(timer);
        resolve();
      };
      redis.once("ready", onReady);
    }).finally(() => waiting.delete(redis));
    waiting.set(redis, wait);
  }
  return wait;
}

const describe = (redis: Redis): string => `${redis.options.host ?? "?"}:${redis.options.port ?? "?"}`;

/**
 * Runs a Redis operation for a request: connection failures, and an operation that gets no answer
 * within `timeoutMs` (a command waiting for a reconnect), become TaskQueueUnavailableError (the
 * server answers 503); other errors pass through.
 */
export async function withRedis<T>(redis: Redis, operation: () => Promise<T>, timeoutMs = 3000): Promise<T> {
  await whenReady(redis);
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      operation(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(new TaskQueueUnavailableError(`no answer from ${describe(redis)} within ${timeoutMs} ms`)),
          timeoutMs,
        );
      }),
    ]);
  } catch (error) {
    if (isConnectionError(error)) throw new TaskQueueUnavailableError(errorMessage(error));
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/** Errors that mean "Redis is not there" rather than a bad command. */
export function isConnectionError(error: unknown): boolean {
  const message = errorMessage(error);
  return /Stream isn't writeable|Connection is closed|ECONNREFUSED|ECONNRESET|ETIMEDOUT|max retries per request|enableOfflineQueue|Command timed out|EPIPE/i.test(
    message,
  );
}

/** Closes a client, politely when connected, at once otherwise. */
export async function closeRedis(redis: Redis): Promise<void> {
  if (redis.status === "end") return;
  if (redis.status === "ready") {
    try {
      await redis.quit();
      return;
    } catch {
      // Fall through: the connection went away while quitting.
    }
  }
  redis.disconnect();
}
