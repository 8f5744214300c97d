import type { Backend, GenerateRequest, GenerateResult } from "../core/backend.js";
import { AbortedError, BackendError, errorCode, errorMessage } from "../core/errors.js";
import { CircuitBreaker, type CircuitBreakerOptions, type CircuitPermit } from "./circuit-breaker.js";
import { abortableSleep, withRetry } from "./retry.js";
import { trackDelivery } from "./track-delivery.js";

export interface ReliabilityOptions {
  /** Longest one attempt may take, stream included; a slower one fails as a retryable timeout. */
  timeoutMs?: number;
  /** Attempts after the first for retryable failures (`BackendError.retryable`). Default 2. */
  retries?: number;
  /** Backoff: attempt k waits uniformly in [0, min(max, base · 2^k)) (full jitter). Default 250. */
  retryBaseDelayMs?: number;
  /** Default 5000. */
  retryMaxDelayMs?: number;
  /** Open the circuit after consecutive failures; false for none. Default 5 failures, 30 s cool-down. */
  breaker?: Omit<CircuitBreakerOptions, "now"> | false;
  now?: () => number;
  random?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export const DEFAULT_BREAKER: Omit<CircuitBreakerOptions, "now"> = {
  failureThreshold: 5,
  cooldownMs: 30_000,
};

/** A backend known by a name, which its reliability reports (retries, fallbacks, `served`) use. */
export interface NamedBackend extends Backend {
  /** The name the backend is served under (a server's model name). */
  readonly name: string;
}

/** A backend behind its reliability layer; its breaker (if any) is exposed for health reports and tests. */
export interface ReliableBackend extends NamedBackend {
  readonly breaker: CircuitBreaker | undefined;
}

/** Whether a failure says the backend is down or overloaded (and so counts against its circuit). */
const isOutage = (error: unknown): boolean => error instanceof BackendError && error.retryable;

/**
 * `backend` made dependable for callers that share it: each attempt is bounded by `timeoutMs`,
 * retryable failures are retried with exponential backoff and full jitter, and a circuit breaker
 * stops calling a backend that keeps failing (calls then fail fast with CircuitOpenError).
 *
 * Streams: once any text of a call has reached `onDelta`, a failure is final. It is not retried,
 * since the caller already holds text a second attempt might not repeat.
 *
 * Every attempt counts toward the breaker, retries included, so a retry loop stops as soon as the
 * circuit opens. Only outages count as failures (retryable errors: timeouts, 5xx, 429, dropped or
 * malformed answers); any answer, a client error included, shows the backend is up and resets it.
 */
export function createReliableBackend(
  name: string,
  backend: Backend,
  options: ReliabilityOptions = {},
): ReliableBackend {
  const retries = options.retries ?? 2;
  const breakerOptions = options.breaker === undefined ? DEFAULT_BREAKER : options.breaker;
  const breaker =
    breakerOptions === false
      ? undefined
      : new CircuitBreaker(name, { ...breakerOptions, ...(options.now && { now: options.now }) });

  async function attempt(request: GenerateRequest): Promise<GenerateResult> {
    const permit: CircuitPermit | undefined = breaker?.admit();
    const timeoutMs = options.timeoutMs;
    if (timeoutMs === undefined) return settle(permit, request, () => backend.generate(request));
    // Own timer and controller rather than AbortSignal.timeout/any: cleared on success, nothing lingers.
    const controller = new AbortController();
    const onAbort = (): void => controller.abort();
    request.signal?.addEventListener("abort", onAbort, { once: true });
    if (request.signal?.aborted) controller.abort();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    try {
      return await settle(
        permit,
        request,
        () => backend.generate({ ...request, signal: controller.signal }),
        () => timedOut,
      );
    } finally {
      clearTimeout(timer);
      request.signal?.removeEventListener("abort", onAbort);
    }
  }

  /** Runs one attempt and tells the breaker how it went; a timed-out attempt fails as a retryable timeout. */
  async function settle(
    permit: CircuitPermit | undefined,
    request: GenerateRequest,
    run: () => Promise<GenerateResult>,
    timedOut: () => boolean = () => false,
  ): Promise<GenerateResult> {
    try {
      const result = await run();
      permit?.success();
      return result;
    } catch (error) {
      if (request.signal?.aborted) {
        permit?.release();
        throw error instanceof AbortedError ? error : new AbortedError();
      }
      const failure = timedOut()
        ? new BackendError(
            "timeout",
            `model '${name}' gave no complete answer within ${options.timeoutMs} ms`,
            {
              retryable: true,
              cause: error,
            },
          )
        : error;
      if (isOutage(failure)) permit?.failure();
      else if (failure instanceof AbortedError) permit?.release();
      else permit?.success();
      throw failure;
    }
  }

  async function generate(request: GenerateRequest): Promise<GenerateResult> {
    const tracked = trackDelivery(request);
    const result = await withRetry(() => attempt(tracked.request), {
      retries,
      baseDelayMs: options.retryBaseDelayMs ?? 250,
      maxDelayMs: options.retryMaxDelayMs ?? 5_000,
      ...(request.signal && { signal: request.signal }),
      isRetryable: (error) => !tracked.delivered() && isOutage(error),
      onRetry: ({ attempt: failed, delayMs, error }) => {
        request.onIncident?.({
          type: "retry",
          backend: name,
          attempt: failed,
          delayMs,
          code: errorCode(error),
          message: errorMessage(error),
        });
      },
      sleep: options.sleep ?? abortableSleep,
      ...(options.random && { random: options.random }),
    });
    // A fallback chain above marks its stand-ins; alone, this backend is the first of its chain.
    request.onServed?.({ backend: name, fallback: false });
    return result;
  }

  return {
    name,
    kind: backend.kind,
    model: backend.model,
    capabilities: backend.capabilities,
    breaker,
    generate,
    close: () => backend.close(),
  };
}
