import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { z } from "zod";
import type { Backend, Completion, GenerateRequest, GenerateResult } from "../core/backend.js";
import { AbortedError, BackendError, errorMessage, UsageError } from "../core/errors.js";
import type { ToolCall } from "../core/message.js";
import {
  type ChatCompletion,
  type ChatCompletionChunk,
  type ChatLogprobs,
  type ChunkChoice,
  chatRequestWithExtrasSchema,
  encodeSseComment,
  encodeSseEvent,
  encodeSseJson,
  isPlainObject,
  jsonSchemaOf,
  OPENING_DELTA,
  positiveInt,
  requestIssueOf,
  SSE_DONE,
  SSE_HEADERS,
  samplingParamsOf,
  type TextCompletion,
  type TextCompletionChoice,
  type TextLogprobs,
  type ToolCallDelta,
  textCompletionRequestSchema,
  toAssistantMessage,
  toChatMessages,
  toChunkChoice,
  toToolCallDelta,
  toToolChoice,
  toToolSpecs,
  toWireFinishReason,
  toWireUsage,
  type WireUsage,
  wireError,
} from "../openai-wire/index.js";

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

/** What the backend answered, and the deltas of each choice. */
interface Generated {
  result: GenerateResult;
  tokenTexts: Map<number, string[]>;
}

/** One answer being written: to whom, for what, and whether a drop fault cuts it. */
interface Reply {
  res: ServerResponse;
  parsed: ParsedRequest;
  /** The response's id (`chatcmpl-N`, `cmpl-N`). */
  id: string;
  /** Aborted when the client goes away (or a drop fault cuts the stream). */
  disconnected: AbortController;
  /** Content chunks after which a drop fault destroys the socket. */
  dropAfterChunks: number | undefined;
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
        res.end(
          encodeSseEvent({ data: '{"id": "broken", "choices": [' }) + encodeSseEvent({ data: SSE_DONE }),
        );
      } else {
        res.writeHead(200, { "content-type": "application/json" });
        res.end('{"id": "broken", "choices": [');
      }
      return;
    }

    const id = `${parsed.endpoint === "chat" ? "chatcmpl" : "cmpl"}-${++responseIds}`;
    const dropAfterChunks = fault?.type === "drop" ? (fault.afterChunks ?? 1) : undefined;
    const reply: Reply = { res, parsed, id, disconnected, dropAfterChunks };
    await (parsed.stream ? serveStream(reply) : serveWhole(reply));
  }

  /** Runs the backend for a reply, keeping each choice's deltas: the tokens, for logprobs. */
  async function generateFor(
    reply: Reply,
    onText?: (index: number, text: string) => void,
  ): Promise<Generated> {
    const tokenTexts = new Map<number, string[]>();
    const result = await options.backend.generate({
      ...reply.parsed.generate,
      signal: reply.disconnected.signal,
      onDelta: ({ index, text }) => {
        recordDelta(tokenTexts, index, text);
        onText?.(index, text);
      },
    });
    return { result, tokenTexts };
  }

  async function serveWhole(reply: Reply): Promise<void> {
    const { res, parsed, id, disconnected, dropAfterChunks } = reply;
    let generated: Generated;
    try {
      generated = await generateFor(reply);
    } catch (error) {
      if (!disconnected.signal.aborted) sendBackendError(res, error);
      return;
    }
    const { result, tokenTexts } = generated;
    const created = nowSeconds();
    const body = JSON.stringify(
      parsed.endpoint === "chat"
        ? ({
            id,
            object: "chat.completion",
            created,
            model: result.model,
            choices: result.completions.map((completion) => ({
              index: completion.index,
              message: toAssistantMessage(completion.text, completion.toolCalls),
              logprobs: chatLogprobs(completion, tokenTexts.get(completion.index)),
              finish_reason: finishReasonOf(completion),
            })),
            usage: usageOf(result),
          } satisfies ChatCompletion)
        : ({
            id,
            object: "text_completion",
            created,
            model: result.model,
            choices: result.completions.map((completion) => ({
              index: completion.index,
              text: completion.text,
              logprobs: legacyLogprobs(completion, tokenTexts.get(completion.index)),
              finish_reason: toWireFinishReason(completion.finishReason, 0),
            })),
            usage: usageOf(result),
          } satisfies TextCompletion),
    );
    res.writeHead(200, { "content-type": "application/json" });
    if (dropAfterChunks !== undefined) {
      // Half a body and then a dead socket: what a crashed proxy looks like to the client.
      res.write(body.slice(0, Math.floor(body.length / 2)), () => res.destroy());
      return;
    }
    res.end(body);
  }

  async function serveStream(reply: Reply): Promise<void> {
    const { res, parsed, id, disconnected, dropAfterChunks } = reply;
    const created = nowSeconds();
    const chat = parsed.endpoint === "chat";
    const usage = parsed.includeUsage ? { usage: null } : {};
    const model = options.backend.model;
    type Extra = { model?: string; usage?: WireUsage };
    const chatChunk = (choices: ChunkChoice[], extra: Extra = {}): ChatCompletionChunk => ({
      id,
      object: "chat.completion.chunk",
      created,
      model,
      choices,
      ...usage,
      ...extra,
    });
    const textChunk = (choices: TextCompletionChoice[], extra: Extra = {}): TextCompletion => ({
      id,
      object: "text_completion",
      created,
      model,
      choices,
      ...usage,
      ...extra,
    });
    const choiceCount = parsed.generate.n ?? 1;
    let contentChunks = 0;
    let dropped = false;
    const send = (payload: unknown): void => {
      if (!dropped && !res.destroyed) res.write(encodeSseJson(payload));
    };
    // Headers go out with the first token, so a backend that fails before generating anything
    // still gets a proper HTTP error status rather than an error event inside a 200 stream.
    const start = (): void => {
      if (res.headersSent) return;
      res.writeHead(200, SSE_HEADERS);
      if (!chat) return;
      for (let index = 0; index < choiceCount; index++) {
        send(chatChunk([toChunkChoice(index, OPENING_DELTA)]));
      }
    };

    let generated: Generated;
    try {
      generated = await generateFor(reply, (index, text) => {
        if (dropped || text === "") return;
        start();
        const chunk = chat
          ? chatChunk([toChunkChoice(index, { content: text })])
          : textChunk([{ index, text, logprobs: null, finish_reason: null }]);
        contentChunks++;
        if (dropAfterChunks !== undefined && contentChunks >= dropAfterChunks) {
          // Destroy only once this chunk is flushed, so the client really sees a stream break off.
          res.write(encodeSseJson(chunk), () => res.destroy());
          dropped = true;
          disconnected.abort();
          return;
        }
        send(chunk);
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
      send(wireError(status, message, { code: status }));
      res.end();
      return;
    }
    if (dropped) return;
    const { result, tokenTexts } = generated;
    start();
    if (dropAfterChunks !== undefined) {
      // The answer was shorter than the planned drop point: drop before the closing chunks instead.
      res.write(encodeSseComment("dropping"), () => res.destroy());
      return;
    }

    for (const completion of result.completions) {
      if (chat) {
        for (const delta of toolCallDeltas(completion.toolCalls ?? [])) {
          send(chatChunk([toChunkChoice(completion.index, { tool_calls: [delta] })]));
        }
      }
      const finishReason = finishReasonOf(completion);
      const tokens = tokenTexts.get(completion.index);
      const final = { model: result.model };
      send(
        chat
          ? chatChunk(
              [toChunkChoice(completion.index, {}, finishReason, chatLogprobs(completion, tokens))],
              final,
            )
          : textChunk(
              [
                {
                  index: completion.index,
                  text: "",
                  logprobs: legacyLogprobs(completion, tokens),
                  finish_reason: finishReason,
                },
              ],
              final,
            ),
      );
    }
    if (parsed.includeUsage && !options.omitStreamUsage) {
      const last = { model: result.model, usage: usageOf(result) };
      send(chat ? chatChunk([], last) : textChunk([], last));
    }
    res.end(encodeSseEvent({ data: SSE_DONE }));
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

function usageOf(result: GenerateResult): WireUsage {
  const completionTokens = result.completions.reduce((sum, c) => sum + c.completionTokens, 0);
  const promptTokens = result.usage.promptTokens || (result.completions[0]?.promptTokens ?? 0);
  return toWireUsage(promptTokens, completionTokens);
}

const finishReasonOf = (completion: Completion) =>
  toWireFinishReason(completion.finishReason, completion.toolCalls?.length ?? 0);

/**
 * Tool calls as OpenAI streams them: a first piece with id and name, then the arguments in small
 * pieces that only add up to JSON when joined, so clients must accumulate them by index.
 */
function toolCallDeltas(calls: ToolCall[]): ToolCallDelta[] {
  return calls.flatMap((call, index) => {
    const pieces: ToolCallDelta[] = [
      { ...toToolCallDelta(call, index), function: { name: call.name, arguments: "" } },
    ];
    for (let at = 0; at < call.arguments.length; at += 8) {
      pieces.push({ index, function: { arguments: call.arguments.slice(at, at + 8) } });
    }
    return pieces;
  });
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

function chatLogprobs(completion: Completion, deltas: string[] | undefined): ChatLogprobs | null {
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

function legacyLogprobs(completion: Completion, deltas: string[] | undefined): TextLogprobs | null {
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
  sendJson(res, status, wireError(status, message, { param: param ?? null }), headers);
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

// ---- Request parsing: the shared wire schemas, plus what this server adds. ----

/** At most 128 choices, as OpenAI allows. */
const choiceCount = positiveInt.max(128).nullish();
const chatRequest = chatRequestWithExtrasSchema.extend({ n: choiceCount });
const textRequest = textCompletionRequestSchema.extend({ n: choiceCount });

/** The body checked against `schema`; the first issue is a 400 naming its parameter. */
function check<T extends z.ZodType>(schema: T, body: unknown): z.output<T> {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const { param, message } = requestIssueOf(parsed.error);
  throw new ClientError(400, `'${param}' ${message}`, param);
}

function parseRequest(endpoint: Endpoint, rawBody: string, ignoreN: boolean): ParsedRequest {
  let body: unknown;
  try {
    body = JSON.parse(rawBody);
  } catch {
    throw new ClientError(400, "request body is not valid JSON");
  }
  if (!isPlainObject(body)) throw new ClientError(400, "request body must be a JSON object");

  const request = endpoint === "chat" ? check(chatRequest, body) : check(textRequest, body);
  const tools = "tools" in request && request.tools?.length ? toToolSpecs(request.tools) : undefined;
  const toolChoice = "tool_choice" in request && request.tool_choice;
  const jsonSchema = jsonSchemaOf(request.response_format);
  const generate: GenerateRequest = {
    ...("messages" in request
      ? { messages: toChatMessages(request.messages) }
      : { prompt: typeof request.prompt === "string" ? request.prompt : request.prompt[0] }),
    ...samplingParamsOf(request),
    ...(request.n != null && request.n > 1 && !ignoreN && { n: request.n }),
    // vLLM uses -1 (llama.cpp 0) for "no top-k".
    ...(request.top_k != null && request.top_k > 0 && { topK: request.top_k }),
    // Chat asks for logprobs with a boolean; the legacy completions API with a top-k count.
    ...(request.logprobs != null && request.logprobs !== false && { confidence: true }),
    ...(jsonSchema && { jsonSchema }),
    ...(tools && { tools }),
    ...(tools && toolChoice && { toolChoice: toToolChoice(toolChoice) }),
  };
  return {
    endpoint,
    generate,
    stream: request.stream === true,
    includeUsage: request.stream_options?.include_usage === true,
  };
}
