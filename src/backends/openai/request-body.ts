import type { GenerateRequest } from "../../core/backend.js";
import { UsageError } from "../../core/errors.js";
import {
  type ChatRequestBody,
  type TextCompletionRequestBody,
  toWireMessage,
  toWireTool,
  toWireToolChoice,
} from "../../openai-wire/index.js";

/** Chat messages go to /chat/completions; a raw prompt to the legacy /completions. */
export type Endpoint = "chat" | "completions";

export const endpointOf = (request: GenerateRequest): Endpoint => (request.messages ? "chat" : "completions");

export const endpointUrl = (baseUrl: string, endpoint: Endpoint): string =>
  `${baseUrl}/${endpoint === "chat" ? "chat/completions" : "completions"}`;

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

/** Headers of every request: JSON in, a stream (or JSON) out, the key; the caller's own win. */
export function requestHeaders(apiKey: string | undefined, extra: Record<string, string> = {}) {
  return {
    "content-type": "application/json",
    accept: "text/event-stream, application/json",
    ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}),
    ...extra,
  };
}

/**
 * The body of one request asking for `n` choices. It always streams, with usage at the end, so deltas
 * arrive as the server produces them.
 */
export function requestBody(
  model: string,
  request: GenerateRequest,
  endpoint: Endpoint,
  n: number,
  seed: number | undefined,
): ChatRequestBody | TextCompletionRequestBody {
  const head = { model, stream: true, stream_options: { include_usage: true } };
  const sampling = {
    ...(n > 1 && { n }),
    ...(request.temperature !== undefined && { temperature: request.temperature }),
    ...(request.topP !== undefined && { top_p: request.topP }),
    // Not in OpenAI's API, but vLLM, llama.cpp and Ollama read it; OpenAI ignores it when unset.
    ...(request.topK !== undefined && { top_k: request.topK }),
    ...(seed !== undefined && { seed }),
    ...(request.maxTokens !== undefined && { max_tokens: request.maxTokens }),
    ...(request.stop && request.stop.length > 0 && { stop: request.stop }),
  };
  const format = request.jsonSchema && {
    response_format: {
      type: "json_schema" as const,
      json_schema: { name: "output", schema: request.jsonSchema, strict: true },
    },
  };
  if (endpoint === "completions") {
    // Legacy completions take a top-k count for logprobs, where 1 is the most portable.
    return {
      ...head,
      prompt: request.prompt ?? "",
      ...sampling,
      ...(request.confidence && { logprobs: 1 }),
      ...format,
    };
  }
  const tools = request.tools && request.tools.length > 0 ? request.tools : undefined;
  return {
    ...head,
    messages: (request.messages ?? []).map(toWireMessage),
    ...(tools && { tools: tools.map(toWireTool) }),
    ...(tools && request.toolChoice !== undefined && { tool_choice: toWireToolChoice(request.toolChoice) }),
    ...sampling,
    ...(request.confidence && { logprobs: true }),
    ...format,
  };
}
