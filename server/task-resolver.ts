import { afterEachCall } from "../src/backends/after-each-call.js";
import type { Backend } from "../src/core/backend.js";
import type { Budget } from "../src/core/budget.js";
import { DeliberateError, ModelNotFoundError } from "../src/core/errors.js";
import { totalTokens } from "../src/core/usage.js";
import type { TaskRequest } from "../src/tasks/task-request.js";
import { resolvedTask, type TaskResolver } from "../src/tasks/task-resolver.js";
import type { TokenReservation } from "./api-key-store.js";
import type { CompletionDeps } from "./chat-completions.js";
import { buildStrategy, capBudget, tierBackends } from "./completion-plan.js";
import { ApiError } from "./openai-errors.js";
import { boundCalls, tokensToHold, withinReservation } from "./request-budget.js";

/**
 * How the server runs a stored task, also one queued before a restart: against today's config. The
 * model and strategy must still be served (else the task fails), the budget is held within today's
 * caps, calls go through the model's reliability layer, and the submitting key is charged per call.
 * The key's tokens are held when the task starts, not when it was submitted, so a task queued behind
 * others runs on what they left (and fails with `insufficient_quota` when nothing is left).
 */
export function createServerTaskResolver(deps: CompletionDeps): TaskResolver {
  const served = Object.keys(deps.backends);
  return async (request: TaskRequest) => {
    const modelName = request.model ?? (served[0] as string);
    const chain = Object.hasOwn(deps.backends, modelName) ? deps.backends[modelName] : undefined;
    if (!chain) throw new ModelNotFoundError(`the model '${modelName}' is no longer served`);
    if (!deps.tools.allowsStrategy(request.strategy)) {
      throw new DeliberateError(
        "strategy_disabled",
        `strategy '${request.strategy}' is disabled on this server`,
      );
    }
    const strategy = buildStrategy(
      request.strategy,
      { formatName: request.format ?? deps.settings.defaultFormat, n: request.n },
      deps.tools,
    );
    const { maxTokens, maxCalls, deadlineMs } = request.budget ?? {};
    const capped = capBudget({ tokens: maxTokens, calls: maxCalls, deadlineMs }, deps.settings.budget);
    const plan = { budget: capped, choices: 1, strategyN: request.n };
    let calls: Budget;
    let tokens: TokenReservation;
    try {
      calls = boundCalls(plan, deps.settings.maxCallsPerRequest);
      tokens = await deps.keys.hold(deps.keys.byId(request.owner), tokensToHold(plan));
    } catch (error) {
      // The task fails with the code a chat completion would get (insufficient_quota, invalid_value).
      if (error instanceof ApiError) throw new DeliberateError(error.code, error.message);
      throw error;
    }
    const charged = (b: Backend) =>
      afterEachCall(b, (_call, result) => tokens.charge(totalTokens(result.usage)));
    const backend = charged(chain);
    const tiers = Object.fromEntries(
      Object.entries(tierBackends(deps.settings.tiers, deps.backends, modelName)).map(([tier, b]) => [
        tier,
        charged(b),
      ]),
    );
    const budget = withinReservation(calls, 1, tokens);
    // The runtime itself keeps a fallback's answers out of the cache: they are not the requested model's.
    const cache = deps.cache;
    const resolved = resolvedTask(request, { strategy, backend, budget, cache });
    return {
      ...resolved,
      runOptions: { ...resolved.runOptions, backends: tiers },
      release: () => tokens.settle(),
    };
  };
}
