import { BudgetExhaustedError } from "../core/errors.js";
import type { Strategy, StrategyContext, StrategyInput, StrategyResult } from "../core/strategy.js";

/** Splits settled outcomes into values and whether the budget ran out; any other failure is rethrown. */
export function settleWithinBudget<T>(outcomes: PromiseSettledResult<T>[]): {
  values: Array<T | undefined>;
  budgetExhausted: boolean;
} {
  let budgetExhausted = false;
  const values = outcomes.map((outcome) => {
    if (outcome.status === "fulfilled") return outcome.value;
    if (outcome.reason instanceof BudgetExhaustedError) {
      budgetExhausted = true;
      return undefined;
    }
    throw outcome.reason;
  });
  return { values, budgetExhausted };
}

export interface DrawOptions {
  /** Index of the first sample of this round. */
  first: number;
  count: number;
  /** Temperature of every sample, or of sample i (e.g. a greedy sample 0 among sampled ones). */
  temperature: number | ((index: number) => number);
  /** Sample i is seeded baseSeed + i, so samples differ yet reproduce. */
  baseSeed: number;
  /** Step label of sample i. */
  label: (index: number) => string;
}

/**
 * The context of sample `index`. The sampled strategy (cot, pal, ...) runs once and reports its
 * completion as sample 0; here it is one of many, so its sample event takes the index it was drawn as.
 * Only events it emits itself are renumbered: a sampler nested inside it numbers its own samples.
 */
function numberedSample(ctx: StrategyContext, index: number): StrategyContext {
  return {
    taskId: ctx.taskId,
    backend: ctx.backend,
    backends: ctx.backends,
    budget: ctx.budget,
    cache: ctx.cache,
    signal: ctx.signal,
    emit: (event) => ctx.emit(event.type === "sample" ? { ...event, index } : event),
    generate: (request, options) => ctx.generate(request, options),
    step: (options, fn) => ctx.step(options, fn),
  };
}

/**
 * Runs one round of `count` samples of `base` at once, so the backend batches them. Samples the budget
 * refused come back undefined; every finished sample is kept.
 */
export async function drawSamples<O extends StrategyResult>(
  ctx: StrategyContext,
  base: Strategy<StrategyInput, O>,
  input: StrategyInput,
  options: DrawOptions,
): Promise<{ values: Array<O | undefined>; budgetExhausted: boolean }> {
  const { first, count, temperature, baseSeed, label } = options;
  const outcomes = await Promise.allSettled(
    Array.from({ length: count }, (_, j) =>
      ctx.step({ kind: "sample", label: label(first + j) }, (sampleCtx) =>
        base(numberedSample(sampleCtx, first + j), {
          ...input,
          params: {
            ...input.params,
            temperature: typeof temperature === "number" ? temperature : temperature(first + j),
            seed: baseSeed + first + j,
          },
        }),
      ),
    ),
  );
  return settleWithinBudget(outcomes);
}
