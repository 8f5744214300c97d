import type { GenerationParams } from "../core/backend.js";
import { BudgetExhaustedError } from "../core/errors.js";
import type { Strategy, StrategyInput, StrategyResult } from "../core/strategy.js";

/** The result type a strategy resolves to. */
export type ResultOf<S> = S extends Strategy<StrategyInput, infer O> ? O : never;

/** `strategy` with some generation parameters fixed; they win over the input's own. */
export function withParams<O extends StrategyResult>(
  strategy: Strategy<StrategyInput, O>,
  params: GenerationParams,
): Strategy<StrategyInput, O> {
  return (ctx, input) => strategy(ctx, { ...input, params: { ...input.params, ...params } });
}

/**
 * Runs `first`, turns its result into the input of `second` with `then`, and returns what `second`
 * returns. If the budget runs out during `second`, `first`'s result is the best so far and is returned,
 * flagged `budgetExhausted`; hence the result type `A | B`.
 */
export function pipeline<A extends StrategyResult, B extends StrategyResult>(
  first: Strategy<StrategyInput, A>,
  then: (previous: A, input: StrategyInput) => StrategyInput | Promise<StrategyInput>,
  second: Strategy<StrategyInput, B>,
): Strategy<StrategyInput, A | B> {
  return async (ctx, input) => {
    const previous = await ctx.step({ kind: "stage", label: "stage 1" }, (stageCtx) =>
      first(stageCtx, input),
    );
    const nextInput = await then(previous, input);
    try {
      const next = await ctx.step({ kind: "stage", label: "stage 2" }, (stageCtx) =>
        second(stageCtx, nextInput),
      );
      return previous.budgetExhausted ? { ...next, budgetExhausted: true } : next;
    } catch (error) {
      if (!(error instanceof BudgetExhaustedError)) throw error;
      return { ...previous, budgetExhausted: true };
    }
  };
}

/** Each branch's result, or undefined where the budget ran out before the branch finished. */
export type BranchResults<S extends readonly Strategy<StrategyInput, StrategyResult>[]> = {
  -readonly [K in keyof S]: ResultOf<S[K]> | undefined;
};

/**
 * Runs the branches concurrently on the same input and context (one budget, one event stream, one
 * step per branch) and combines their results. Branches that share a seed and parameters return the
 * same thing: vary them with `withParams`. The result is flagged `budgetExhausted` if any branch ran
 * out; if every branch did, the exhaustion propagates.
 */
export function parallel<
  const S extends readonly Strategy<StrategyInput, StrategyResult>[],
  O extends StrategyResult,
>(
  strategies: S,
  combine: (results: BranchResults<S>, input: StrategyInput) => O | Promise<O>,
): Strategy<StrategyInput, O> {
  return async (ctx, input) => {
    const outcomes = await Promise.allSettled(
      strategies.map((strategy, i) =>
        ctx.step({ kind: "branch", label: `branch ${i + 1}` }, (branchCtx) => strategy(branchCtx, input)),
      ),
    );
    let exhaustion: BudgetExhaustedError | undefined;
    const results: Array<StrategyResult | undefined> = [];
    for (const outcome of outcomes) {
      if (outcome.status === "fulfilled") {
        results.push(outcome.value);
      } else if (outcome.reason instanceof BudgetExhaustedError) {
        exhaustion = outcome.reason;
        results.push(undefined);
      } else {
        throw outcome.reason;
      }
    }
    if (exhaustion && results.every((r) => r === undefined)) throw exhaustion;
    const combined = await combine(results as unknown as BranchResults<S>, input);
    const budgetExhausted = exhaustion !== undefined || results.some((r) => r?.budgetExhausted);
    return budgetExhausted ? { ...combined, budgetExhausted: true } : combined;
  };
}
