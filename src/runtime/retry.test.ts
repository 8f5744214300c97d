import { describe, expect, it } from "vitest";
import { AbortedError } from "../core/errors.js";
import { abortableSleep, backoffDelayMs, type RetryInfo, withRetry } from "./retry.js";

class Transient extends Error {
  constructor(readonly retryAfterMs?: number) {
    super("transient");
  }
}
class Fatal extends Error {}

/** Fails with `failures[i]` on attempt i, then returns "ok". */
function scriptedFn(failures: Error[]): { fn: (attempt: number) => Promise<string>; attempts: number[] } {
  const attempts: number[] = [];
  const fn = async (attempt: number): Promise<string> => {
    attempts.push(attempt);
    const failure = failures[attempt];
    if (failure) throw failure;
    return "ok";
  };
  return { fn, attempts };
}

function recordingSleep(): { sleep: (ms: number) => Promise<void>; slept: number[] } {
  const slept: number[] = [];
  return { sleep: async (ms) => void slept.push(ms), slept };
}

const base = {
  retries: 5,
  baseDelayMs: 100,
  maxDelayMs: 1000,
  isRetryable: (error: unknown) => error instanceof Transient,
};

describe("backoffDelayMs", () => {
  it("is full jitter under an exponentially growing, capped ceiling", () => {
    expect(backoffDelayMs(0, 100, 1000, () => 0.5)).toBe(50);
    expect(backoffDelayMs(1, 100, 1000, () => 0.5)).toBe(100);
    expect(backoffDelayMs(3, 100, 1000, () => 0.5)).toBe(400);
    expect(backoffDelayMs(4, 100, 1000, () => 0.5)).toBe(500); // ceiling capped at 1000
    expect(backoffDelayMs(10, 100, 1000, () => 0.999)).toBe(999);
    expect(backoffDelayMs(2, 100, 1000, () => 0)).toBe(0);
  });
});

describe("withRetry", () => {
  it("returns the first success without sleeping", async () => {
    const { fn, attempts } = scriptedFn([]);
    const { sleep, slept } = recordingSleep();
    await expect(withRetry(fn, { ...base, sleep })).resolves.toBe("ok");
    expect(attempts).toEqual([0]);
    expect(slept).toEqual([]);
  });

  it("retries retryable failures with jittered exponential backoff", async () => {
    const { fn, attempts } = scriptedFn([new Transient(), new Transient(), new Transient()]);
    const { sleep, slept } = recordingSleep();
    const retries: RetryInfo[] = [];
    const result = await withRetry(fn, {
      ...base,
      sleep,
      random: () => 0.5,
      onRetry: (info) => retries.push(info),
    });
    expect(result).toBe("ok");
    expect(attempts).toEqual([0, 1, 2, 3]);
    expect(slept).toEqual([50, 100, 200]);
    expect(retries.map((r) => [r.attempt, r.delayMs])).toEqual([
      [0, 50],
      [1, 100],
      [2, 200],
    ]);
    expect(retries[0]?.error).toBeInstanceOf(Transient);
  });

  it("uses the random source for jitter", async () => {
    const { fn } = scriptedFn([new Transient(), new Transient()]);
    const { sleep, slept } = recordingSleep();
    const draws = [0.1, 0.9];
    await withRetry(fn, { ...base, sleep, random: () => draws.shift() ?? 0 });
    expect(slept).toEqual([10, 180]);
  });

  it("gives up after `retries` retries and rethrows the last failure", async () => {
    const last = new Transient();
    const { fn, attempts } = scriptedFn([new Transient(), new Transient(), last]);
    const { sleep, slept } = recordingSleep();
    await expect(withRetry(fn, { ...base, retries: 2, sleep })).rejects.toBe(last);
    expect(attempts).toEqual([0, 1, 2]);
    expect(slept).toHaveLength(2);
  });

  it("tries once when retries is 0", async () => {
    const { fn, attempts } = scriptedFn([new Transient()]);
    await expect(
      withRetry(fn, { ...base, retries: 0, sleep: recordingSleep().sleep }),
    ).rejects.toBeInstanceOf(Transient);
    expect(attempts).toEqual([0]);
  });

  it("does not retry a non-retryable failure", async () => {
    const fatal = new Fatal("no");
    const { fn, attempts } = scriptedFn([new Transient(), fatal]);
    const { sleep, slept } = recordingSleep();
    await expect(withRetry(fn, { ...base, sleep, random: () => 0 })).rejects.toBe(fatal);
    expect(attempts).toEqual([0, 1]);
    expect(slept).toEqual([0]);
  });

  it("honours a requested Retry-After delay instead of backoff, even above maxDelayMs", async () => {
    const { fn } = scriptedFn([new Transient(2500), new Transient()]);
    const { sleep, slept } = recordingSleep();
    await withRetry(fn, {
      ...base,
      sleep,
      random: () => 0.5,
      retryAfterMs: (error) => (error instanceof Transient ? error.retryAfterMs : undefined),
    });
    expect(slept).toEqual([2500, 100]);
  });

  it("ignores a nonsensical Retry-After", async () => {
    const { fn } = scriptedFn([new Transient(-5), new Transient(Number.NaN)]);
    const { sleep, slept } = recordingSleep();
    await withRetry(fn, {
      ...base,
      sleep,
      random: () => 0.5,
      retryAfterMs: (error) => (error instanceof Transient ? error.retryAfterMs : undefined),
    });
    expect(slept).toEqual([50, 100]);
  });

  it("throws AbortedError without calling fn when already aborted", async () => {
    const { fn, attempts } = scriptedFn([]);
    const controller = new AbortController();
    controller.abort();
    await expect(withRetry(fn, { ...base, signal: controller.signal })).rejects.toBeInstanceOf(AbortedError);
    expect(attempts).toEqual([]);
  });

  it("does not retry a failure that happens after the caller aborted", async () => {
    const controller = new AbortController();
    const attempts: number[] = [];
    const fn = async (attempt: number): Promise<string> => {
      attempts.push(attempt);
      controller.abort();
      throw new Transient();
    };
    const { sleep, slept } = recordingSleep();
    await expect(withRetry(fn, { ...base, sleep, signal: controller.signal })).rejects.toBeInstanceOf(
      AbortedError,
    );
    expect(attempts).toEqual([0]);
    expect(slept).toEqual([]);
  });

  it("rethrows an AbortedError from fn without retrying", async () => {
    const aborted = new AbortedError("stopped");
    const { fn, attempts } = scriptedFn([aborted]);
    await expect(
      withRetry(fn, { ...base, isRetryable: () => true, sleep: recordingSleep().sleep }),
    ).rejects.toBe(aborted);
    expect(attempts).toEqual([0]);
  });

  it("stops during the backoff wait when aborted", async () => {
    const controller = new AbortController();
    const { fn, attempts } = scriptedFn([new Transient(), new Transient()]);
    const started = performance.now();
    const pending = withRetry(fn, {
      ...base,
      baseDelayMs: 60_000,
      maxDelayMs: 60_000,
      random: () => 1,
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(), 5);
    await expect(pending).rejects.toBeInstanceOf(AbortedError);
    expect(attempts).toEqual([0]);
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it("stops when an injected sleep ignores the signal", async () => {
    const controller = new AbortController();
    const { fn, attempts } = scriptedFn([new Transient(), new Transient()]);
    const sleep = async (): Promise<void> => controller.abort();
    await expect(withRetry(fn, { ...base, sleep, signal: controller.signal })).rejects.toBeInstanceOf(
      AbortedError,
    );
    expect(attempts).toEqual([0]);
  });
});

describe("abortableSleep", () => {
  it("resolves after the delay", async () => {
    await expect(abortableSleep(1)).resolves.toBeUndefined();
  });

  it("rejects at once when the signal is already aborted", async () => {
    await expect(abortableSleep(60_000, AbortSignal.abort())).rejects.toBeInstanceOf(AbortedError);
  });
});
