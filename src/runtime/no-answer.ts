import type { Completion } from "../core/backend.js";
import type { Budget, BudgetLimit } from "../core/budget.js";
import type { NoAnswer, StrategyResult } from "../core/strategy.js";

/** What the runtime saw of a task's model calls: enough to say why it gave no answer. */
export interface CallLog {
  /** Completions finished in the whole run, and how many of them max tokens cut off. */
  completions: number;
  cut: number;
  /** The max tokens the latest call with a cut completion ran under, and whether the budget set it. */
  lastCut: { maxTokens: number | undefined; cappedByBudget: boolean } | undefined;
  /** The latest call's completions. */
  last: readonly Completion[] | undefined;
}

export const emptyCallLog = (): CallLog => ({ completions: 0, cut: 0, lastCut: undefined, last: undefined });

/**
 * Adds a finished call to `log`. `maxTokens` is what the call ran under (the request's, capped by the
 * budget); `cappedByBudget` says the token budget, not the request, set it.
 */
export function recordCall(
  log: CallLog,
  completions: readonly Completion[],
  maxTokens: number | undefined,
  cappedByBudget: boolean,
): void {
  const cut = completions.filter((c) => c.finishReason === "length").length;
  log.completions += completions.length;
  log.cut += cut;
  if (cut > 0) log.lastCut = { maxTokens, cappedByBudget };
  log.last = completions;
}

/** Everything the runtime knows of a run that ended without an answer. */
export interface RunOutcome {
  /** The strategy reported a budget cut (or the runtime caught one). */
  budgetExhausted: boolean;
  /** The limit the budget meter reached, if any. */
  limit: BudgetLimit | undefined;
  budget: Budget;
  calls: CallLog;
}

const isEmpty = (answer: string): boolean => answer.trim() === "";

function budgetMessage(limit: BudgetLimit | undefined, budget: Budget): string {
  switch (limit) {
    case "tokens":
      return `the token budget (${budget.maxTokens}) ran out before an answer was found`;
    case "calls":
      return `the call budget (${budget.maxCalls}) ran out before an answer was found`;
    case "deadline":
      return `the deadline (${budget.deadlineMs} ms) passed before an answer was found`;
    case "cost":
      return `the cost budget ($${budget.maxCostUsd}) ran out before an answer was found`;
    default:
      return "the budget ran out before an answer was found";
  }
}

/**
 * Why a run gave no answer, from what happened in it: a budget cut first (it explains everything
 * after it), then output cut by max tokens, then a last call with no text at all, else text with no
 * answer in it. Output counts as cut when at least half the run's completions were: samples voted on
 * are alike, so one cut among many is not the cause. A budget that is merely used up is no cause
 * either: the strategy may have finished all it meant to do.
 */
export function explainNoAnswer(outcome: RunOutcome): NoAnswer {
  const { calls } = outcome;
  const truncated = calls.completions > 0 && calls.cut * 2 >= calls.completions;
  if (outcome.budgetExhausted || (truncated && calls.lastCut?.cappedByBudget)) {
    const limit = outcome.limit ?? (outcome.budgetExhausted ? undefined : "tokens");
    return {
      reason: "budget_exhausted",
      message: `no answer: ${budgetMessage(limit, outcome.budget)}`,
    };
  }
  if (truncated) {
    const at = calls.lastCut?.maxTokens;
    return {
      reason: "truncated",
      message:
        at === undefined
          ? "no answer: the output was cut at the token limit before an answer was written"
          : `no answer: the output was cut at ${at} tokens (max tokens) before an answer was written`,
    };
  }
  const last = calls.last ?? [];
  if (last.length > 0 && last.every((c) => isEmpty(c.text) && !c.toolCalls?.length)) {
    return { reason: "empty_output", message: "no answer: the model generated no text" };
  }
  return {
    reason: "no_extractable_answer",
    message: "no answer: none could be extracted from the model's output",
  };
}

/**
 * Why `result` has no answer, or undefined when it has one. Results from `runStrategy` always carry
 * their reason; anything else with an empty answer gets the generic one.
 */
export function noAnswerOf(result: Pick<StrategyResult, "answer" | "noAnswer">): NoAnswer | undefined {
  if (!isEmpty(result.answer)) return undefined;
  return (
    result.noAnswer ?? {
      reason: "no_extractable_answer",
      message: "no answer: none could be extracted from the model's output",
    }
  );
}
