import { AbortedError, BackendError, errorMessage } from "../../core/errors.js";
import { errorMessageOf, inBandErrorOf, isRetryableStatus } from "../../openai-wire/index.js";

/*
 * What goes wrong talking to a server, as the engine's errors: an HTTP status, an error inside a
 * stream, a connection that fails or breaks off, a timeout. Retryable ones are marked so.
 */

/** Remembers Retry-After per error without widening BackendError's public shape. */
const retryAfterByError = new WeakMap<object, number>();

/** How long the server asked us to wait before retrying after `error`, if it said. */
export const retryAfterOf = (error: unknown): number | undefined =>
  typeof error === "object" && error ? retryAfterByError.get(error) : undefined;

/** A non-2xx answer: its status and the server's own message. */
export async function httpError(response: Response): Promise<BackendError> {
  const { status } = response;
  let text = "";
  try {
    text = await response.text();
  } catch {
    // The status line is enough to report.
  }
  const message = `${status} ${errorMessageOf(text) ?? response.statusText}`.trim();
  const error = new BackendError("http", message, { status, retryable: isRetryableStatus(status) });
  const retryAfter = parseRetryAfter(response.headers);
  if (retryAfter !== undefined) retryAfterByError.set(error, retryAfter);
  return error;
}

/** An error object a server sent inside a 200 stream; without a status it may be transient. */
export function inBandError(error: unknown): BackendError {
  const { message, status } = inBandErrorOf(error);
  const text = status === undefined ? `error in stream: ${message}` : `${status} ${message}`;
  return new BackendError("http", text, {
    status,
    retryable: status === undefined || isRetryableStatus(status),
  });
}

/** The server refused the request itself (400/422): retrying it unchanged cannot help. */
export const isClientRejection = (error: unknown): boolean =>
  error instanceof BackendError && error.kind === "http" && (error.status === 400 || error.status === 422);

/**
 * Milliseconds a server asks us to wait: OpenAI's `retry-after-ms`, else `retry-after` in seconds or
 * as an HTTP date.
 */
export function parseRetryAfter(headers: Headers, now: number = Date.now()): number | undefined {
  const ms = headers.get("retry-after-ms");
  if (ms !== null && ms.trim() !== "" && Number.isFinite(Number(ms)) && Number(ms) >= 0) return Number(ms);
  const value = headers.get("retry-after");
  if (value === null || value.trim() === "") return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return seconds >= 0 ? seconds * 1000 : undefined;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** What one HTTP exchange's failure becomes, given why it may have stopped. */
export interface ExchangeContext {
  url: string;
  baseUrl: string;
  timeoutMs: number;
  /** Aborted by the caller, close() or a failing sibling request. */
  groupSignal: AbortSignal;
  timeoutSignal: AbortSignal;
}

/**
 * A failure while connecting or reading, as the engine's error: ours pass through, an abort is an
 * AbortedError, a timeout or a network failure a retryable BackendError.
 */
export function exchangeFailure(error: unknown, phase: "connect" | "read", context: ExchangeContext): Error {
  if (error instanceof BackendError || error instanceof AbortedError) return error;
  if (context.groupSignal.aborted) return new AbortedError();
  if (context.timeoutSignal.aborted) {
    return new BackendError(
      "timeout",
      `no complete answer from ${context.url} within ${context.timeoutMs} ms`,
      { retryable: true, cause: error },
    );
  }
  const reason = networkReason(error);
  return phase === "connect"
    ? new BackendError("unreachable", `cannot reach ${context.baseUrl}: ${reason}`, {
        retryable: true,
        cause: error,
      })
    : new BackendError("invalid_response", `response from ${context.url} broke off: ${reason}`, {
        retryable: true,
        cause: error,
      });
}

/** Why a fetch failed, e.g. "connect ECONNREFUSED 127.0.0.1:9" or "getaddrinfo ENOTFOUND example.invalid". */
function networkReason(error: unknown): string {
  const cause = error instanceof Error ? error.cause : undefined;
  const describe = (value: unknown): string | undefined => {
    if (!(value instanceof Error)) return undefined;
    if (value.message) return value.message;
    const code = (value as { code?: unknown }).code;
    if (typeof code === "string") return code;
    // Happy-eyeballs failures are AggregateErrors with an empty message.
    if (value instanceof AggregateError) return value.errors.map(describe).filter(Boolean).join("; ");
    return undefined;
  };
  const outer = errorMessage(error);
  const inner = describe(cause);
  if (!inner) return outer;
  return outer === "fetch failed" ? inner : `${outer}: ${inner}`;
}
