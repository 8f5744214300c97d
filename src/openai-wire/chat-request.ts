import { z } from "zod";
import type { GenerationParams, JsonSchema } from "../core/backend.js";

/*
 * The request body of POST /v1/chat/completions, as Deliberate's server and the test double check it
 * and the HTTP backend writes it. Unknown top-level fields are dropped (clients send `user`,
 * `metadata`, penalties, ...); known ones are checked. JSON null counts as absent, as OpenAI treats
 * it. Objects are rebuilt field by field, so keys such as `__proto__` never reach our code.
 */

export const positiveInt = z.int().min(1);

export const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** A JSON Schema inside a request: kept as parsed, not rebuilt, since its keys are data. */
const jsonSchemaObject = (error: string) => z.custom<JsonSchema>(isPlainObject, { error });

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
    role: z.enum(["system", "developer", "user", "assistant", "tool"], {
      error: "must be one of system, user, assistant, tool",
    }),
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
export type WireMessage = z.output<typeof messageSchema>;

const responseFormatSchema = z.discriminatedUnion(
  "type",
  [
    z.object({ type: z.literal("text") }),
    z.object({ type: z.literal("json_object") }),
    z.object({
      type: z.literal("json_schema"),
      json_schema: z.object({
        name: z.string().nullish(),
        schema: jsonSchemaObject("schema must be a JSON Schema object"),
        strict: z.boolean().nullish(),
      }),
    }),
  ],
  { error: "response_format.type must be one of text, json_object, json_schema" },
);
export type WireResponseFormat = z.output<typeof responseFormatSchema>;

const toolSchema = z.object({
  type: z.literal("function"),
  function: z.object({
    name: z.string().min(1),
    description: z.string().nullish(),
    parameters: jsonSchemaObject("parameters must be a JSON Schema object").nullish(),
    strict: z.boolean().nullish(),
  }),
});
export type WireTool = z.output<typeof toolSchema>;

const toolChoiceSchema = z.union(
  [
    z.enum(["none", "auto", "required"]),
    z.object({ type: z.literal("function"), function: z.object({ name: z.string().min(1) }) }),
  ],
  { error: "tool_choice must be none, auto, required or {type: 'function', function: {name}}" },
);
export type WireToolChoice = z.output<typeof toolChoiceSchema>;

/** What chat and legacy completions requests share: the model and how to sample it. */
export const samplingShape = {
  model: z.string().min(1),
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
};

export const chatRequestSchema = z.object({
  ...samplingShape,
  messages: z
    .array(messageSchema, { error: "must be a non-empty array" })
    .min(1, { error: "must be a non-empty array" }),
  tools: z.array(toolSchema).nullish(),
  tool_choice: toolChoiceSchema.nullish(),
  /** Accepted for compatibility; a model may always make several calls in one turn. */
  parallel_tool_calls: z.boolean().nullish(),
  functions: z.array(z.unknown()).nullish(),
});
export type ChatRequest = z.output<typeof chatRequestSchema>;

/**
 * Fields the HTTP backend sends beyond those above: `top_k` (not OpenAI's, but vLLM, llama.cpp and
 * Ollama read it; -1 or 0 mean none) and `logprobs`. Deliberate's server does not read them and drops
 * them as unknown; the test double serves them.
 */
export const chatExtrasShape = {
  top_k: z.int().nullish(),
  logprobs: z.boolean().nullish(),
};
export const chatRequestWithExtrasSchema = chatRequestSchema.extend(chatExtrasShape);
/** A chat request body as the HTTP backend writes it. */
export type ChatRequestBody = z.input<typeof chatRequestWithExtrasSchema>;

/** The first thing wrong with a request: the parameter as OpenAI names it (`messages[0].content`), and why. */
export interface RequestIssue {
  param: string;
  message: string;
}

export function requestIssueOf(error: z.ZodError): RequestIssue {
  const issue = error.issues[0];
  if (!issue) return { param: "", message: "invalid request" };
  let param = "";
  for (const key of issue.path) {
    param += typeof key === "number" ? `[${key}]` : `${param ? "." : ""}${String(key)}`;
  }
  return { param, message: issue.message };
}

/** The schema a `response_format` asks for, or undefined for plain text. */
export function jsonSchemaOf(format: WireResponseFormat | null | undefined): JsonSchema | undefined {
  if (!format || format.type === "text") return undefined;
  if (format.type === "json_object") return { type: "object" };
  return format.json_schema.schema;
}

type SamplingFields = z.output<z.ZodObject<typeof samplingShape>>;

/** The sampling a request asks for, as generation parameters: `max_completion_tokens` wins, empty stops go. */
export function samplingParamsOf(
  request: SamplingFields,
): Pick<GenerationParams, "temperature" | "topP" | "maxTokens" | "seed" | "stop"> {
  const stop = (typeof request.stop === "string" ? [request.stop] : (request.stop ?? [])).filter(
    (s) => s !== "",
  );
  const maxTokens = request.max_completion_tokens ?? request.max_tokens;
  return {
    ...(request.temperature != null && { temperature: request.temperature }),
    ...(request.top_p != null && { topP: request.top_p }),
    ...(maxTokens != null && { maxTokens }),
    ...(request.seed != null && { seed: request.seed }),
    ...(stop.length > 0 && { stop }),
  };
}
