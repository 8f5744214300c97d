import { z } from "zod";
import type { JsonSchema } from "../src/core/backend.js";
import type { ChatMessage, ToolCall } from "../src/core/message.js";
import { ApiError } from "./openai-errors.js";

/*
 * The request body of POST /v1/chat/completions. Unknown top-level fields are dropped (clients send
 * `user`, `metadata`, penalties, ...); known ones are checked. JSON null counts as absent, as OpenAI
 * treats it. Objects are rebuilt field by field, so keys such as `__proto__` never reach our code.
 */

const positiveInt = z.int().min(1);
const MAX_TIMER_MS = 2_147_483_647;

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

const textPart = z.object({
  type: z.literal("text", { error: "only text content parts are supported" }),
  text: z.string(),
});

/** A call an assistant turn made, as the client sends it back in the history. */
const toolCallSchema = z.object({
  id: z.string().min(1),
  type: z.literal("function", { error: "only function tool calls are supported" }),
  function: z.object({ name: z.string().min(1), arguments: z.string() }),
});

const messageSchema = z
  .object({
    // "developer" is OpenAI's newer name for the system role.
    role: z.enum(["system", "developer", "user", "assistant", "tool"]),
    content: z
      .union([z.string(), z.array(textPart)], {
        error: "content must be a string or an array of text parts (images and audio are not supported)",
      })
      .nullish(),
    name: z.string().nullish(),
    tool_call_id: z.string().nullish(),
    tool_calls: z.array(toolCallSchema).nullish(),
  })
  .refine((m) => m.content != null || (m.role === "assistant" && (m.tool_calls?.length ?? 0) > 0), {
    // Only an assistant turn that called tools may leave its content out.
    error: "content is required",
    path: ["content"],
  });

const responseFormatSchema = z.discriminatedUnion(
  "type",
  [
    z.object({ type: z.literal("text") }),
    z.object({ type: z.literal("json_object") }),
    z.object({
      type: z.literal("json_schema"),
      json_schema: z.object({
        name: z.string().nullish(),
        // Kept as parsed, not rebuilt: a JSON Schema's keys are data.
        schema: z.custom<JsonSchema>(isPlainObject, { error: "schema must be a JSON Schema object" }),
        strict: z.boolean().nullish(),
      }),
    }),
  ],
  { error: "response_format.type must be one of text, json_object, json_schema" },
);

const toolSchema = z.object({
  type: z.literal("function"),
  function: z.object({
    name: z.string().min(1),
    description: z.string().nullish(),
    // Kept as parsed, not rebuilt: a JSON Schema's keys are data.
    parameters: z
      .custom<JsonSchema>(isPlainObject, { error: "parameters must be a JSON Schema object" })
      .nullish(),
    strict: z.boolean().nullish(),
  }),
});

const toolChoiceSchema = z.union(
  [
    z.enum(["none", "auto", "required"]),
    z.object({ type: z.literal("function"), function: z.object({ name: z.string().min(1) }) }),
  ],
  { error: "tool_choice must be none, auto, required or {type: 'function', function: {name}}" },
);

/** The extension field: how Deliberate spends compute on this request. */
const deliberateOptionsSchema = z.strictObject({
  strategy: z.string().min(1).optional(),
  /** Samples or candidates, for strategies that take n. */
  n: positiveInt.optional(),
  budget: z
    .strictObject({
      tokens: positiveInt.optional(),
      calls: positiveInt.optional(),
      // Timers cannot wait longer (about 24.8 days); Node would fire at once instead.
      deadlineMs: positiveInt.max(MAX_TIMER_MS).optional(),
    })
    .optional(),
  /** false: do not reuse cached model calls for this request. */
  cache: z.boolean().optional(),
  /** Answer format for strategies that extract an answer: numeric, choice, exact, json, game24. */
  format: z.string().min(1).optional(),
});
export type DeliberateOptions = z.output<typeof deliberateOptionsSchema>;

const chatCompletionRequestSchema = z.object({
  model: z.string().min(1),
  messages: z.array(messageSchema).min(1),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().gt(0).max(1).nullish(),
  max_tokens: positiveInt.nullish(),
  max_completion_tokens: positiveInt.nullish(),
  n: positiveInt.nullish(),
  stop: z.union([z.string(), z.array(z.string()).max(16)]).nullish(),
  seed: z.int().nullish(),
  response_format: responseFormatSchema.nullish(),
  stream: z.boolean().nullish(),
  stream_options: z.object({ include_usage: z.boolean().nullish() }).nullish(),
  tools: z.array(toolSchema).nullish(),
  tool_choice: toolChoiceSchema.nullish(),
  /** Accepted for compatibility; a model may always make several calls in one turn. */
  parallel_tool_calls: z.boolean().nullish(),
  functions: z.array(z.unknown()).nullish(),
  deliberate: deliberateOptionsSchema.nullish(),
});
export type ChatCompletionRequest = z.output<typeof chatCompletionRequestSchema>;
type RequestMessage = ChatCompletionRequest["messages"][number];

/** `messages[0].content` style, as OpenAI names a parameter. */
function paramOf(path: readonly PropertyKey[]): string {
  let out = "";
  for (const key of path) out += typeof key === "number" ? `[${key}]` : `${out ? "." : ""}${String(key)}`;
  return out;
}

/** Checks a parsed JSON body; a bad one is a 400 naming the first offending parameter. */
export function parseChatRequest(body: unknown): ChatCompletionRequest {
  if (!isPlainObject(body)) {
    throw new ApiError(400, "invalid_request_body", "the request body must be a JSON object");
  }
  const parsed = chatCompletionRequestSchema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const param = issue ? paramOf(issue.path) : "";
  const message = issue ? `${param ? `${param}: ` : ""}${issue.message}` : "invalid request";
  throw new ApiError(400, "invalid_value", message, param ? { param } : {});
}

/** Request messages as the engine's chat messages: text parts joined, an assistant's tool calls kept. */
export function toChatMessages(messages: readonly RequestMessage[]): ChatMessage[] {
  return messages.map((message): ChatMessage => {
    const content = message.content;
    const text = typeof content === "string" ? content : (content ?? []).map((part) => part.text).join("");
    const toolCalls: ToolCall[] =
      message.role === "assistant"
        ? (message.tool_calls ?? []).map((call) => ({
            id: call.id,
            name: call.function.name,
            arguments: call.function.arguments,
          }))
        : [];
    return {
      role: message.role === "developer" ? "system" : message.role,
      content: text,
      ...(message.name != null && { name: message.name }),
      ...(message.tool_call_id != null && { toolCallId: message.tool_call_id }),
      ...(toolCalls.length > 0 && { toolCalls }),
    };
  });
}
