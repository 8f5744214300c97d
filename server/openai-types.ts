import { z } from "zod";
import { chatRequestSchema, isPlainObject, positiveInt, requestIssueOf } from "../src/openai-wire/index.js";
import { ApiError } from "./openai-errors.js";

/*
 * The request body of POST /v1/chat/completions as this server reads it: the shared wire schema
 * (src/openai-wire) plus Deliberate's own `deliberate` field.
 */

const MAX_TIMER_MS = 2_147_483_647;

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

const chatCompletionRequestSchema = chatRequestSchema.extend({
  deliberate: deliberateOptionsSchema.nullish(),
});
export type ChatCompletionRequest = z.output<typeof chatCompletionRequestSchema>;

/** Checks a parsed JSON body; a bad one is a 400 naming the first offending parameter. */
export function parseChatRequest(body: unknown): ChatCompletionRequest {
  if (!isPlainObject(body)) {
    throw new ApiError(400, "invalid_request_body", "the request body must be a JSON object");
  }
  const parsed = chatCompletionRequestSchema.safeParse(body);
  if (parsed.success) return parsed.data;
  const { param, message } = requestIssueOf(parsed.error);
  throw new ApiError(400, "invalid_value", param ? `${param}: ${message}` : message, param ? { param } : {});
}
