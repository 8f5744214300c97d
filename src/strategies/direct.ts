import type { Strategy } from "../core/strategy.js";

/** One call, the answer as the model wrote it: the baseline every other strategy is measured against. */
export const direct: Strategy = async (ctx, input) => {
  const result = await ctx.generate({ ...input.params, messages: input.messages, n: 1 });
  const completion = result.completions[0];
  return { answer: completion?.text.trim() ?? "", strategy: "direct", budgetExhausted: false };
};
