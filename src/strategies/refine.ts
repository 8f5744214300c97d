import type { AnswerFormat } from "../answers/answer-format.js";
import { numericFormat } from "../answers/numeric-format.js";
import { BudgetExhaustedError } from "../core/errors.js";
import type { ChatMessage } from "../core/message.js";
import type { Strategy, StrategyContext, StrategyInput, StrategyResult } from "../core/strategy.js";
import { cot, cotMessages } from "./cot.js";
import { answerOf, reasoningOf } from "./result-reading.js";

export interface RefineOptions {
  /** Writes the first draft; default chain-of-thought. */
  base?: Strategy;
  format?: AnswerFormat;
  /** Most critique-and-rewrite rounds after the first draft. Default 3. */
  maxRounds?: number;
}

export type Verdict = "correct" | "revise";

export interface RefineRound {
  /** A draft: the first from the base strategy, later ones rewrites. */
  draft: string;
  /** The model's review of this draft, or undefined when refinement stopped before reviewing it. */
  critique: string | undefined;
  /** The review's verdict; undefined when it gave none (treated as "revise") or there was no review. */
  verdict: Verdict | undefined;
  /** The draft's extracted answer. */
  answer: string | undefined;
}

export type RefineStopReason = "verdict correct" | "answer unchanged" | "max rounds" | "budget";

export interface RefineResult extends StrategyResult {
  details: {
    rounds: RefineRound[];
    stopReason: RefineStopReason;
    /** The final draft and its extracted answer, so refine composes like a base strategy. */
    reasoning: string;
    extracted: string | undefined;
  };
}

const CRITIQUE_PROMPT =
  "Review the solution above. Check each step and the final answer for mistakes in reasoning, " +
  "arithmetic or reading of the question, and list any problems you find. Then end with exactly one " +
  'line: "VERDICT: CORRECT" if the solution is right as written, or "VERDICT: REVISE" if it needs changes.';

const REWRITE_PROMPT =
  "Rewrite the solution, fixing the problems found in your review. Give the complete corrected " +
  "solution, not only the changes.";

/** The last verdict line in a critique, if any. */
function parseVerdict(critique: string): Verdict | undefined {
  const last = [...critique.matchAll(/VERDICT\**\s*:\s*\**\s*(CORRECT|REVISE)\b/gi)].at(-1)?.[1];
  return last === undefined ? undefined : (last.toLowerCase() as Verdict);
}

/**
 * Self-Refine (Madaan et al., 2023): draft, have the model critique its own draft ending in a verdict,
 * and rewrite it using the critique; repeat until the verdict is CORRECT, a rewrite no longer changes
 * the extracted answer, or `maxRounds` rewrites. Each review sees only the latest draft, which keeps the
 * prompt short for small models. When the budget runs out the latest draft is returned.
 */
export function refine(options: RefineOptions = {}): Strategy<StrategyInput, RefineResult> {
  const format = options.format ?? numericFormat;
  const base = options.base ?? cot({ format });
  const maxRounds = Math.max(1, options.maxRounds ?? 3);

  return async (ctx: StrategyContext, input: StrategyInput): Promise<RefineResult> => {
    // With nothing drafted there is no best-so-far: budget exhaustion here propagates to the caller.
    const first = await ctx.step({ kind: "draft", label: "draft 1" }, (draftCtx) => base(draftCtx, input));
    const firstText = reasoningOf(first);
    const firstAnswer = answerOf(first, format);
    const rounds: RefineRound[] = [
      {
        draft: firstText,
        critique: undefined,
        verdict: undefined,
        answer: firstAnswer,
      },
    ];
    const question = cotMessages(input, { format });
    const params = { ...input.params, n: 1 };
    let stopReason: RefineStopReason = "max rounds";

    try {
      for (let round = 1; round <= maxRounds; round++) {
        const current = rounds.at(-1) as RefineRound;
        const reviewing: ChatMessage[] = [
          ...question,
          { role: "assistant", content: current.draft },
          { role: "user", content: CRITIQUE_PROMPT },
        ];
        const review = await ctx.generate(
          { ...params, messages: reviewing },
          { step: { kind: "critique", label: `critique ${round}` } },
        );
        current.critique = review.completions[0]?.text ?? "";
        current.verdict = parseVerdict(current.critique);
        if (current.verdict === "correct") {
          stopReason = "verdict correct";
          break;
        }

        const rewrite = await ctx.generate(
          {
            ...params,
            messages: [
              ...reviewing,
              { role: "assistant", content: current.critique },
              { role: "user", content: `${REWRITE_PROMPT}\n${format.instruction}` },
            ],
          },
          { step: { kind: "rewrite", label: `rewrite ${round}` } },
        );
        const draft = rewrite.completions[0]?.text ?? "";
        const answer = format.extract(draft);
        rounds.push({ draft, critique: undefined, verdict: undefined, answer });
        const unchanged =
          answer === current.answer ||
          (answer !== undefined &&
            current.answer !== undefined &&
            format.canonical(answer) === format.canonical(current.answer));
        if (unchanged) {
          stopReason = "answer unchanged";
          break;
        }
      }
    } catch (error) {
      if (!(error instanceof BudgetExhaustedError)) throw error;
      stopReason = "budget";
    }

    const final = rounds.at(-1) as RefineRound;
    return {
      answer: final.answer ?? final.draft.trim(),
      strategy: "refine",
      budgetExhausted: stopReason === "budget" || first.budgetExhausted,
      details: { rounds, stopReason, reasoning: final.draft, extracted: final.answer },
    };
  };
}
