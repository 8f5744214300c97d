import { z } from "zod";
import type { FinishReason } from "../core/backend.js";
import type { ToolCall } from "../core/message.js";
import { toWireToolCall, type WireToolCall } from "./chat-messages.js";
import { isPlainObject } from "./chat-request.js";

/*
 * Answers of POST /v1/chat/completions: the shapes Deliberate's server and the test double write
 * (types and builders), and one lenient schema the HTTP backend reads them with.
 */

export type WireFinishReason = "stop" | "length" | "tool_calls";

export interface WireUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export const toWireUsage = (promptTokens: number, completionTokens: number): WireUsage => ({
  prompt_tokens: promptTokens,
  completion_tokens: completionTokens,
  total_tokens: promptTokens + completionTokens,
});

/** Per-token log probabilities of a chat choice. */
export interface ChatLogprobs {
  content: { token: string; logprob: number; bytes: number[]; top_logprobs: [] }[];
  refusal: null;
}

export interface AssistantWireMessage {
  role: "assistant";
  content: string | null;
  refusal: null;
  tool_calls?: WireToolCall[];
}

/** The message of a choice; OpenAI sends null content for a turn that only calls functions. */
export function toAssistantMessage(text: string, toolCalls: readonly ToolCall[] = []): AssistantWireMessage {
  return {
    role: "assistant",
    content: toolCalls.length > 0 && text === "" ? null : text,
    refusal: null,
    ...(toolCalls.length > 0 && { tool_calls: toolCalls.map(toWireToolCall) }),
  };
}

export interface ChatCompletionChoice {
  index: number;
  message: AssistantWireMessage;
  logprobs: ChatLogprobs | null;
  finish_reason: WireFinishReason;
}

export interface ChatCompletion {
  id: string;
  object: "chat.completion";
  created: number;
  model: string;
  system_fingerprint?: null;
  choices: ChatCompletionChoice[];
  usage: WireUsage;
}

/**
 * A tool call in a stream delta. Clients join pieces by `index`: the first carries id and name, and
 * the arguments may come whole or in pieces that are JSON only once joined.
 */
export interface ToolCallDelta {
  index: number;
  id?: string;
  type?: "function";
  function: { name?: string; arguments: string };
}

/** A whole call as one delta piece. */
export const toToolCallDelta = (call: ToolCall, index: number): ToolCallDelta => ({
  index,
  ...toWireToolCall(call),
});

export interface ChunkDelta {
  role?: "assistant";
  content?: string;
  /** Live text that is not the answer (vLLM's and DeepSeek's name for it); OpenAI clients skip it. */
  reasoning_content?: string;
  tool_calls?: ToolCallDelta[];
}

export interface ChunkChoice {
  index: number;
  delta: ChunkDelta;
  logprobs: ChatLogprobs | null;
  finish_reason: WireFinishReason | null;
}

export interface ChatCompletionChunk {
  id: string;
  object: "chat.completion.chunk";
  created: number;
  model: string;
  system_fingerprint?: null;
  /** null on every chunk but the last when the client asked for usage (`stream_options.include_usage`). */
  usage?: WireUsage | null;
  choices: ChunkChoice[];
}

/** OpenAI opens every streamed choice with the assistant role and empty content. */
export const OPENING_DELTA: Readonly<ChunkDelta> = Object.freeze({ role: "assistant", content: "" });

export const toChunkChoice = (
  index: number,
  delta: ChunkDelta,
  finishReason: WireFinishReason | null = null,
  logprobs: ChatLogprobs | null = null,
): ChunkChoice => ({ index, delta, logprobs, finish_reason: finishReason });

/** How a completion ended, as OpenAI says it: `tool_calls` only when there are calls, cut short wins. */
export function toWireFinishReason(reason: FinishReason, toolCallCount: number): WireFinishReason {
  if (reason === "length") return "length";
  return toolCallCount > 0 ? "tool_calls" : "stop";
}

/** A server's finish reason; unknown ones (`content_filter`, vendor reasons) count as stop. */
export function fromWireFinishReason(reason: string): FinishReason {
  if (reason === "length") return "length";
  // "function_call" is the name before tools existed.
  if (reason === "tool_calls" || reason === "function_call") return "tool_calls";
  return "stop";
}

// ---- Reading: servers vary, so every field is read leniently. ----

/** A field that counts as absent when missing, null or of another type. */
const lenient = <T extends z.ZodType>(schema: T) => schema.optional().catch(undefined);

/** The items of a list that match `schema`; others are skipped. Absent when not a list. */
const itemsOf = <T extends z.ZodType>(schema: T) =>
  lenient(
    z.array(z.unknown()).transform((items) =>
      items.flatMap((item): z.output<T>[] => {
        const parsed = schema.safeParse(item);
        return parsed.success ? [parsed.data] : [];
      }),
    ),
  );

const integer = z.number().refine(Number.isInteger);

/**
 * A tool call, whole or a streamed piece. Pieces carry the call's `index`; a whole answer may leave
 * it out. Some servers send `arguments` as an object rather than JSON text.
 */
const toolCallReader = z.object({
  index: lenient(integer),
  id: lenient(z.string()),
  function: lenient(
    z.object({
      name: lenient(z.string()),
      arguments: lenient(z.union([z.string(), z.custom<Record<string, unknown>>(isPlainObject)])),
    }),
  ),
});
export type ToolCallPiece = z.output<typeof toolCallReader>;

const messageReader = z.object({ content: lenient(z.string()), tool_calls: itemsOf(toolCallReader) });

const choiceReader = z.object({
  index: lenient(integer),
  /** Chat, streamed. */
  delta: lenient(messageReader),
  /** Chat, whole. */
  message: lenient(messageReader),
  /** Legacy completions. */
  text: lenient(z.string()),
  logprobs: lenient(
    z.object({
      /** Chat: `{content: [{logprob}]}`. */
      content: itemsOf(z.object({ logprob: z.number() })),
      /** Legacy completions: `{token_logprobs: [n]}` (the first may be null). */
      token_logprobs: itemsOf(z.number()),
    }),
  ),
  finish_reason: lenient(z.string()),
});
export type ChoiceReading = z.output<typeof choiceReader>;

/**
 * Any answer body: a chat completion, a stream chunk, or a legacy text completion. An `error` field
 * in a stream chunk is an error the server sent mid-stream.
 */
export const answerBodySchema = z.object({
  model: lenient(z.string()),
  usage: lenient(z.object({ prompt_tokens: lenient(z.number()), completion_tokens: lenient(z.number()) })),
  choices: itemsOf(choiceReader),
  error: z.unknown().optional(),
});
export type AnswerBody = z.output<typeof answerBodySchema>;
