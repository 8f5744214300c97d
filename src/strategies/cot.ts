import type { AnswerFormat } from "../answers/answer-format.js";
import { numericFormat } from "../answers/numeric-format.js";
import type { FinishReason } from "../core/backend.js";
import type { ChatMessage } from "../core/message.js";
import type { Strategy, StrategyInput, StrategyResult } from "../core/strategy.js";
import { answeringParams } from "./answering-params.js";
import { instructedMessages } from "./instructed-messages.js";

/** A worked example for few-shot prompting. */
export interface CotExample {
  question: string;
  /** The full worked solution, ending in the answer as the format asks for it. */
  solution: string;
}

export interface CotOptions {
  format?: AnswerFormat;
  /** Worked examples shown before the question (few-shot); none means zero-shot. */
  examples?: CotExample[];
}

export interface CotResult extends StrategyResult {
  details: {
    /** The model's whole reasoning. */
    reasoning: string;
    /** The extracted answer, or undefined when the model gave none. */
    extracted: string | undefined;
    completionTokens: number;
    /** Why generation ended: "length" when max tokens cut the reasoning. */
    finishReason: FinishReason;
    /** Mean per-token confidence, when the backend reports it. */
    confidence: number | undefined;
    /** Per-token probabilities, for confidence-aware voting. */
    confidences: number[] | undefined;
  };
}

/** The conversation a CoT call sends: examples as earlier turns, then the question with the instruction. */
export function cotMessages(input: StrategyInput, options: CotOptions = {}): ChatMessage[] {
  const format = options.format ?? numericFormat;
  const examples = (options.examples ?? []).flatMap((example): ChatMessage[] => [
    { role: "user", content: `${example.question}\n${format.instruction}` },
    { role: "assistant", content: example.solution },
  ]);
  return instructedMessages(input.messages, format.instruction, examples);
}

const mean = (xs: number[] | undefined): number | undefined =>
  xs && xs.length > 0 ? xs.reduce((a, b) => a + b, 0) / xs.length : undefined;

/**
 * Chain-of-thought: ask for step-by-step reasoning (zero-shot, or few-shot with worked examples) and
 * extract the answer apart from the reasoning.
 */
export function cot(options: CotOptions = {}): Strategy<StrategyInput, CotResult> {
  const format = options.format ?? numericFormat;
  const strategy: Strategy<StrategyInput, CotResult> = async (ctx, input) => {
    const result = await ctx.generate(
      {
        ...answeringParams(input.params, format),
        messages: cotMessages(input, options),
        n: 1,
        confidence: true,
      },
      { step: { kind: "cot" } },
    );
    const completion = result.completions[0];
    const reasoning = completion?.text ?? "";
    const extracted = format.extract(reasoning);
    const confidence = ctx.backend.capabilities.confidence ? mean(completion?.tokenConfidences) : undefined;
    ctx.emit({
      type: "sample",
      index: 0,
      text: reasoning,
      ...(extracted !== undefined && { answer: extracted }),
      finishReason: completion?.finishReason ?? "stop",
      completionTokens: completion?.completionTokens ?? 0,
      ...(confidence !== undefined && { confidence }),
    });
    // Free text stands as the answer only when the model finished it: a cut-off draft is no answer,
    // and the runtime says it was cut.
    const cut = completion?.finishReason === "length";
    return {
      answer: extracted ?? (cut ? "" : reasoning.trim()),
      strategy: options.examples?.length ? "cot-few-shot" : "cot",
      budgetExhausted: false,
      details: {
        reasoning,
        extracted,
        completionTokens: completion?.completionTokens ?? 0,
        finishReason: completion?.finishReason ?? "stop",
        confidence,
        confidences: ctx.backend.capabilities.confidence ? completion?.tokenConfidences : undefined,
      },
    };
  };
  return strategy;
}
