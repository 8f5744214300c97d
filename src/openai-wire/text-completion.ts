import { z } from "zod";
import { samplingShape } from "./chat-request.js";
import type { WireFinishReason, WireUsage } from "./chat-response.js";

/*
 * The legacy POST /v1/completions: a raw prompt in, text out. The HTTP backend uses it for raw
 * prompts and the test double serves it; Deliberate's server does not.
 */

export const textCompletionRequestSchema = z.object({
  ...samplingShape,
  prompt: z.union([z.string(), z.tuple([z.string()])], {
    error: "must be a string (or an array of exactly one string)",
  }),
  top_k: z.int().nullish(),
  /** A top-k count here (chat takes a boolean); any but false asks for logprobs. */
  logprobs: z.union([z.int(), z.boolean()]).nullish(),
});
export type TextCompletionRequestBody = z.input<typeof textCompletionRequestSchema>;

/** Per-token log probabilities of a legacy choice. */
export interface TextLogprobs {
  tokens: string[];
  token_logprobs: number[];
  top_logprobs: null;
  text_offset: number[];
}

export interface TextCompletionChoice {
  index: number;
  text: string;
  logprobs: TextLogprobs | null;
  finish_reason: WireFinishReason | null;
}

/** A whole answer, and (with `text` a piece) each streamed chunk. */
export interface TextCompletion {
  id: string;
  object: "text_completion";
  created: number;
  model: string;
  choices: TextCompletionChoice[];
  usage?: WireUsage | null;
}
