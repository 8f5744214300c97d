import type { Backend, BackendCapabilities, GenerateRequest, GenerateResult } from "../../core/backend.js";
import { AbortedError, BackendError, UsageError } from "../../core/errors.js";
import { compileStopAfter } from "../../core/stop-after.js";
import type { Pricing } from "../../core/usage.js";
import { withRetry } from "../../runtime/retry.js";
import { generateWithTextToolCalls } from "../text-tool-call-recovery.js";
import {
  type ExchangeContext,
  exchangeFailure,
  httpError,
  isClientRejection,
  retryAfterOf,
} from "./error-mapping.js";
import {
  type Endpoint,
  endpointOf,
  endpointUrl,
  normaliseBaseUrl,
  requestBody,
  requestHeaders,
} from "./request-body.js";
import { assembleResult, DeltaRelay, type ExchangeResult, ResponseState } from "./response-assembly.js";
import { parseAnswerBody, readEventStream } from "./stream-decoding.js";

/*
 * The Backend over OpenAI-compatible HTTP. It composes the parts of this folder: request-body builds
 * each request, stream-decoding reads the answer, response-assembly turns answers into completions,
 * error-mapping turns failures into the engine's errors. This file decides how many requests a call
 * takes (native `n`, or one per choice), retries them, and falls back when a server refuses a schema.
 */

export interface OpenAIBackendOptions {
  /** Server root, with or without `/v1`: http://127.0.0.1:8080 and https://api.openai.com/v1 both work. */
  baseUrl: string;
  apiKey?: string;
  model: string;
  /** Per HTTP request, including the whole stream. Default 120000. */
  timeoutMs?: number;
  /** Retries per HTTP request on 408/429/5xx, timeouts, dropped connections, malformed bodies. Default 3. */
  maxRetries?: number;
  /**
   * Whether the server honours `n`. "auto" (default) tries it and falls back to parallel single
   * requests, remembering the answer, when the server returns fewer choices (llama.cpp, Ollama).
   */
  nativeN?: boolean | "auto";
  /** Most requests in flight at once when `n` is split into single requests. Default 8. */
  maxParallel?: number;
  pricing?: Pricing;
  /** Extra HTTP headers on every request (they override the defaults). */
  headers?: Record<string, string>;
  fetch?: typeof fetch;
  /** First retry waits up to this long, doubling per retry (full jitter). Default 500. */
  retryBaseDelayMs?: number;
  /** Cap on a backoff wait (a server's Retry-After is honoured as given). Default 10000. */
  retryMaxDelayMs?: number;
  /**
   * Whether the server does native function calling (`tools`), reported as `capabilities.tools`.
   * Default true; set false for servers without it (e.g. llama.cpp server without --jinja), so
   * tool-using strategies fall back to a text protocol.
   */
  tools?: boolean;
}

/** One HTTP request of a call: its body, and the completion index of each server choice. */
interface Exchange {
  body: unknown;
  /** Completion index of server choice i; choices beyond it are ignored. */
  targets: number[];
}

/** Fixed per backend: where requests go and how they are sent. */
interface Connection {
  model: string;
  baseUrl: string;
  headers: Record<string, string>;
  fetch: typeof fetch;
  timeoutMs: number;
  maxRetries: number;
  retryBaseDelayMs: number;
  retryMaxDelayMs: number;
  nativeN: boolean | "auto";
  maxParallel: number;
  pricing: Pricing | undefined;
}

/** What a backend learns and holds while it is open. */
interface Session {
  closed: boolean;
  inFlight: Set<AbortController>;
  /** Learned in "auto" mode: undefined until a server shows it ignores or rejects `n`. */
  nativeNSupported: boolean | undefined;
  /** Schemas this server refused as `response_format` (400/422); they go as plain requests from then on. */
  refusedSchemas: Set<string>;
}

const CAPABILITIES: Omit<BackendCapabilities, "tools"> = {
  confidence: true,
  jsonSchema: true,
  grammar: false,
  rawPrompt: true,
};

const MAX_REMEMBERED_SCHEMAS = 256;

/**
 * A Backend over any OpenAI-compatible HTTP server (vLLM, llama.cpp server, Ollama, OpenAI), using
 * plain fetch and streaming SSE so deltas arrive as the server produces them.
 */
export function createOpenAIBackend(options: OpenAIBackendOptions): Backend {
  const baseUrl = normaliseBaseUrl(options.baseUrl);
  const connection: Connection = {
    model: options.model,
    baseUrl,
    headers: requestHeaders(options.apiKey, options.headers),
    fetch: options.fetch ?? globalThis.fetch,
    timeoutMs: options.timeoutMs ?? 120_000,
    maxRetries: options.maxRetries ?? 3,
    retryBaseDelayMs: options.retryBaseDelayMs ?? 500,
    retryMaxDelayMs: options.retryMaxDelayMs ?? 10_000,
    nativeN: options.nativeN ?? "auto",
    maxParallel: Math.max(1, Math.floor(options.maxParallel ?? 8)),
    pricing: options.pricing,
  };
  const session: Session = {
    closed: false,
    inFlight: new Set(),
    nativeNSupported: undefined,
    refusedSchemas: new Set(),
  };
  const generate = (request: GenerateRequest) => generateWithSchemaFallback(connection, session, request);
  return {
    kind: "openai",
    model: options.model,
    capabilities: { ...CAPABILITIES, tools: options.tools ?? true },
    // Servers without a tool-call parser for their model pass calls written as text on as content.
    generate: (request) => generateWithTextToolCalls(request, generate),
    async close() {
      session.closed = true;
      for (const controller of session.inFlight) controller.abort();
      session.inFlight.clear();
    },
  };
}

/**
 * Sends `jsonSchema` as `response_format: json_schema`. A server that rejects it (no support, or a
 * schema outside its strict subset) gets the request again without it: the caller's prompt and
 * validation (see src/structured) then carry the schema.
 */
async function generateWithSchemaFallback(
  connection: Connection,
  session: Session,
  request: GenerateRequest,
): Promise<GenerateResult> {
  if (request.jsonSchema === undefined) return generateOnce(connection, session, request);
  const key = JSON.stringify(request.jsonSchema);
  const plain: GenerateRequest = { ...request, jsonSchema: undefined };
  if (session.refusedSchemas.has(key)) return generateOnce(connection, session, plain);
  try {
    return await generateOnce(connection, session, request);
  } catch (error) {
    if (!isClientRejection(error)) throw error;
    if (session.refusedSchemas.size >= MAX_REMEMBERED_SCHEMAS) session.refusedSchemas.clear();
    session.refusedSchemas.add(key);
    return generateOnce(connection, session, plain);
  }
}

/** One call: checks the request, sends it as one request or several, and assembles the answers. */
async function generateOnce(
  connection: Connection,
  session: Session,
  request: GenerateRequest,
): Promise<GenerateResult> {
  if (session.closed) throw new BackendError("internal", "openai backend is closed");
  if ((request.messages === undefined) === (request.prompt === undefined)) {
    throw new UsageError("give exactly one of messages or prompt");
  }
  const n = request.n ?? 1;
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`n must be a positive integer, got ${n}`);
  if (request.tools && request.tools.length > 0 && request.prompt !== undefined) {
    throw new UsageError("tools need chat messages, not a raw prompt");
  }
  if (request.signal?.aborted) throw new AbortedError();

  const started = performance.now();
  // One controller for the whole call: the caller's abort, close(), or a sibling's failure stop all.
  const group = new AbortController();
  const onCallerAbort = (): void => group.abort();
  request.signal?.addEventListener("abort", onCallerAbort, { once: true });
  session.inFlight.add(group);
  let exchanges: ExchangeResult[];
  try {
    exchanges = await runExchanges(connection, session, request, n, group);
  } catch (error) {
    if (request.signal?.aborted || (session.closed && group.signal.aborted)) throw new AbortedError();
    throw error;
  } finally {
    request.signal?.removeEventListener("abort", onCallerAbort);
    session.inFlight.delete(group);
  }
  // An abort that raced the last bytes still wins: the caller asked for no result.
  if (request.signal?.aborted) throw new AbortedError();
  return assembleResult(exchanges, request, {
    n,
    started,
    model: connection.model,
    pricing: connection.pricing,
  });
}

/**
 * The requests for `n` choices: one asking for all of them where the server honours `n`, else one per
 * choice (at most `maxParallel` at a time). In "auto" mode a server that returns fewer choices, or
 * refuses `n`, gets the missing ones as single requests, and is remembered.
 */
async function runExchanges(
  connection: Connection,
  session: Session,
  request: GenerateRequest,
  n: number,
  group: AbortController,
): Promise<ExchangeResult[]> {
  const nativeNMode = connection.nativeN;
  const endpoint = endpointOf(request);
  const exchanges: ExchangeResult[] = [];
  const run = async (exchange: Exchange): Promise<void> => {
    exchanges.push(await exchangeWithRetry(connection, endpoint, exchange, request, group.signal));
  };
  const single = (index: number): Exchange => ({
    body: requestBody(
      connection.model,
      request,
      endpoint,
      1,
      request.seed === undefined ? undefined : request.seed + index,
    ),
    targets: [index],
  });
  const singles = (indices: number[]): Promise<void> =>
    runBounded(indices, connection.maxParallel, group, (index) => run(single(index)));

  const tryNative =
    n > 1 && (nativeNMode === true || (nativeNMode === "auto" && session.nativeNSupported !== false));
  if (n === 1) {
    await run(single(0));
    return exchanges;
  }
  if (!tryNative) {
    await singles(range(n));
    return exchanges;
  }
  let nativeRejected = false;
  try {
    await run({ body: requestBody(connection.model, request, endpoint, n, request.seed), targets: range(n) });
  } catch (error) {
    // Some servers answer n > 1 with 400 ("n must be 1"); in auto mode, split instead.
    if (nativeNMode !== "auto" || !isClientRejection(error)) throw error;
    nativeRejected = true;
  }
  const covered = new Set(exchanges.flatMap((e) => [...e.choices.keys()]));
  const missing = range(n).filter((index) => !covered.has(index));
  if (missing.length > 0) {
    await singles(missing);
    if (nativeNMode === "auto") session.nativeNSupported = false;
  } else if (!nativeRejected && nativeNMode === "auto") {
    session.nativeNSupported = true;
  }
  return exchanges;
}

/** One request, retried on retryable failures with backoff (a server's Retry-After honoured). */
function exchangeWithRetry(
  connection: Connection,
  endpoint: Endpoint,
  exchange: Exchange,
  request: GenerateRequest,
  groupSignal: AbortSignal,
): Promise<ExchangeResult> {
  const url = endpointUrl(connection.baseUrl, endpoint);
  const payload = JSON.stringify(exchange.body);
  const relay = new DeltaRelay(request.onDelta);
  return withRetry(
    () =>
      exchangeOnce(connection, url, payload, groupSignal, () => {
        const stopAfter = compileStopAfter(request.stopAfter);
        return new ResponseState(endpoint, exchange.targets, request.confidence === true, relay, stopAfter);
      }),
    {
      retries: connection.maxRetries,
      baseDelayMs: connection.retryBaseDelayMs,
      maxDelayMs: connection.retryMaxDelayMs,
      signal: groupSignal,
      isRetryable: (error) => error instanceof BackendError && error.retryable,
      retryAfterMs: retryAfterOf,
    },
  );
}

/** One HTTP attempt: POST, then read the stream (or a whole JSON answer) into a fresh state. */
async function exchangeOnce(
  connection: Connection,
  url: string,
  payload: string,
  groupSignal: AbortSignal,
  newState: () => ResponseState,
): Promise<ExchangeResult> {
  const timeoutSignal = AbortSignal.timeout(connection.timeoutMs);
  const signal = AbortSignal.any([groupSignal, timeoutSignal]);
  const context: ExchangeContext = {
    url,
    baseUrl: connection.baseUrl,
    timeoutMs: connection.timeoutMs,
    groupSignal,
    timeoutSignal,
  };
  let response: Response;
  try {
    response = await connection.fetch(url, {
      method: "POST",
      headers: connection.headers,
      body: payload,
      signal,
    });
  } catch (error) {
    throw exchangeFailure(error, "connect", context);
  }
  try {
    if (!response.ok) throw await httpError(response);
    const state = newState();
    const contentType = response.headers.get("content-type") ?? "";
    if (contentType.includes("text/event-stream")) {
      await readEventStream(response, url, state, signal);
    } else {
      // Not every server streams when asked; a whole JSON answer is fine too.
      state.applyWhole(parseAnswerBody(await response.text(), url));
    }
    return state.result();
  } catch (error) {
    // Frees the connection when we stop reading early (errors, aborts).
    response.body?.cancel().catch(() => {});
    throw exchangeFailure(error, "read", context);
  }
}

/** Runs `work` for each item, at most `limit` at a time; the first failure stops the rest. */
async function runBounded(
  items: number[],
  limit: number,
  group: AbortController,
  work: (item: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  let firstError: unknown;
  const worker = async (): Promise<void> => {
    while (next < items.length && !group.signal.aborted) {
      const item = items[next++] as number;
      try {
        await work(item);
      } catch (error) {
        // Siblings stopped by our own abort report AbortedError; keep the failure that caused it.
        if (
          firstError === undefined ||
          (firstError instanceof AbortedError && !(error instanceof AbortedError))
        ) {
          firstError = error;
        }
        group.abort();
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (firstError !== undefined) throw firstError;
  if (group.signal.aborted) throw new AbortedError();
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
