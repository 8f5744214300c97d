import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { openAIErrorType } from "../backends/openai/openai-error-type.js";
import type {
  Backend,
  Completion,
  GenerateRequest,
  GenerateResult,
  JsonSchema,
  ToolChoice,
  ToolSpec,
} from "../core/backend.js";
import { AbortedError, BackendError, errorMessage, UsageError } from "../core/errors.js";
import type { ChatMessage, ChatRole, ToolCall } from "../core/message.js";

/** Something going wrong on purpose, so clients' retry and error paths can be tested over real HTTP. */
export type Fault =
  /** Answer with this status and an OpenAI-style error body; Retry-After headers when given. */
  | { type: "status"; status: number; message?: string; retryAfterSeconds?: number; retryAfterMs?: number }
  /** Wait before answering normally, e.g. to outlast a client timeout. */
  | { type: "delay"; ms: number }
  /** Answer 200 with a body (or stream event) that is not valid JSON. */
  | { type: "malformed" }
  /** Start answering, then destroy the socket after `afterChunks` content chunks (default 1). */
  | { type: "drop"; afterChunks?: number };

/** Which requests fail how. Requests are numbered from 1 in arrival order, across all routes. */
export interface FaultPlan {
  byRequest?: Record<number, Fault>;
  /** The same fault for each of the first `count` requests (byRequest wins where both apply). */
  first?: { count: number; fault: Fault };
}

export interface OpenAICompatibleServerOptions {
  /** The backend that answers every request. */
  backend: Backend;
  faults?: FaultPlan;
  /** Default 0: any free port. */
  port?: number;
  /** Behave like llama.cpp server and Ollama: ignore `n` and return a single choice. */
  ignoreN?: boolean;
  /** Never put usage in streams, like servers that ignore `stream_options.include_usage`. */
  omitStreamUsage?: boolean;
  /**
   * Behave like a server without function calling (llama.cpp server without --jinja): a chat request
   * that declares `tools` is answered 400 (or the given status) instead of being served.
   */
  rejectTools?: boolean | { status?: 400 | 422; message?: string };
}

export interface OpenAICompatibleServer {
  /** Base URL including `/v1`, e.g. http://127.0.0.1:PORT/v1. */
  readonly url: string;
  /** Requests received so far, on any route. */
  readonly requests: number;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 10 * 1024 * 1024;
const CHAT_ROLES: ReadonlySet<string> = new Set(["system", "user", "assistant", "tool"]);

/** A request the client got wrong: answered with its status and an OpenAI-style error. */
class ClientError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly param?: string,
  ) {
    super(message);
  }
}

type Endpoint = "chat" | "completions";

interface ParsedRequest {
  endpoint: Endpoint;
  generate: GenerateRequest;
  stream: boolean;
  includeUsage: boolean;
}

/**
 * Serves the OpenAI chat-completions and completions API in front of any Backend, over real HTTP on
 * 127.0.0.1, so HTTP clients (ours and the official SDK) can be tested against a known model.
 */
export async function startOpenAICompatibleServer(
  options: OpenAICompatibleServerOptions,
): Promise<OpenAICompatibleServer> {
  let requestCount = 0;
  let responseIds = 0;
  const server = createServer((req, res) => {
    requestCount++;
    const requestNumber = requestCount;
    handle(req, res, requestNumber).catch((error: unknown) => {
      // Last resort: handle() answers its own errors, so this is a bug or a write to a dead socket.
      if (!res.headersSent && !res.destroyed) {
        sendError(res, 500, `internal server error: ${errorMessage(error)}`);
      } else {
        res.destroy();
      }
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse, requestNumber: number): Promise<void> {
    // Aborts the backend's work when the client goes away (timeouts, aborts, dropped streams).
    const disconnected = new AbortController();
    res.on("close", () => {
      if (!res.writableFinished) disconnected.abort();
    });

    let rawBody: string;
    try {
      rawBody = await readBody(req);
    } catch (error) {
      if (error instanceof ClientError) sendError(res, error.status, error.message);
      else res.destroy();
      return;
    }

    const fault = faultFor(options.faults, requestNumber);
    if (fault?.type === "delay") {
      await delay(fault.ms, disconnected.signal);
      if (disconnected.signal.aborted) return;
    }
    if (fault?.type === "status") {
      const headers: Record<string, string> = {};
      if (fault.retryAfterSeconds !== undefined) headers["retry-after"] = String(fault.retryAfterSeconds);
      if (fault.retryAfterMs !== undefined) headers["retry-after-ms"] = String(fault.retryAfterMs);
      sendError(res, fault.status, fault.message ?? `injected fault: status ${fault.status}`, headers);
      return;
    }

    const path = (req.url ?? "/").split("?")[0] ?? "/";
    const route = ROUTES[path];
    if (!route) {
      sendError(res, 404, `unknown route ${req.method ?? ""} ${path}`);
      return;
    }
    if (req.method !== route.method) {
      sendError(res, 405, `method ${req.method ?? ""} not allowed on ${path}`, { allow: route.method });
      return;
    }
    if (route.endpoint === undefined) {
      sendJson(res, 200, {
        object: "list",
        data: [{ id: options.backend.model, object: "model", created: 0, owned_by: "deliberate" }],
      });
      return;
    }

    let parsed: ParsedRequest;
    try {
      parsed = parseRequest(route.endpoint, rawBody, options.ignoreN ?? false);
      if (options.rejectTools && parsed.generate.tools) {
        const { status = 400, message = "tools param requires --jinja flag" } =
          options.rejectTools === true ? {} : options.rejectTools;
        throw new ClientError(status, message, "tools");
      }
    } catch (error) {
      if (!(error instanceof ClientError)) throw error;
      sendError(res, error.status, error.message, {}, error.param);
      return;
    }

    if (fault?.type === "malformed") {
      if (parsed.stream) {
        res.writeHead(200, SSE_HEADERS);
        res.end('data: {"id": "broken", "choices": [\n\ndata: [DONE]\n\n');
      } else {
        res.writeHead(200, { "content-type": "application/json" });
        res.end('{"id": "broken", "choices": [');
      }
      return;
    }

    const id = `${parsed.endpoint === "chat" ? "chatcmpl" : "cmpl"}-${++responseIds}`;
    const dropAfterChunks = fault?.type === "drop" ? (fault.afterChunks ?? 1) : undefined;
    if (parsed.stream) {
      await serveStream(res, parsed, id, disconnected, dropAfterChunks);
    } else {
      await serveWhole(res, parsed, id, disconnected, dropAfterChunks);
    }
  }

  async function serveWhole(
    res: ServerResponse,
    parsed: ParsedRequest,
    id: string,
    disconnected: AbortController,
    dropAfterChunks: number | undefined,
  ): Promise<void> {
    const tokenTexts = new Map<number, string[]>();
    let result: GenerateResult;
    try {
      result = await options.backend.generate({
        ...parsed.generate,
        signal: disconnected.signal,
        onDelta: ({ index, text }) => recordDelta(tokenTexts, index, text),
      });
    } catch (error) {
      if (!disconnected.signal.aborted) sendBackendError(res, error);
      return;
    }
    const created = nowSeconds();
    const choices = result.completions.map((completion) =>
      parsed.endpoint === "chat"
        ? {
            index: completion.index,
            message: {
              role: "assistant",
              // OpenAI sends null content for a turn that only calls tools.
              content: completion.toolCalls && completion.text === "" ? null : completion.text,
              refusal: null,
              ...(completion.toolCalls && { tool_calls: completion.toolCalls.map(wireToolCall) }),
            },
            logprobs: chatLogprobs(completion, tokenTexts.get(completion.index)),
            finish_reason: wireFinishReason(completion),
          }
        : {
            index: completion.index,
            text: completion.text,
            logprobs: legacyLogprobs(completion, tokenTexts.get(completion.index)),
            finish_reason: completion.finishReason === "length" ? "length" : "stop",
          },
    );
    const body = JSON.stringify({
      id,
      object: parsed.endpoint === "chat" ? "chat.completion" : "text_completion",
      created,
      model: result.model,
      choices,
      usage: usageOf(result),
    });
    res.writeHead(200, { "content-type": "application/json" });
    if (dropAfterChunks !== undefined) {
      // Half a body and then a dead socket: what a crashed proxy looks like to the client.
      res.write(body.slice(0, Math.floor(body.length / 2)), () => res.destroy());
      return;
    }
    res.end(body);
  }

  async function serveStream(
    res: ServerResponse,
    parsed: ParsedRequest,
    id: string,
    disconnected: AbortController,
    dropAfterChunks: number | undefined,
  ): Promise<void> {
    const created = nowSeconds();
    const chat = parsed.endpoint === "chat";
    const base = {
      id,
      object: chat ? "chat.completion.chunk" : "text_completion",
      created,
      model: options.backend.model,
    };
    const extra = parsed.includeUsage ? { usage: null } : {};
    const choiceCount = parsed.generate.n ?? 1;
    let contentChunks = 0;
    let dropped = false;
    const send = (payload: unknown): void => {
      if (!dropped && !res.destroyed) res.write(`data: ${JSON.stringify(payload)}\n\n`);
    };
    // Headers go out with the first token, so a backend that fails before generating anything
    // still gets a proper HTTP error status rather than an error event inside a 200 stream.
    const start = (): void => {
      if (res.headersSent) return;
      res.writeHead(200, SSE_HEADERS);
      if (!chat) return;
      // OpenAI opens every choice with the assistant role and empty content.
      for (let index = 0; index < choiceCount; index++) {
        send({
          ...base,
          choices: [
            { index, delta: { role: "assistant", content: "" }, logprobs: null, finish_reason: null },
          ],
          ...extra,
        });
      }
    };

    const tokenTexts = new Map<number, string[]>();
    let result: GenerateResult;
    try {
      result = await options.backend.generate({
        ...parsed.generate,
        signal: disconnected.signal,
        onDelta: ({ index, text }) => {
          recordDelta(tokenTexts, index, text);
          if (dropped || text === "") return;
          start();
          const choice = chat
            ? { index, delta: { content: text }, logprobs: null, finish_reason: null }
            : { index, text, logprobs: null, finish_reason: null };
          contentChunks++;
          if (dropAfterChunks !== undefined && contentChunks >= dropAfterChunks) {
            // Destroy only once this chunk is flushed, so the client really sees a stream break off.
            res.write(`data: ${JSON.stringify({ ...base, choices: [choice], ...extra })}\n\n`, () =>
              res.destroy(),
            );
            dropped = true;
            disconnected.abort();
            return;
          }
          send({ ...base, choices: [choice], ...extra });
        },
      });
    } catch (error) {
      if (dropped || disconnected.signal.aborted) return;
      if (!res.headersSent) {
        sendBackendError(res, error);
        return;
      }
      // Headers are out, so the error travels in-band, as OpenAI does; the SDK raises it as APIError.
      const { status, message } = describeBackendError(error);
      // vLLM puts the status in `code`, which lets clients tell transient failures from bad requests.
      send({ error: { message, type: openAIErrorType(status), param: null, code: status } });
      res.end();
      return;
    }
    if (dropped) return;
    start();
    if (dropAfterChunks !== undefined) {
      // The answer was shorter than the planned drop point: drop before the closing chunks instead.
      res.write(": dropping\n\n", () => res.destroy());
      return;
    }

    for (const completion of result.completions) {
      if (chat) {
        for (const delta of toolCallDeltas(completion.toolCalls ?? [])) {
          send({
            ...base,
            choices: [{ index: completion.index, delta, logprobs: null, finish_reason: null }],
            ...extra,
          });
        }
      }
      const finishReason = wireFinishReason(completion);
      const tokens = tokenTexts.get(completion.index);
      const choice = chat
        ? {
            index: completion.index,
            delta: {},
            logprobs: chatLogprobs(completion, tokens),
            finish_reason: finishReason,
          }
        : {
            index: completion.index,
            text: "",
            logprobs: legacyLogprobs(completion, tokens),
            finish_reason: finishReason,
          };
      send({ ...base, model: result.model, choices: [choice], ...extra });
    }
    if (parsed.includeUsage && !options.omitStreamUsage) {
      send({ ...base, model: result.model, choices: [], usage: usageOf(result) });
    }
    res.end("data: [DONE]\n\n");
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  let closing: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    get requests() {
      return requestCount;
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Keep-alive sockets and requests parked in a delay fault would otherwise hold close() open.
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

const ROUTES: Record<string, { method: string; endpoint?: Endpoint }> = {
  "/v1/chat/completions": { method: "POST", endpoint: "chat" },
  "/v1/completions": { method: "POST", endpoint: "completions" },
  "/v1/models": { method: "GET" },
};

const SSE_HEADERS = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache",
  connection: "keep-alive",
};

function faultFor(plan: FaultPlan | undefined, requestNumber: number): Fault | undefined {
  if (!plan) return undefined;
  const specific = plan.byRequest?.[requestNumber];
  if (specific) return specific;
  if (plan.first && requestNumber <= plan.first.count) return plan.first.fault;
  return undefined;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new ClientError(413, `request body exceeds ${MAX_BODY_BYTES} bytes`));
        req.removeAllListeners("data");
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

const nowSeconds = (): number => Math.floor(Date.now() / 1000);

function recordDelta(tokenTexts: Map<number, string[]>, index: number, text: string): void {
  const list = tokenTexts.get(index);
  if (list) list.push(text);
  else tokenTexts.set(index, [text]);
}

function usageOf(result: GenerateResult): Record<string, number> {
  const completionTokens = result.completions.reduce((sum, c) => sum + c.completionTokens, 0);
  const promptTokens = result.usage.promptTokens || (result.completions[0]?.promptTokens ?? 0);
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
  };
}

function wireFinishReason(completion: Completion): string {
  return completion.finishReason === "length"
    ? "length"
    : completion.toolCalls && completion.toolCalls.length > 0
      ? "tool_calls"
      : "stop";
}

const wireToolCall = (call: ToolCall) => ({
  id: call.id,
  type: "function",
  function: { name: call.name, arguments: call.arguments },
});

/**
 * Tool calls as OpenAI streams them: a first piece with id and name, then the arguments in small
 * pieces that only add up to JSON when joined, so clients must accumulate them by index.
 */
function toolCallDeltas(calls: ToolCall[]): Json[] {
  const deltas: Json[] = [];
  calls.forEach((call, index) => {
    deltas.push({
      tool_calls: [{ index, id: call.id, type: "function", function: { name: call.name, arguments: "" } }],
    });
    for (let at = 0; at < call.arguments.length; at += 8) {
      deltas.push({ tool_calls: [{ index, function: { arguments: call.arguments.slice(at, at + 8) } }] });
    }
  });
  return deltas;
}

/** log(p), kept finite so it survives JSON (which has no -Infinity). */
const logprobOf = (p: number): number => Math.log(Math.max(p, Number.MIN_VALUE));

/**
 * The backend reports a probability per token but not the token text. The streamed deltas are the
 * tokens when there is one delta per token (true of every backend here); otherwise tokens are blank.
 */
function tokenStrings(completion: Completion, deltas: string[] | undefined): string[] {
  const count = completion.tokenConfidences?.length ?? 0;
  return deltas && deltas.length === count ? deltas : Array.from({ length: count }, () => "");
}

function chatLogprobs(completion: Completion, deltas: string[] | undefined): unknown {
  if (!completion.tokenConfidences) return null;
  const tokens = tokenStrings(completion, deltas);
  return {
    content: completion.tokenConfidences.map((p, i) => {
      const token = tokens[i] ?? "";
      return {
        token,
        logprob: logprobOf(p),
        bytes: Array.from(Buffer.from(token, "utf8")),
        top_logprobs: [],
      };
    }),
    refusal: null,
  };
}

function legacyLogprobs(completion: Completion, deltas: string[] | undefined): unknown {
  if (!completion.tokenConfidences) return null;
  const tokens = tokenStrings(completion, deltas);
  const textOffset: number[] = [];
  let offset = 0;
  for (const token of tokens) {
    textOffset.push(offset);
    offset += token.length;
  }
  return {
    tokens,
    token_logprobs: completion.tokenConfidences.map(logprobOf),
    top_logprobs: null,
    text_offset: textOffset,
  };
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}

function sendError(
  res: ServerResponse,
  status: number,
  message: string,
  headers: Record<string, string> = {},
  param?: string,
): void {
  sendJson(
    res,
    status,
    { error: { message, type: openAIErrorType(status), param: param ?? null, code: null } },
    headers,
  );
}

function describeBackendError(error: unknown): { status: number; message: string } {
  if (error instanceof UsageError) return { status: 400, message: error.message };
  if (error instanceof AbortedError) return { status: 499, message: error.message };
  if (error instanceof BackendError && error.status !== undefined && error.status >= 400) {
    return { status: error.status, message: error.message };
  }
  return { status: 500, message: `backend failed: ${errorMessage(error)}` };
}

function sendBackendError(res: ServerResponse, error: unknown): void {
  const { status, message } = describeBackendError(error);
  sendError(res, status, message);
}

// ---- Request parsing: wire format → GenerateRequest, rejecting what OpenAI would reject. ----

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** Reads an optional field; JSON null counts as absent, as the OpenAI API treats it. */
function optional<T>(
  body: Json,
  key: string,
  check: (v: unknown) => v is T,
  expected: string,
): T | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (!check(value)) throw new ClientError(400, `'${key}' must be ${expected}`, key);
  return value;
}

const isNumber = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);
const isInteger = (v: unknown): v is number => Number.isInteger(v);
const isBoolean = (v: unknown): v is boolean => typeof v === "boolean";
const isPositiveInteger = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 1;
const isStopValue = (v: unknown): v is string | string[] =>
  typeof v === "string" || (Array.isArray(v) && v.every((s) => typeof s === "string"));

function parseRequest(endpoint: Endpoint, rawBody: string, ignoreN: boolean): ParsedRequest {
  let body: unknown;
  try {
    body = JSON.parse(rawBody);
  } catch {
    throw new ClientError(400, "request body is not valid JSON");
  }
  if (!isObject(body)) throw new ClientError(400, "request body must be a JSON object");

  const generate: GenerateRequest = {};
  if (endpoint === "chat") {
    generate.messages = parseMessages(body.messages);
  } else {
    generate.prompt = parsePrompt(body.prompt);
  }

  const n = optional(body, "n", isPositiveInteger, "a positive integer");
  if (n !== undefined && n > 128) throw new ClientError(400, "'n' must be at most 128", "n");
  if (n !== undefined && n > 1 && !ignoreN) generate.n = n;

  const temperature = optional(body, "temperature", isNumber, "a number");
  if (temperature !== undefined) {
    if (temperature < 0) throw new ClientError(400, "'temperature' must be >= 0", "temperature");
    generate.temperature = temperature;
  }
  const topP = optional(body, "top_p", isNumber, "a number");
  if (topP !== undefined) generate.topP = topP;
  const topK = optional(body, "top_k", isInteger, "an integer");
  // vLLM uses -1 (llama.cpp 0) for "no top-k".
  if (topK !== undefined && topK > 0) generate.topK = topK;
  const seed = optional(body, "seed", isInteger, "an integer");
  if (seed !== undefined) generate.seed = seed;
  const maxTokens =
    optional(body, "max_completion_tokens", isPositiveInteger, "a positive integer") ??
    optional(body, "max_tokens", isPositiveInteger, "a positive integer");
  if (maxTokens !== undefined) generate.maxTokens = maxTokens;
  const stop = optional(body, "stop", isStopValue, "a string or an array of strings");
  if (stop !== undefined) {
    const list = (typeof stop === "string" ? [stop] : stop).filter((s) => s !== "");
    if (list.length > 0) generate.stop = list;
  }

  // Chat asks for logprobs with a boolean; the legacy completions API with a top-k count.
  const logprobs =
    endpoint === "chat"
      ? optional(body, "logprobs", isBoolean, "a boolean")
      : optional(body, "logprobs", (v): v is number | boolean => isInteger(v) || isBoolean(v), "an integer");
  if (logprobs !== undefined && logprobs !== false) generate.confidence = true;

  const jsonSchema = parseResponseFormat(body.response_format);
  if (jsonSchema) generate.jsonSchema = jsonSchema;

  if (endpoint === "chat") {
    const tools = parseTools(body.tools);
    if (tools) generate.tools = tools;
    const toolChoice = parseToolChoice(body.tool_choice);
    if (toolChoice !== undefined && tools) generate.toolChoice = toolChoice;
  }

  const stream = optional(body, "stream", isBoolean, "a boolean") ?? false;
  const streamOptions = optional(body, "stream_options", isObject, "an object");
  const includeUsage = streamOptions?.include_usage === true;
  return { endpoint, generate, stream, includeUsage };
}

function parseMessages(value: unknown): ChatMessage[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new ClientError(400, "'messages' must be a non-empty array", "messages");
  }
  return value.map((raw, i): ChatMessage => {
    const param = `messages[${i}]`;
    if (!isObject(raw)) throw new ClientError(400, `'${param}' must be an object`, param);
    // "developer" is OpenAI's newer name for the system role.
    const role = raw.role === "developer" ? "system" : raw.role;
    if (typeof role !== "string" || !CHAT_ROLES.has(role)) {
      throw new ClientError(400, `'${param}.role' must be one of system, user, assistant, tool`, param);
    }
    const message: ChatMessage = { role: role as ChatRole, content: parseContent(raw.content, param) };
    if (typeof raw.name === "string") message.name = raw.name;
    if (typeof raw.tool_call_id === "string") message.toolCallId = raw.tool_call_id;
    if (role === "assistant" && raw.tool_calls !== undefined && raw.tool_calls !== null) {
      message.toolCalls = parseToolCalls(raw.tool_calls, `${param}.tool_calls`);
    }
    return message;
  });
}

function parseToolCalls(value: unknown, param: string): ToolCall[] {
  if (!Array.isArray(value)) throw new ClientError(400, `'${param}' must be an array`, param);
  return value.map((raw, i): ToolCall => {
    const fn = isObject(raw) ? raw.function : undefined;
    if (
      !isObject(raw) ||
      typeof raw.id !== "string" ||
      !isObject(fn) ||
      typeof fn.name !== "string" ||
      typeof fn.arguments !== "string"
    ) {
      throw new ClientError(
        400,
        `'${param}[${i}]' must be {id, type: "function", function: {name, arguments}} with string fields`,
        param,
      );
    }
    return { id: raw.id, name: fn.name, arguments: fn.arguments };
  });
}

function parseTools(value: unknown): ToolSpec[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw new ClientError(400, "'tools' must be an array", "tools");
  const tools = value.map((raw, i): ToolSpec => {
    const fn = isObject(raw) && raw.type === "function" ? raw.function : undefined;
    if (!isObject(fn) || typeof fn.name !== "string" || fn.name === "") {
      throw new ClientError(400, `'tools[${i}]' must be {type: "function", function: {name, ...}}`, "tools");
    }
    if (fn.parameters !== undefined && !isObject(fn.parameters)) {
      throw new ClientError(400, `'tools[${i}].function.parameters' must be an object`, "tools");
    }
    return {
      name: fn.name,
      description: typeof fn.description === "string" ? fn.description : "",
      parameters: isObject(fn.parameters) ? fn.parameters : { type: "object", properties: {} },
    };
  });
  return tools.length > 0 ? tools : undefined;
}

function parseToolChoice(value: unknown): ToolChoice | undefined {
  if (value === undefined || value === null) return undefined;
  if (value === "auto" || value === "none" || value === "required") return value;
  const fn = isObject(value) && value.type === "function" ? value.function : undefined;
  if (isObject(fn) && typeof fn.name === "string") return { name: fn.name };
  throw new ClientError(
    400,
    "'tool_choice' must be auto, none, required or {type: \"function\", function: {name}}",
    "tool_choice",
  );
}

/** Content is a string, or (newer clients) an array of parts of which we take the text ones. */
function parseContent(content: unknown, param: string): string {
  if (typeof content === "string") return content;
  if (content === null || content === undefined) return "";
  if (Array.isArray(content)) {
    return content
      .map((part) => {
        if (isObject(part) && part.type === "text" && typeof part.text === "string") return part.text;
        throw new ClientError(400, `'${param}.content' supports only text parts`, param);
      })
      .join("");
  }
  throw new ClientError(400, `'${param}.content' must be a string or an array of text parts`, param);
}

function parsePrompt(value: unknown): string {
  if (typeof value === "string") return value;
  if (Array.isArray(value) && value.length === 1 && typeof value[0] === "string") return value[0];
  throw new ClientError(400, "'prompt' must be a string (or an array of exactly one string)", "prompt");
}

function parseResponseFormat(value: unknown): JsonSchema | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) throw new ClientError(400, "'response_format' must be an object", "response_format");
  if (value.type === "text") return undefined;
  if (value.type === "json_object") return { type: "object" };
  if (value.type === "json_schema") {
    const spec = value.json_schema;
    if (!isObject(spec) || !isObject(spec.schema)) {
      throw new ClientError(400, "'response_format.json_schema.schema' must be an object", "response_format");
    }
    return spec.schema;
  }
  throw new ClientError(
    400,
    "'response_format.type' must be one of text, json_object, json_schema",
    "response_format",
  );
}
