import type { FinishReason } from "../core/backend.js";
import type { ToolCall } from "../core/message.js";
import type { Strategy, StrategyInput, StrategyResult } from "../core/strategy.js";

export interface DirectResult extends StrategyResult {
  details: {
    /** How the one call ended, so a caller (the server) can say so as the model's own. */
    finishReason: FinishReason;
    /** Native calls of the caller's functions (`params.tools`), which the caller runs, not direct. */
    toolCalls: ToolCall[];
  };
}

/**
 * One call, the answer as the model wrote it (trimmed): the baseline every other strategy is measured
 * against. Read from the call's result, so a call replayed from the cache reports the same.
 */
export const direct: Strategy<StrategyInput, DirectResult> = async (ctx, input) => {
  const result = await ctx.generate({ ...input.params, messages: input.messages, n: 1 });
  const completion = result.completions[0];
  return {
    answer: completion?.text.trim() ?? "",
    strategy: "direct",
    budgetExhausted: false,
    details: { finishReason: completion?.finishReason ?? "stop", toolCalls: completion?.toolCalls ?? [] },
  };
};
