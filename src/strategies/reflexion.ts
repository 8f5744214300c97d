import type { AnswerFormat } from "../answers/answer-format.js";
import { numericFormat } from "../answers/numeric-format.js";
import { BudgetExhaustedError, errorMessage } from "../core/errors.js";
import type { ChatMessage } from "../core/message.js";
import type { Strategy, StrategyContext, StrategyInput, StrategyResult } from "../core/strategy.js";
import { cot, cotMessages } from "./cot.js";
import { answerOf, reasoningOf } from "./result-reading.js";

export interface ReflexionCheckResult {
  pass: boolean;
  /** What the checker saw, e.g. a failing test's output. Shown to the model. */
  feedback?: string;
}

/** The external signal Reflexion learns from: unit tests, a simulator, a ground-truth lookup. */
export type ReflexionCheck = (
  answer: string,
  input: StrategyInput,
) => ReflexionCheckResult | Promise<ReflexionCheckResult>;

export interface ReflexionOptions {
  check: ReflexionCheck;
  /** Most attempts. Default 3. */
  maxAttempts?: number;
  /** Makes each attempt; default chain-of-thought. It sees the memory in the question. */
  base?: Strategy;
  format?: AnswerFormat;
  /** Most recent failures kept in memory (the paper keeps 1 to 3). Default 3. */
  memorySize?: number;
}

export interface ReflexionAttempt {
  answer: string;
  pass: boolean;
  feedback: string | undefined;
  /** The model's lesson from this failure; undefined on a pass or when no attempt followed. */
  lesson: string | undefined;
}

export interface ReflexionResult extends StrategyResult {
  details: {
    attempts: ReflexionAttempt[];
    passed: boolean;
    /** The returned attempt's solution and extracted answer, so reflexion composes like a base strategy. */
    reasoning: string;
    extracted: string | undefined;
  };
}

const LESSON_PROMPT =
  "In two or three sentences, say what went wrong and what to do differently next time. " +
  "Do not solve the problem again.";

/** The question with the memory of earlier failures appended to the last user message. */
function withMemory(input: StrategyInput, memory: ReflexionAttempt[]): StrategyInput {
  if (memory.length === 0) return input;
  const notes = memory.map((m, i) =>
    [
      `${i + 1}. You answered ${m.answer}, which was wrong.`,
      ...(m.feedback ? [`Feedback: ${m.feedback}`] : []),
      ...(m.lesson ? [`Lesson: ${m.lesson}`] : []),
    ].join(" "),
  );
  const text = [
    "Your earlier attempts at this question failed. Notes from them:",
    ...notes,
    "Use these lessons and do not repeat the same mistakes.",
  ].join("\n");
  const messages = [...input.messages];
  const lastUser = messages.map((m) => m.role).lastIndexOf("user");
  const question = messages[lastUser];
  if (!question) return { ...input, messages: [...messages, { role: "user", content: text }] };
  messages[lastUser] = { ...question, content: `${question.content}\n\n${text}` };
  return { ...input, messages };
}

/**
 * Reflexion (Shinn et al., 2023): attempt, check the answer with an external checker, and on failure
 * have the model write a short lesson; failures and lessons are kept as memory and shown in the next
 * attempt's prompt. Returns the first passing attempt, or else the last one. When the budget runs out
 * the last attempt is returned.
 */
export function reflexion(options: ReflexionOptions): Strategy<StrategyInput, ReflexionResult> {
  const format = options.format ?? numericFormat;
  const base = options.base ?? cot({ format });
  const maxAttempts = Math.max(1, options.maxAttempts ?? 3);
  const memorySize = Math.max(1, options.memorySize ?? 3);

  return async (ctx: StrategyContext, input: StrategyInput): Promise<ReflexionResult> => {
    const attempts: ReflexionAttempt[] = [];
    let last: { text: string; extracted: string | undefined } | undefined;
    let budgetExhausted = false;

    for (let k = 1; k <= maxAttempts; k++) {
      const memory = attempts.filter((a) => !a.pass).slice(-memorySize);
      let result: StrategyResult;
      try {
        result = await ctx.step({ kind: "attempt", label: `attempt ${k}` }, (attemptCtx) =>
          base(attemptCtx, withMemory(input, memory)),
        );
      } catch (error) {
        // Before any attempt there is nothing to return: let the caller see the exhaustion.
        if (!(error instanceof BudgetExhaustedError) || attempts.length === 0) throw error;
        budgetExhausted = true;
        break;
      }
      if (result.budgetExhausted) budgetExhausted = true;
      last = { text: reasoningOf(result), extracted: answerOf(result, format) };

      let verdict: ReflexionCheckResult;
      try {
        verdict = await options.check(result.answer, input);
      } catch (error) {
        verdict = { pass: false, feedback: `the check failed: ${errorMessage(error)}` };
      }
      const attempt: ReflexionAttempt = {
        answer: result.answer,
        pass: verdict.pass,
        feedback: verdict.feedback,
        lesson: undefined,
      };
      attempts.push(attempt);
      ctx.emit({
        type: "score",
        target: `attempt ${k}`,
        verifier: "reflexion-check",
        score: verdict.pass ? 1 : 0,
        ...(verdict.feedback !== undefined && { rationale: verdict.feedback }),
      });
      // A lesson is only worth a call if another attempt will read it.
      if (verdict.pass || k === maxAttempts || budgetExhausted) break;

      const reflecting: ChatMessage[] = [
        ...cotMessages(input, { format }),
        { role: "assistant", content: last.text },
        {
          role: "user",
          content: [
            `Your answer ${result.answer} is wrong.`,
            ...(verdict.feedback ? [`Feedback: ${verdict.feedback}`] : []),
            LESSON_PROMPT,
          ].join("\n"),
        },
      ];
      try {
        const reflection = await ctx.generate(
          { ...input.params, n: 1, messages: reflecting },
          { step: { kind: "reflect", label: `lesson ${k}` } },
        );
        attempt.lesson = reflection.completions[0]?.text.trim() ?? "";
      } catch (error) {
        if (!(error instanceof BudgetExhaustedError)) throw error;
        budgetExhausted = true;
        break;
      }
    }

    const final = attempts.find((a) => a.pass) ?? attempts.at(-1);
    return {
      answer: final?.answer ?? "",
      strategy: "reflexion",
      budgetExhausted,
      details: {
        attempts,
        passed: attempts.some((a) => a.pass),
        reasoning: last?.text ?? "",
        extracted: last?.extracted,
      },
    };
  };
}
