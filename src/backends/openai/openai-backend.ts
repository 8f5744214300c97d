import type {
  Backend,
  BackendCapabilities,
  Completion,
  CompletionDelta,
  FinishReason,
  GenerateRequest,
  GenerateResult,
  ToolChoice,
} from "../../core/backend.js";
import { AbortedError, BackendError, errorMessage, UsageError } from "../../core/errors.js";
import type { ChatMessage, ToolCall } from "../../core/message.js";
import { compileStopAfter, stopAfterIndex } from "../../core/stop-after.js";
import { type Pricing, priceOf } from "../../core/usage.js";
import { withRetry } from "../../runtime/retry.js";
import { generateWithTextToolCalls } from "../text-tool-call-recovery.js";

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

type Endpoint = "chat" | "completions";
type Json = Record<string, unknown>;

/** What one HTTP exchange produced for one of its choices. */
interface ChoiceState {
  text: string;
  finishReason: FinishReason | undefined;
  confidences: number[];
  contentChunks: number;
  /** Ended by the request's `stopAfter` pattern here, not by the server. */
  cutShort?: boolean;
  /** Tool calls by the server's index; streamed calls arrive in pieces and are joined here. */
  toolCalls: Map<number, { id: string | undefined; name: string; arguments: string }>;
}

interface ExchangeResult {
  /** By completion index (already mapped from the server's choice index). */
  choices: Map<number, ChoiceState>;
  promptTokens: number | undefined;
  completionTokens: number | undefined;
  model: string | undefined;
}

interface Exchange {
  body: Json;
  /** Completion index of server choice i; choices beyond it are ignored. */
  targets: number[];
}

const CAPABILITIES: Omit<BackendCapabilities, "tools"> = {
  confidence: true,
  jsonSchema: true,
  grammar: false,
  rawPrompt: true,
};

/** Remembers Retry-After per error without widening BackendError's public shape. */
const retryAfterByError = new WeakMap<object, number>();

/**
 * A Backend over any OpenAI-compatible HTTP server (vLLM, llama.cpp server, Ollama, OpenAI), using
 * plain fetch and streaming SSE so deltas arrive as the server produces them.
 */
export function createOpenAIBackend(options: OpenAIBackendOptions): Backend {
  const baseUrl = normaliseBaseUrl(options.baseUrl);
  const timeoutMs = options.timeoutMs ?? 120_000;
  const maxRetries = options.maxRetries ?? 3;
  const nativeNMode = options.nativeN ?? "auto";
  const maxParallel = Math.max(1, Math.floor(options.maxParallel ?? 8));
  const retryBaseDelayMs = options.retryBaseDelayMs ?? 500;
  const retryMaxDelayMs = options.retryMaxDelayMs ?? 10_000;
  const fetchImpl = options.fetch ?? globalThis.fetch;
  const headers: Record<string, string> = {
    "content-type": "application/json",
    accept: "text/event-stream, application/json",
    ...(options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {}),
    ...options.headers,
  };

  /** Learned in "auto" mode: undefined until a server shows it ignores or rejects `n`. */
  let nativeNSupported: boolean | undefined;
  let closed = false;
  const inFlight = new Set<AbortController>();

  /** Schemas this server refused as `response_format` (400/422); they go as plain requests from then on. */
  const refusedSchemas = new Set<string>();
  const MAX_REMEMBERED_SCHEMAS = 256;

  /**
   * Sends `jsonSchema` as `response_format: json_schema`. A server that rejects it (no support, or a
   * schema outside its strict subset) gets the request again without it: the caller's prompt and
   * validation (see src/structured) then carry the schema.
   */
  async function generate(request: GenerateRequest): Promise<GenerateResult> {
    if (request.jsonSchema === undefined) return generateOnce(request);
    const key = JSON.stringify(request.jsonSchema);
    const plain: GenerateRequest = { ...request, jsonSchema: undefined };
    if (refusedSchemas.has(key)) return generateOnce(plain);
    try {
      return await generateOnce(request);
    } catch (error) {
      if (!isClientRejection(error)) throw error;
      if (refusedSchemas.size >= MAX_REMEMBERED_SCHEMAS) refusedSchemas.clear();
      refusedSchemas.add(key);
      return generateOnce(plain);
    }
  }

  async function generateOnce(request: GenerateRequest): Promise<GenerateResult> {
    if (closed) throw new BackendError("internal", "openai backend is closed");
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
    const endpoint: Endpoint = request.messages ? "chat" : "completions";
    // One controller for the whole call: the caller's abort, close(), or a sibling's failure stop all.
    const group = new AbortController();
    const onCallerAbort = (): void => group.abort();
    request.signal?.addEventListener("abort", onCallerAbort, { once: true });
    inFlight.add(group);

    const exchanges: ExchangeResult[] = [];
    const run = async (exchange: Exchange): Promise<void> => {
      exchanges.push(await exchangeWithRetry(endpoint, exchange, request, group.signal));
    };
    const single = (index: number): Exchange => ({
      body: requestBody(
        options.model,
        request,
        endpoint,
        1,
        request.seed === undefined ? undefined : request.seed + index,
      ),
      targets: [index],
    });
    const singles = (indices: number[]): Promise<void> =>
      runBounded(indices, maxParallel, group, (index) => run(single(index)));

    try {
      const tryNative =
        n > 1 && (nativeNMode === true || (nativeNMode === "auto" && nativeNSupported !== false));
      if (n === 1) {
        await run(single(0));
      } else if (!tryNative) {
        await singles(range(n));
      } else {
        let nativeRejected = false;
        try {
          await run({
            body: requestBody(options.model, request, endpoint, n, request.seed),
            targets: range(n),
          });
        } catch (error) {
          // Some servers answer n > 1 with 400 ("n must be 1"); in auto mode, split instead.
          if (nativeNMode !== "auto" || !isClientRejection(error)) throw error;
          nativeRejected = true;
        }
        const covered = new Set(exchanges.flatMap((e) => [...e.choices.keys()]));
        const missing = range(n).filter((index) => !covered.has(index));
        if (missing.length > 0) {
          await singles(missing);
          if (nativeNMode === "auto") nativeNSupported = false;
        } else if (!nativeRejected && nativeNMode === "auto") {
          nativeNSupported = true;
        }
      }
    } catch (error) {
      if (request.signal?.aborted || (closed && group.signal.aborted)) throw new AbortedError();
      throw error;
    } finally {
      request.signal?.removeEventListener("abort", onCallerAbort);
      inFlight.delete(group);
    }

    // An abort that raced the last bytes still wins: the caller asked for no result.
    if (request.signal?.aborted) throw new AbortedError();
    return assemble(exchanges, n, request, started);
  }

  async function exchangeWithRetry(
    endpoint: Endpoint,
    exchange: Exchange,
    request: GenerateRequest,
    groupSignal: AbortSignal,
  ): Promise<ExchangeResult> {
    const url = `${baseUrl}/${endpoint === "chat" ? "chat/completions" : "completions"}`;
    const payload = JSON.stringify(exchange.body);
    const relay = new DeltaRelay(request.onDelta);
    return withRetry(
      () => exchangeOnce(url, endpoint, payload, exchange.targets, request, relay, groupSignal),
      {
        retries: maxRetries,
        baseDelayMs: retryBaseDelayMs,
        maxDelayMs: retryMaxDelayMs,
        signal: groupSignal,
        isRetryable: (error) => error instanceof BackendError && error.retryable,
        retryAfterMs: (error) =>
          typeof error === "object" && error ? retryAfterByError.get(error) : undefined,
      },
    );
  }

  async function exchangeOnce(
    url: string,
    endpoint: Endpoint,
    payload: string,
    targets: number[],
    request: GenerateRequest,
    relay: DeltaRelay,
    groupSignal: AbortSignal,
  ): Promise<ExchangeResult> {
    const timeoutSignal = AbortSignal.timeout(timeoutMs);
    const signal = AbortSignal.any([groupSignal, timeoutSignal]);
    const failure = (error: unknown, phase: "connect" | "read"): Error => {
      if (error instanceof BackendError || error instanceof AbortedError) return error;
      if (groupSignal.aborted) return new AbortedError();
      if (timeoutSignal.aborted) {
        return new BackendError("timeout", `no complete answer from ${url} within ${timeoutMs} ms`, {
          retryable: true,
          cause: error,
        });
      }
      const reason = networkReason(error);
      return phase === "connect"
        ? new BackendError("unreachable", `cannot reach ${baseUrl}: ${reason}`, {
            retryable: true,
            cause: error,
          })
        : new BackendError("invalid_response", `response from ${url} broke off: ${reason}`, {
            retryable: true,
            cause: error,
          });
    };

    let response: Response;
    try {
      response = await fetchImpl(url, { method: "POST", headers, body: payload, signal });
    } catch (error) {
      throw failure(error, "connect");
    }
    try {
      if (!response.ok) throw await httpError(response);
      const state = new ResponseState(
        endpoint,
        targets,
        request.confidence === true,
        relay,
        compileStopAfter(request.stopAfter),
      );
      const contentType = response.headers.get("content-type") ?? "";
      if (contentType.includes("text/event-stream")) {
        await readEventStream(response, url, state, signal);
      } else {
        // Not every server streams when asked; a whole JSON answer is fine too.
        state.applyWhole(parseJson(await response.text(), url));
      }
      return state.result();
    } catch (error) {
      // Frees the connection when we stop reading early (errors, aborts).
      response.body?.cancel().catch(() => {});
      throw failure(error, "read");
    }
  }

  return {
    kind: "openai",
    model: options.model,
    capabilities: { ...CAPABILITIES, tools: options.tools ?? true },
    // Servers without a tool-call parser for their model pass calls written as text on as content.
    generate: (request) => generateWithTextToolCalls(request, generate),
    async close() {
      closed = true;
      for (const controller of inFlight) controller.abort();
      inFlight.clear();
    },
  };

  function assemble(
    exchanges: ExchangeResult[],
    n: number,
    request: GenerateRequest,
    started: number,
  ): GenerateResult {
    const completions: Completion[] = [];
    let completionTokens = 0;
    let promptTokens = 0;
    for (const exchange of exchanges) {
      const perChoice = splitCompletionTokens(exchange, request.confidence === true);
      completionTokens += [...perChoice.values()].reduce((sum, tokens) => sum + tokens, 0);
      // Every request of a call carries the same prompt: count it once, as a native-n server would.
      promptTokens = Math.max(promptTokens, exchange.promptTokens ?? 0);
      for (const [index, choice] of exchange.choices) {
        if (index >= n) continue;
        const toolCalls = toolCallsOf(choice, index);
        // OpenAI reports "stop" when a call was forced by tool_choice; a call is a call either way,
        // and "tool_calls" without one (nothing parseable came) is an ordinary stop.
        const finishReason =
          toolCalls.length > 0 && choice.finishReason !== "length"
            ? "tool_calls"
            : choice.finishReason === "tool_calls"
              ? "stop"
              : choice.finishReason;
        completions.push({
          index,
          text: choice.text,
          finishReason: finishReason ?? "stop",
          promptTokens: exchange.promptTokens ?? 0,
          completionTokens: perChoice.get(index) ?? 0,
          ...(request.confidence && choice.confidences.length > 0
            ? { tokenConfidences: choice.confidences }
            : {}),
          ...(toolCalls.length > 0 && { toolCalls }),
        });
      }
    }
    completions.sort((a, b) => a.index - b.index);
    const model = exchanges.find((e) => e.model)?.model ?? options.model;
    return {
      completions,
      model,
      usage: {
        promptTokens,
        completionTokens,
        calls: exchanges.length,
        wallMs: Math.round(performance.now() - started),
        costUsd: priceOf(options.pricing, promptTokens, completionTokens),
      },
    };
  }
}

/** Accepts http://host:port, http://host:port/, http://host:port/v1 and http://host:port/v1/. */
export function normaliseBaseUrl(baseUrl: string): string {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new UsageError(`invalid baseUrl: ${baseUrl}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new UsageError(`baseUrl must be http(s), got ${baseUrl}`);
  }
  const path = url.pathname.replace(/\/+$/, "");
  url.pathname = path.endsWith("/v1") ? path : `${path}/v1`;
  return url.toString().replace(/\/+$/, "");
}

function requestBody(
  model: string,
  request: GenerateRequest,
  endpoint: Endpoint,
  n: number,
  seed: number | undefined,
): Json {
  const body: Json = { model, stream: true, stream_options: { include_usage: true } };
  if (endpoint === "chat") {
    body.messages = (request.messages ?? []).map(wireMessage);
    if (request.tools && request.tools.length > 0) {
      body.tools = request.tools.map((tool) => ({
        type: "function",
        function: { name: tool.name, description: tool.description, parameters: tool.parameters },
      }));
      if (request.toolChoice !== undefined) body.tool_choice = wireToolChoice(request.toolChoice);
    }
  } else {
    body.prompt = request.prompt;
  }
  if (n > 1) body.n = n;
  if (request.temperature !== undefined) body.temperature = request.temperature;
  if (request.topP !== undefined) body.top_p = request.topP;
  // Not in OpenAI's API, but vLLM, llama.cpp and Ollama read it; OpenAI ignores it when unset.
  if (request.topK !== undefined) body.top_k = request.topK;
  if (seed !== undefined) body.seed = seed;
  if (request.maxTokens !== undefined) body.max_tokens = request.maxTokens;
  if (request.stop && request.stop.length > 0) body.stop = request.stop;
  // Chat takes a boolean; legacy completions take a top-k count, where 1 is the most portable.
  if (request.confidence) body.logprobs = endpoint === "chat" ? true : 1;
  if (request.jsonSchema) {
    body.response_format = {
      type: "json_schema",
      json_schema: { name: "output", schema: request.jsonSchema, strict: true },
    };
  }
  return body;
}

function wireMessage(message: ChatMessage): Json {
  const calls = message.role === "assistant" ? (message.toolCalls ?? []) : [];
  return {
    role: message.role,
    // An assistant turn that only calls tools has null content in OpenAI's format.
    content: calls.length > 0 && message.content === "" ? null : message.content,
    // OpenAI's tool messages have no `name`; strict servers reject one.
    ...(message.name !== undefined && !(message.role === "tool" && message.toolCallId !== undefined)
      ? { name: message.name }
      : {}),
    ...(message.toolCallId !== undefined ? { tool_call_id: message.toolCallId } : {}),
    ...(calls.length > 0 && {
      tool_calls: calls.map((call) => ({
        id: call.id,
        type: "function",
        function: { name: call.name, arguments: call.arguments },
      })),
    }),
  };
}

function wireToolChoice(choice: ToolChoice): unknown {
  return typeof choice === "string" ? choice : { type: "function", function: { name: choice.name } };
}

/** A choice's tool calls in the server's order; a server that sent no id gets a stable one. */
function toolCallsOf(choice: ChoiceState, index: number): ToolCall[] {
  return [...choice.toolCalls.entries()]
    .sort(([a], [b]) => a - b)
    .filter(([, call]) => call.name !== "")
    .map(([at, call]) => ({
      id: call.id ?? `call_${index}_${at}`,
      name: call.name,
      arguments: call.arguments,
    }));
}

/**
 * Passes streamed text on to the caller. A retried request replays text the failed attempt already
 * streamed; only what goes beyond it is passed on, so with a deterministic server (seeded or greedy)
 * the deltas still add up to the final text. A retry that diverges cannot take back what was sent.
 */
class DeltaRelay {
  private readonly sentLength = new Map<number, number>();
  constructor(private readonly onDelta: ((delta: CompletionDelta) => void) | undefined) {}

  relay(index: number, textSoFar: string): void {
    const sent = this.sentLength.get(index) ?? 0;
    if (textSoFar.length <= sent) return;
    this.sentLength.set(index, textSoFar.length);
    this.onDelta?.({ index, text: textSoFar.slice(sent) });
  }
}

/** Reads one HTTP answer into per-choice text, finish reasons, logprobs and usage. */
class ResponseState {
  private readonly choices = new Map<number, ChoiceState>();
  private promptTokens: number | undefined;
  private completionTokens: number | undefined;
  private model: string | undefined;

  constructor(
    private readonly endpoint: Endpoint,
    private readonly targets: number[],
    private readonly wantConfidence: boolean,
    private readonly relay: DeltaRelay,
    private readonly stopAfter: RegExp | undefined,
  ) {}

  /**
   * Whether every choice has ended and at least one was cut short by `stopAfter`: the rest of the
   * stream is then not worth reading, and closing it tells the server to stop generating.
   */
  endedEarly(): boolean {
    const states = this.targets.map((t) => this.choices.get(t));
    return (
      states.some((s) => s?.cutShort) && states.every((s) => s !== undefined && s.finishReason !== undefined)
    );
  }

  /** Applies one streamed chunk. */
  applyChunk(chunk: Json): void {
    this.applyCommon(chunk);
    for (const choice of arrayOf(chunk.choices)) {
      const delta = this.endpoint === "chat" ? asObject(choice.delta) : undefined;
      this.applyChoice(choice, this.endpoint === "chat" ? delta?.content : choice.text, delta?.tool_calls);
    }
  }

  /** Applies a non-streamed answer. */
  applyWhole(body: Json): void {
    this.applyCommon(body);
    for (const choice of arrayOf(body.choices)) {
      const message = this.endpoint === "chat" ? asObject(choice.message) : undefined;
      this.applyChoice(
        choice,
        this.endpoint === "chat" ? message?.content : choice.text,
        message?.tool_calls,
      );
    }
  }

  /** Whether every choice seen so far has finished: a clean end of stream without [DONE] is then OK. */
  finished(): boolean {
    return this.choices.size > 0 && [...this.choices.values()].every((c) => c.finishReason !== undefined);
  }

  result(): ExchangeResult {
    if (this.choices.size === 0) {
      throw new BackendError("invalid_response", "the server's answer had no choices", { retryable: true });
    }
    return {
      choices: this.choices,
      promptTokens: this.promptTokens,
      completionTokens: this.completionTokens,
      model: this.model,
    };
  }

  private applyCommon(body: Json): void {
    if (typeof body.model === "string" && body.model !== "") this.model ??= body.model;
    const usage = asObject(body.usage);
    if (usage) {
      if (typeof usage.prompt_tokens === "number") this.promptTokens = usage.prompt_tokens;
      if (typeof usage.completion_tokens === "number") this.completionTokens = usage.completion_tokens;
    }
  }

  private applyChoice(choice: Json, text: unknown, toolCalls: unknown): void {
    const target = this.targets[numberOr(choice.index, 0)];
    if (target === undefined) return;
    let state = this.choices.get(target);
    if (!state) {
      state = { text: "", finishReason: undefined, confidences: [], contentChunks: 0, toolCalls: new Map() };
      this.choices.set(target, state);
    }
    if (state.cutShort) return;
    const calls = state.toolCalls;
    const pieces = arrayOf(toolCalls);
    // Tool-call pieces are generated tokens too, for splitting usage across choices.
    state.contentChunks += pieces.length;
    pieces.forEach((call, position) => {
      // Streamed pieces carry the call's index; a whole answer may leave it out and rely on order.
      const at = numberOr(call.index, position);
      const fn = asObject(call.function);
      const known = calls.get(at) ?? { id: undefined, name: "", arguments: "" };
      if (typeof call.id === "string" && call.id !== "") known.id ??= call.id;
      // Names come whole (some servers repeat them in every piece); arguments come in pieces.
      if (typeof fn?.name === "string" && known.name === "") known.name = fn.name;
      if (typeof fn?.arguments === "string") known.arguments += fn.arguments;
      // Some servers send arguments as an object rather than JSON text.
      else if (asObject(fn?.arguments)) known.arguments = JSON.stringify(fn?.arguments);
      calls.set(at, known);
    });
    if (typeof text === "string" && text !== "") {
      state.text += text;
      state.contentChunks++;
      const endAt = stopAfterIndex(state.text, this.stopAfter);
      if (endAt !== undefined) {
        state.text = state.text.slice(0, endAt);
        state.finishReason = "stop";
        state.cutShort = true;
      }
      this.relay.relay(target, state.text);
      if (state.cutShort) return;
    }
    if (this.wantConfidence) {
      for (const logprob of logprobsOf(choice.logprobs)) state.confidences.push(Math.exp(logprob));
    }
    if (typeof choice.finish_reason === "string" && choice.finish_reason !== "") {
      state.finishReason = finishReasonOf(choice.finish_reason);
    }
  }
}

function finishReasonOf(reason: string): FinishReason {
  if (reason === "length") return "length";
  // "function_call" is the name before tools existed.
  if (reason === "tool_calls" || reason === "function_call") return "tool_calls";
  return "stop";
}

/** Chat: `{content: [{logprob}]}`; legacy completions: `{token_logprobs: [n]}`. */
function logprobsOf(value: unknown): number[] {
  const logprobs = asObject(value);
  if (!logprobs) return [];
  if (Array.isArray(logprobs.content)) {
    return logprobs.content.map((entry) => asObject(entry)?.logprob).filter((lp) => typeof lp === "number");
  }
  if (Array.isArray(logprobs.token_logprobs)) {
    return logprobs.token_logprobs.filter((lp): lp is number => typeof lp === "number");
  }
  return [];
}

/**
 * Splits an exchange's completion tokens over its choices. With one choice that is the server's
 * count. Servers count n choices together, so per choice we weight by tokens we saw (logprobs, else
 * stream chunks) and round so the parts still add up to the server's total.
 */
function splitCompletionTokens(exchange: ExchangeResult, useLogprobs: boolean): Map<number, number> {
  const entries = [...exchange.choices.entries()];
  const seen = entries.map(([, c]) =>
    useLogprobs && c.confidences.length > 0 ? c.confidences.length : c.contentChunks,
  );
  // Without usage (servers ignoring stream_options), estimate: servers stream about one token per chunk.
  const total = exchange.completionTokens ?? seen.reduce((sum, s) => sum + s, 0);
  const result = new Map<number, number>();
  if (entries.length === 1) {
    result.set(entries[0]?.[0] ?? 0, total);
    return result;
  }
  const seenTotal = seen.reduce((sum, s) => sum + s, 0);
  const shares = seen.map((s) => (seenTotal > 0 ? (s / seenTotal) * total : total / entries.length));
  const floors = shares.map(Math.floor);
  let leftover = total - floors.reduce((sum, f) => sum + f, 0);
  // Largest remainder first, so rounding never changes the sum.
  const order = shares
    .map((share, i) => ({ i, rest: share - Math.floor(share) }))
    .sort((a, b) => b.rest - a.rest);
  for (const { i } of order) {
    if (leftover <= 0) break;
    floors[i] = (floors[i] ?? 0) + 1;
    leftover--;
  }
  entries.forEach(([index], i) => {
    result.set(index, floors[i] ?? 0);
  });
  return result;
}

async function readEventStream(
  response: Response,
  url: string,
  state: ResponseState,
  signal: AbortSignal,
): Promise<void> {
  if (!response.body)
    throw new BackendError("invalid_response", `empty body from ${url}`, { retryable: true });
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  const events = new SseDecoder();
  const handle = (data: string): boolean => {
    if (data === "[DONE]") return true;
    const chunk = parseJson(data, url);
    if (chunk.error !== undefined) throw inBandError(chunk.error);
    state.applyChunk(chunk);
    return false;
  };
  let reachedEnd = false;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      const datas = done
        ? [...events.push(decoder.decode()), ...events.end()]
        : events.push(decoder.decode(value, { stream: true }));
      for (const data of datas) {
        // One read may hold many events: stop between them once aborted (e.g. from onDelta).
        if (signal.aborted) throw new Error("aborted while reading the stream");
        if (handle(data) || state.endedEarly()) return;
      }
      if (done) {
        reachedEnd = true;
        break;
      }
    }
  } finally {
    // Stop the transfer when we quit early (after [DONE], on a bad chunk, on abort).
    if (!reachedEnd) reader.cancel().catch(() => {});
  }
  // Ended cleanly but without [DONE]: fine if every choice finished, otherwise the stream was cut.
  if (!state.finished()) {
    throw new BackendError("invalid_response", `stream from ${url} ended before [DONE]`, { retryable: true });
  }
}

/**
 * Incremental server-sent-events decoder: feed text as it arrives, get back each complete event's
 * data (multi-line data joined with "\n"). Handles LF, CRLF and CR line ends split across reads,
 * comments and fields other than data.
 */
export class SseDecoder {
  private buffer = "";
  private dataLines: string[] = [];

  push(text: string): string[] {
    this.buffer += text;
    const events: string[] = [];
    let lineStart = 0;
    for (let i = 0; i < this.buffer.length; i++) {
      const char = this.buffer[i];
      if (char !== "\n" && char !== "\r") continue;
      // A CR at the end may be the first half of a CRLF: wait for the next read.
      if (char === "\r" && i === this.buffer.length - 1) break;
      this.line(this.buffer.slice(lineStart, i), events);
      if (char === "\r" && this.buffer[i + 1] === "\n") i++;
      lineStart = i + 1;
    }
    this.buffer = this.buffer.slice(lineStart);
    return events;
  }

  /** Call at end of input: flushes a last event that lacked its closing blank line. */
  end(): string[] {
    const events: string[] = [];
    const rest = this.buffer.replace(/\r$/, "");
    this.buffer = "";
    if (rest !== "") this.line(rest, events);
    this.line("", events);
    return events;
  }

  private line(line: string, events: string[]): void {
    if (line === "") {
      if (this.dataLines.length > 0) events.push(this.dataLines.join("\n"));
      this.dataLines = [];
      return;
    }
    if (line.startsWith(":")) return;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    if (field !== "data") return;
    const value = colon < 0 ? "" : line.slice(colon + 1);
    this.dataLines.push(value.startsWith(" ") ? value.slice(1) : value);
  }
}

function parseJson(text: string, url: string): Json {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new BackendError("invalid_response", `malformed JSON from ${url}: ${snippet(text)}`, {
      retryable: true,
    });
  }
  const object = asObject(value);
  if (!object) {
    throw new BackendError("invalid_response", `expected a JSON object from ${url}: ${snippet(text)}`, {
      retryable: true,
    });
  }
  return object;
}

/** An error object a server sent inside a 200 stream (vLLM and OpenAI do this mid-generation). */
function inBandError(error: unknown): BackendError {
  const object = asObject(error);
  const message = typeof error === "string" ? error : String(object?.message ?? "unknown error");
  const code = object?.code;
  const status =
    typeof code === "number"
      ? code
      : typeof code === "string" && /^\d{3}$/.test(code)
        ? Number(code)
        : undefined;
  const retryable = status === undefined || status === 408 || status === 429 || status >= 500;
  const text = status === undefined ? `error in stream: ${message}` : `${status} ${message}`;
  return new BackendError("http", text, { status, retryable });
}

async function httpError(response: Response): Promise<BackendError> {
  const { status } = response;
  let text = "";
  try {
    text = await response.text();
  } catch {
    // The status line is enough to report.
  }
  const retryable = status === 408 || status === 429 || status >= 500;
  const error = new BackendError(
    "http",
    `${status} ${serverErrorMessage(text) ?? response.statusText}`.trim(),
    {
      status,
      retryable,
    },
  );
  const retryAfter = parseRetryAfter(response.headers);
  if (retryAfter !== undefined) retryAfterByError.set(error, retryAfter);
  return error;
}

/** An error body's message: OpenAI `{error:{message}}` or `{error:"..."}`, vLLM `{message}`, `{detail}`. */
function serverErrorMessage(text: string): string | undefined {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return text.trim() ? snippet(text.trim()) : undefined;
  }
  const object = asObject(body);
  const error = object?.error;
  if (typeof error === "string") return error;
  const nested = asObject(error)?.message;
  if (typeof nested === "string") return nested;
  if (typeof object?.message === "string") return object.message;
  if (typeof object?.detail === "string") return object.detail;
  return snippet(text);
}

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

const isClientRejection = (error: unknown): boolean =>
  error instanceof BackendError && error.kind === "http" && (error.status === 400 || error.status === 422);

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

const asObject = (value: unknown): Json | undefined =>
  typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Json) : undefined;

const arrayOf = (value: unknown): Json[] =>
  Array.isArray(value) ? value.map(asObject).filter((v): v is Json => v !== undefined) : [];

const numberOr = (value: unknown, fallback: number): number =>
  typeof value === "number" && Number.isInteger(value) ? value : fallback;

const snippet = (text: string): string => (text.length > 200 ? `${text.slice(0, 200)}…` : text);
