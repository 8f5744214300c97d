import { AbortedError } from "../core/errors.js";

export interface RetryInfo {
  /** The attempt that just failed, from 0. */
  attempt: number;
  /** How long we wait before the next attempt. */
  delayMs: number;
  error: unknown;
}

export interface RetryOptions {
  /** Attempts after the first one; 0 means try once. */
  retries: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Aborting stops at once, also mid-wait, with an AbortedError. */
  signal?: AbortSignal;
  isRetryable: (error: unknown) => boolean;
  /** A delay the failure itself asks for (e.g. a Retry-After header); used instead of backoff. */
  retryAfterMs?: (error: unknown) => number | undefined;
  onRetry?: (info: RetryInfo) => void;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Uniform in [0, 1); injectable so tests are deterministic. */
  random?: () => number;
}

/** Waits `ms`, rejecting with AbortedError as soon as `signal` aborts. */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new AbortedError());
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new AbortedError());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** Full-jitter exponential backoff: uniform in [0, min(max, base * 2^attempt)). */
export function backoffDelayMs(
  attempt: number,
  baseDelayMs: number,
  maxDelayMs: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** attempt);
  return Math.floor(random() * ceiling);
}

/**
 * Runs `fn` until it succeeds, a failure is not retryable, or `retries` retries are spent; then
 * rethrows the last failure. `fn` gets the attempt number, from 0.
 */
export async function withRetry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const { signal } = options;
  const sleep = options.sleep ?? abortableSleep;
  const random = options.random ?? Math.random;
  for (let attempt = 0; ; attempt++) {
    if (signal?.aborted) throw new AbortedError();
    try {
      return await fn(attempt);
    } catch (error) {
      // Once the caller has aborted, whatever `fn` threw is a consequence of that abort.
      if (signal?.aborted || error instanceof AbortedError) {
        throw error instanceof AbortedError ? error : new AbortedError();
      }
      if (attempt >= options.retries || !options.isRetryable(error)) throw error;
      const requested = options.retryAfterMs?.(error);
      const delayMs =
        requested !== undefined && Number.isFinite(requested) && requested >= 0
          ? requested
          : backoffDelayMs(attempt, options.baseDelayMs, options.maxDelayMs, random);
      options.onRetry?.({ attempt, delayMs, error });
      await sleep(delayMs, signal);
    }
  }
}
