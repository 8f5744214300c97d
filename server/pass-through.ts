import type { FinishReason } from "../src/core/backend.js";
import type { ToolCall } from "../src/core/message.js";
import type { Strategy, StrategyResult } from "../src/core/strategy.js";

export interface PassThroughResult extends StrategyResult {
  details: { finishReason: FinishReason; toolCalls: ToolCall[] };
}

/**
 * The server's `direct`: one call, the answer as the model wrote it (trimmed), plus what the
 * OpenAI response needs that `direct` drops: the call's own finish reason and its native tool calls
 * (the client's functions, passed through `params.tools`). Read from the result, so a call replayed
 * from the cache reports them too.
 */
export const passThrough: Strategy<Parameters<Strategy>[1], PassThroughResult> = async (ctx, input) => {
  const result = await ctx.generate({ ...input.params, messages: input.messages, n: 1 });
  const completion = result.completions[0];
  return {
    answer: completion?.text.trim() ?? "",
    strategy: "direct",
    budgetExhausted: false,
    details: { finishReason: completion?.finishReason ?? "stop", toolCalls: completion?.toolCalls ?? [] },
  };
};
