import { answerFormatByName } from "../answers/index.js";
import type { Backend } from "../core/backend.js";
import type { Budget } from "../core/budget.js";
import type { GenerationCache } from "../core/cache.js";
import type { Strategy, StrategyInput } from "../core/strategy.js";
import type { RunOptions } from "../runtime/task-context.js";
import { createStrategy } from "../strategies/catalog.js";
import type { TaskRequest } from "./task-request.js";

/** A request made runnable. The manager adds task id, abort signal and event listener itself. */
export interface ResolvedTask {
  strategy: Strategy;
  input: StrategyInput;
  runOptions: Omit<RunOptions, "taskId" | "signal" | "onEvent">;
  /** Gives back what was held for the run (e.g. tokens of an API key's budget); called once it ends. */
  release?: () => void;
}

export type TaskResolver = (request: TaskRequest) => ResolvedTask | Promise<ResolvedTask>;

export interface TaskResolverOptions {
  /** The backend for a request's model (undefined: the default). May load it; should reuse loaded ones. */
  backend: (model: string | undefined) => Backend | Promise<Backend>;
  /** Shared by every task, so a re-run of a deterministic request replays its calls for free. */
  cache?: GenerationCache;
}

/**
 * `request` made runnable with what a resolver chose for it. Every resolver builds its task here, so
 * they agree on what a request means: its messages and params are the input, its strategy name names
 * the run, and `cache` is used unless the request opts out (`cache: false`).
 */
export function resolvedTask(
  request: TaskRequest,
  chosen: {
    strategy: Strategy;
    backend: Backend;
    budget: Budget | undefined;
    cache: GenerationCache | undefined;
  },
): ResolvedTask {
  return {
    strategy: chosen.strategy,
    input: { messages: request.messages, ...(request.params !== undefined && { params: request.params }) },
    runOptions: {
      backend: chosen.backend,
      strategyName: request.strategy,
      ...(request.owner !== undefined && { owner: request.owner }),
      ...(chosen.budget !== undefined && { budget: chosen.budget }),
      ...(chosen.cache !== undefined && request.cache !== false && { cache: chosen.cache }),
    },
  };
}

/** The usual resolver: strategies from the catalogue by name, backends from the caller's lookup. */
export function createTaskResolver(options: TaskResolverOptions): TaskResolver {
  return async (request) => {
    const strategy = createStrategy({
      name: request.strategy,
      ...(request.n !== undefined && { n: request.n }),
      ...(request.format !== undefined && { format: answerFormatByName(request.format) }),
    });
    const backend = await options.backend(request.model);
    return resolvedTask(request, { strategy, backend, budget: request.budget, cache: options.cache });
  };
}
