import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { AbortedError } from "../../core/errors.js";

/** HTTP for model sources: JSON look-ups and resumable-free streaming downloads with timeouts and progress. */

const USER_AGENT = "deliberate";
/** A server that has not answered within this long is treated as unreachable, so the next source is tried. */
const DEFAULT_RESPONSE_TIMEOUT_MS = 30_000;
/** A download that delivers no bytes for this long is abandoned rather than left hanging. */
const DEFAULT_STALL_TIMEOUT_MS = 60_000;

export interface HttpOptions {
  headers?: Record<string, string>;
  signal?: AbortSignal;
  responseTimeoutMs?: number;
  stallTimeoutMs?: number;
}

/** A request that reached the server but got a non-2xx answer. */
export class HttpStatusError extends Error {
  readonly status: number;
  readonly url: string;
  constructor(status: number, url: string, detail?: string) {
    super(`HTTP ${status} from ${url}${detail ? `: ${detail}` : ""}`);
    this.name = "HttpStatusError";
    this.status = status;
    this.url = url;
  }
}

/** A request with no usable answer: DNS, refused connection, TLS, timeout, truncated or malformed body. */
export class NetworkError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "NetworkError";
  }
}

const hostOf = (url: string): string => {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
};

/** undici reports "fetch failed" and hides the useful part (ENOTFOUND, ECONNREFUSED...) in `cause`. */
const networkFailureDetail = (error: unknown): string => {
  const cause = error instanceof Error ? error.cause : undefined;
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    return typeof code === "string" && !cause.message.includes(code)
      ? `${code}: ${cause.message}`
      : cause.message;
  }
  return error instanceof Error ? error.message : String(error);
};

/**
 * Runs `body` with a signal that aborts when the caller's signal does or when `arm(ms, reason)` fires;
 * timeouts surface as NetworkError and caller aborts as AbortedError.
 */
const withTimeouts = async <T>(
  signal: AbortSignal | undefined,
  body: (signal: AbortSignal, arm: (ms: number, reason: string) => void) => Promise<T>,
): Promise<T> => {
  if (signal?.aborted) throw new AbortedError();
  const controller = new AbortController();
  let timeoutReason: string | undefined;
  let timer: NodeJS.Timeout | undefined;
  const arm = (ms: number, reason: string): void => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      timeoutReason = reason;
      controller.abort(new NetworkError(reason));
    }, ms);
  };
  const onCallerAbort = (): void => controller.abort(new AbortedError());
  signal?.addEventListener("abort", onCallerAbort, { once: true });
  try {
    return await body(controller.signal, arm);
  } catch (error) {
    if (signal?.aborted) throw new AbortedError();
    if (timeoutReason !== undefined) throw new NetworkError(timeoutReason, { cause: error });
    throw error;
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", onCallerAbort);
  }
};

const startRequest = async (url: string, options: HttpOptions, signal: AbortSignal): Promise<Response> => {
  try {
    return await fetch(url, {
      headers: { "user-agent": USER_AGENT, ...options.headers },
      redirect: "follow",
      signal,
    });
  } catch (error) {
    if (signal.aborted) throw error;
    throw new NetworkError(`cannot reach ${hostOf(url)} (${networkFailureDetail(error)})`, { cause: error });
  }
};

/** GET a JSON document; throws HttpStatusError or NetworkError with a one-line reason. */
export const fetchJson = async (url: string, options: HttpOptions = {}): Promise<unknown> =>
  withTimeouts(options.signal, async (signal, arm) => {
    arm(options.responseTimeoutMs ?? DEFAULT_RESPONSE_TIMEOUT_MS, `no answer from ${hostOf(url)} in time`);
    const response = await startRequest(
      url,
      { ...options, headers: { accept: "application/json", ...options.headers } },
      signal,
    );
    if (!response.ok) {
      await response.body?.cancel();
      throw new HttpStatusError(response.status, url);
    }
    try {
      return await response.json();
    } catch (error) {
      if (signal.aborted) throw error;
      throw new NetworkError(`invalid JSON from ${url}`, { cause: error });
    }
  });

export interface DownloadResult {
  bytes: number;
  /** Lowercase hex sha256 of the downloaded bytes, computed while streaming. */
  sha256: string;
}

/**
 * Streams `url` into `destination` (created or truncated), reporting bytes as they arrive; `totalBytes`
 * comes from Content-Length when the server sends it.
 */
export const downloadToFile = async (
  url: string,
  destination: string,
  options: HttpOptions & {
    onBytes?: (receivedBytes: number, totalBytes: number | undefined) => void;
    describeStatus?: (status: number) => string | undefined;
    /** Exact size the body must have; a different Content-Length or an overlong body is rejected early. */
    expectedBytes?: number;
  } = {},
): Promise<DownloadResult> =>
  withTimeouts(options.signal, async (signal, arm) => {
    const host = hostOf(url);
    arm(options.responseTimeoutMs ?? DEFAULT_RESPONSE_TIMEOUT_MS, `no answer from ${host} in time`);
    const response = await startRequest(url, options, signal);
    if (!response.ok || !response.body) {
      await response.body?.cancel();
      throw new HttpStatusError(response.status, url, options.describeStatus?.(response.status));
    }
    const lengthHeader = Number(response.headers.get("content-length"));
    const totalBytes = Number.isFinite(lengthHeader) && lengthHeader > 0 ? lengthHeader : undefined;
    const { expectedBytes } = options;
    if (expectedBytes !== undefined && totalBytes !== undefined && totalBytes !== expectedBytes) {
      await response.body.cancel();
      throw new NetworkError(`${url} is ${totalBytes} bytes, expected ${expectedBytes}`);
    }
    const stallMs = options.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS;
    const stallReason = `download from ${host} stalled (no data for ${stallMs / 1000} s)`;
    arm(stallMs, stallReason);
    const hash = createHash("sha256");
    let receivedBytes = 0;
    options.onBytes?.(0, totalBytes);
    try {
      await pipeline(
        Readable.fromWeb(response.body as WebReadableStream<Uint8Array>),
        async function* (chunks: AsyncIterable<Buffer>) {
          for await (const chunk of chunks) {
            arm(stallMs, stallReason);
            hash.update(chunk);
            receivedBytes += chunk.length;
            if (expectedBytes !== undefined && receivedBytes > expectedBytes) {
              throw new NetworkError(`${url} is larger than the expected ${expectedBytes} bytes`);
            }
            options.onBytes?.(receivedBytes, totalBytes);
            yield chunk;
          }
        },
        createWriteStream(destination),
      );
    } catch (error) {
      if (signal.aborted || error instanceof NetworkError) throw error;
      throw new NetworkError(`download from ${host} failed (${networkFailureDetail(error)})`, {
        cause: error,
      });
    }
    if (totalBytes !== undefined && receivedBytes !== totalBytes) {
      throw new NetworkError(`download from ${host} ended early (${receivedBytes} of ${totalBytes} bytes)`);
    }
    return { bytes: receivedBytes, sha256: hash.digest("hex") };
  });
