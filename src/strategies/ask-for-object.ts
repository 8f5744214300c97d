import { BudgetExhaustedError } from "../core/errors.js";
import type { StrategyContext, StrategyInput } from "../core/strategy.js";
import type { StructuredSchema } from "../structured/structured-schema.js";
import { structuredOutput } from "./structured-output.js";

export type ObjectReply<T> = { ok: true; value: T } | { ok: false; text: string };

/**
 * A JSON value from the model inside a running strategy. It is the machinery of `generateObject`
 * (schema enforced where the backend can, validated, repaired up to `maxAttempts`), but it runs
 * through `ctx`, so the calls are charged to the task's budget and show up in its event stream.
 * `generateObject` would start a task of its own. When no attempt is valid, the last attempt's text
 * comes back so the caller can read it another way. Budget exhaustion throws, so the caller's
 * best-so-far logic sees it.
 */
export async function askForObject<T>(
  ctx: StrategyContext,
  schema: StructuredSchema<T>,
  input: StrategyInput,
  maxAttempts: number,
): Promise<ObjectReply<T>> {
  const result = await structuredOutput({ schema, maxAttempts, onInvalid: "no-answer" })(ctx, input);
  if (result.details.extracted !== undefined) return { ok: true, value: result.details.object as T };
  if (result.budgetExhausted) throw new BudgetExhaustedError(ctx.budget.exhausted() ?? "calls");
  return { ok: false, text: result.details.attempts.at(-1)?.text ?? "" };
}
