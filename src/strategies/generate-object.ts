import type { Backend, GenerationParams } from "../core/backend.js";
import type { Budget } from "../core/budget.js";
import type { GenerationCache } from "../core/cache.js";
import type { ChatMessage } from "../core/message.js";
import type { Strategy } from "../core/strategy.js";
import type { Usage } from "../core/usage.js";
import type { EventListener } from "../runtime/event-bus.js";
import { runStrategy } from "../runtime/task-context.js";
import { StructuredOutputError } from "../structured/structured-output-error.js";
import { type InferSchema, prepareSchema, type SchemaInput } from "../structured/structured-schema.js";
import { structuredOutput } from "./structured-output.js";
import { structuredSelfConsistency } from "./structured-self-consistency.js";

export interface GenerateObjectOptions<S extends SchemaInput> {
  backend: Backend;
  schema: S;
  /** The conversation; or give `prompt` for a single user message. */
  messages?: ChatMessage[];
  prompt?: string;
  params?: GenerationParams;
  maxAttempts?: number;
  retry?: "repair" | "resample";
  instruct?: boolean;
  /** More than 1: self-consistency, majority vote over this many valid samples. */
  samples?: number;
  budget?: Budget;
  cache?: GenerationCache;
  signal?: AbortSignal;
  onEvent?: EventListener;
}

export interface GenerateObjectResult<T> {
  object: T;
  /** The value as compact JSON. */
  json: string;
  usage: Usage;
  traceId: string;
}

/**
 * Generates one value matching `schema` (zod or JSON Schema) and returns it typed and validated, or
 * throws StructuredOutputError naming the constraint the last attempt failed.
 */
export async function generateObject<S extends SchemaInput>(
  options: GenerateObjectOptions<S>,
): Promise<GenerateObjectResult<InferSchema<S>>> {
  const schema = prepareSchema(options.schema);
  const messages =
    options.messages ??
    (options.prompt !== undefined ? [{ role: "user" as const, content: options.prompt }] : []);
  const shared = {
    schema,
    ...(options.maxAttempts !== undefined && { maxAttempts: options.maxAttempts }),
    ...(options.retry !== undefined && { retry: options.retry }),
    ...(options.instruct !== undefined && { instruct: options.instruct }),
  };
  const strategy: Strategy =
    (options.samples ?? 1) > 1
      ? structuredSelfConsistency({ ...shared, n: options.samples })
      : structuredOutput(shared);
  const result = await runStrategy(
    strategy,
    { messages, ...(options.params && { params: options.params }) },
    {
      backend: options.backend,
      strategyName: (options.samples ?? 1) > 1 ? "structured-sc" : "structured",
      ...(options.budget && { budget: options.budget }),
      ...(options.cache && { cache: options.cache }),
      ...(options.signal && { signal: options.signal }),
      ...(options.onEvent && { onEvent: options.onEvent }),
    },
  );
  // Checked once more at the exit: whatever path produced the answer, nothing invalid leaves here.
  const outcome = schema.check(result.answer);
  if (!outcome.valid) {
    throw new StructuredOutputError(
      0,
      outcome.issues,
      result.budgetExhausted ? "budget exhausted" : undefined,
    );
  }
  return {
    object: outcome.value,
    json: JSON.stringify(outcome.value),
    usage: result.usage,
    traceId: result.traceId,
  };
}
