import type { GenerationParams } from "../core/backend.js";
import { BudgetExhaustedError } from "../core/errors.js";
import type { ChatMessage } from "../core/message.js";
import type { Strategy, StrategyContext, StrategyInput, StrategyResult } from "../core/strategy.js";
import { describeIssue, type ValidationIssue } from "../structured/schema-validator.js";
import { StructuredOutputError } from "../structured/structured-output-error.js";
import { prepareSchema, type SchemaInput, type StructuredSchema } from "../structured/structured-schema.js";

export interface StructuredOutputOptions {
  schema: StructuredSchema | SchemaInput;
  /** Most generations before giving up (first try plus repairs or resamples). Default 3. */
  maxAttempts?: number;
  /**
   * After an invalid output: "repair" shows the model its output and the validator's complaint and
   * asks for a fix; "resample" asks again afresh with another seed. Default "repair".
   */
  retry?: "repair" | "resample";
  /** Put the schema in the prompt (needed where the backend cannot enforce it). Default true. */
  instruct?: boolean;
  /**
   * On giving up: "throw" a StructuredOutputError (default), or "no-answer": return an empty answer,
   * so samplers like self-consistency can carry on with the other samples.
   */
  onInvalid?: "throw" | "no-answer";
  /**
   * Ask the backend for per-token probabilities of each attempt (for confidence-weighted voting).
   * Off by default: llama.cpp can then no longer check the grammar lazily on the sampled token and
   * applies it to the whole vocabulary at every step, about twice the time per token.
   */
  confidence?: boolean;
}

export interface AttemptRecord {
  attempt: number;
  text: string;
  valid: boolean;
  issues: ValidationIssue[];
  completionTokens: number;
}

export interface StructuredOutputResult extends StrategyResult {
  details: {
    /** The validated value, or undefined when every attempt failed (only with onInvalid "no-answer"). */
    object: unknown;
    /** The answer as compact JSON, for voting; undefined when there is none. */
    extracted: string | undefined;
    attempts: AttemptRecord[];
    /** Why the last attempt failed, when all did. */
    failure?: string;
    /** Per-token probabilities of the valid attempt, for confidence-weighted voting. */
    confidences?: number[];
  };
}

/** Appended to the question so the model knows the shape even where the backend cannot enforce it. */
export const schemaInstruction = (schema: StructuredSchema): string =>
  `Answer with a single JSON value that matches this JSON Schema, and nothing else:\n${JSON.stringify(schema.jsonSchema)}`;

export function withSchemaInstruction(messages: ChatMessage[], schema: StructuredSchema): ChatMessage[] {
  const out = [...messages];
  const lastUser = out.map((m) => m.role).lastIndexOf("user");
  const instruction = schemaInstruction(schema);
  if (lastUser < 0) return [...out, { role: "user", content: instruction }];
  const question = out[lastUser] as ChatMessage;
  out[lastUser] = { ...question, content: `${question.content}\n\n${instruction}` };
  return out;
}

const repairRequest = (issues: ValidationIssue[]): string =>
  `That output does not match the schema:\n${issues.map((i) => `- ${describeIssue(i)}`).join("\n")}\nReply with the corrected JSON only.`;

export const asStructuredSchema = (schema: StructuredSchema | SchemaInput): StructuredSchema =>
  typeof schema === "object" && schema !== null && "check" in schema && typeof schema.check === "function"
    ? (schema as StructuredSchema)
    : prepareSchema(schema as SchemaInput);

/**
 * Structured output: generate under the schema (enforced by the backend where it can: a llama.cpp
 * grammar, an OpenAI `response_format`), validate with a real JSON Schema validator, and on failure
 * repair or resample within `maxAttempts` and the task budget. Never answers with an invalid value.
 * Each attempt is a `sample` event and its validation a `score` event (verifier "json-schema").
 */
export function structuredOutput(
  options: StructuredOutputOptions,
): Strategy<StrategyInput, StructuredOutputResult> {
  const schema = asStructuredSchema(options.schema);
  const maxAttempts = Math.max(1, Math.floor(options.maxAttempts ?? 3));
  const retry = options.retry ?? "repair";
  const instruct = options.instruct ?? true;

  return async (ctx: StrategyContext, input: StrategyInput): Promise<StructuredOutputResult> => {
    const firstMessages = instruct ? withSchemaInstruction(input.messages, schema) : input.messages;
    const attempts: AttemptRecord[] = [];
    let messages = firstMessages;
    let lastIssues: ValidationIssue[] = [];
    let budgetExhausted = false;

    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      const params: GenerationParams = { ...input.params };
      if (attempt > 1 && retry === "resample") {
        if (params.seed !== undefined) params.seed += attempt - 1;
        // Greedy decoding would only repeat the same output.
        if (!params.temperature) params.temperature = 0.7;
      }
      let result: Awaited<ReturnType<StrategyContext["generate"]>>;
      try {
        result = await ctx.generate(
          {
            ...params,
            messages,
            jsonSchema: schema.jsonSchema,
            n: 1,
            ...(options.confidence && { confidence: true }),
          },
          { step: { kind: "structured", label: `attempt ${attempt}` } },
        );
      } catch (error) {
        if (!(error instanceof BudgetExhaustedError)) throw error;
        budgetExhausted = true;
        break;
      }
      const completion = result.completions[0];
      const text = completion?.text ?? "";
      const outcome = schema.check(text);
      const issues = outcome.valid
        ? []
        : completion?.finishReason === "length"
          ? [
              {
                path: "",
                keyword: "maxTokens",
                schemaPath: "#",
                message: `output cut off at ${completion.completionTokens} tokens: ${outcome.issues[0]?.message ?? ""}`,
              },
            ]
          : outcome.issues;
      const extracted = outcome.valid ? JSON.stringify(outcome.value) : undefined;
      ctx.emit({
        type: "sample",
        index: attempt - 1,
        text,
        ...(extracted !== undefined && { answer: extracted }),
        finishReason: completion?.finishReason ?? "stop",
        completionTokens: completion?.completionTokens ?? 0,
      });
      ctx.emit({
        type: "score",
        target: `attempt ${attempt}`,
        score: outcome.valid ? 1 : 0,
        verifier: "json-schema",
        rationale: outcome.valid ? "valid" : issues.map(describeIssue).join("; "),
      });
      attempts.push({
        attempt,
        text,
        valid: outcome.valid,
        issues,
        completionTokens: completion?.completionTokens ?? 0,
      });
      if (outcome.valid) {
        return {
          answer: extracted as string,
          strategy: "structured",
          budgetExhausted: false,
          details: {
            object: outcome.value,
            extracted,
            attempts,
            ...(completion?.tokenConfidences && { confidences: completion.tokenConfidences }),
          },
        };
      }
      lastIssues = issues;
      // Only the latest bad output is shown, so repair prompts do not grow with each attempt.
      messages =
        retry === "repair"
          ? [
              ...firstMessages,
              { role: "assistant", content: text },
              { role: "user", content: repairRequest(issues) },
            ]
          : firstMessages;
    }

    const error = new StructuredOutputError(
      attempts.length,
      lastIssues,
      budgetExhausted ? "budget exhausted" : undefined,
    );
    if ((options.onInvalid ?? "throw") === "throw") throw error;
    return {
      answer: "",
      strategy: "structured",
      budgetExhausted,
      details: { object: undefined, extracted: undefined, attempts, failure: error.message },
    };
  };
}
