import type { Budget } from "../src/core/budget.js";
import type { TokenReservation } from "./api-key-store.js";
import type { CompletionPlan } from "./completion-plan.js";
import { ApiError } from "./openai-errors.js";

/** What of a plan decides how much its runs may spend. */
type PlannedSpend = Pick<CompletionPlan, "budget" | "choices" | "strategyN">;

/**
 * Each run's budget held within `maxCallsPerRequest` model calls for the whole request: the choices
 * share it equally. A request whose own numbers already ask for more (n choices × the strategy's n,
 * the most samples, candidates or iterations it draws) is refused with 400 rather than quietly cut
 * short; anything else that would make more calls stops at its share like any budget.
 */
export function boundCalls(plan: PlannedSpend, maxCallsPerRequest: number): Budget {
  const asked = plan.choices * (plan.strategyN ?? 1);
  if (asked > maxCallsPerRequest) {
    const what =
      plan.strategyN === undefined
        ? `n = ${plan.choices} choices`
        : `${plan.choices} choice${plan.choices === 1 ? "" : "s"} × n = ${plan.strategyN}`;
    throw new ApiError(
      400,
      "invalid_value",
      `${what} asks for ${asked} model calls, over this server's limit of ${maxCallsPerRequest} per request`,
      { param: plan.choices > 1 ? "n" : "model" },
    );
  }
  const share = Math.floor(maxCallsPerRequest / plan.choices);
  return { ...plan.budget, maxCalls: Math.min(plan.budget.maxCalls ?? share, share) };
}

/** Tokens to hold of the key's budget: each run's token cap for every choice; none, all it has left. */
export function tokensToHold(plan: PlannedSpend): number | undefined {
  const perRun = plan.budget.maxTokens;
  return perRun === undefined ? undefined : perRun * plan.choices;
}

/** Each run's budget within the tokens held for its request, shared equally among the choices. */
export function withinReservation(budget: Budget, choices: number, reservation: TokenReservation): Budget {
  if (reservation.tokens === undefined) return budget;
  const share = Math.max(1, Math.floor(reservation.tokens / choices));
  return { ...budget, maxTokens: Math.min(budget.maxTokens ?? share, share) };
}
