import type { AnswerFormat } from "../answers/answer-format.js";
import type { NoAnswer, StrategyContext } from "../core/strategy.js";
import { parseGame24Question } from "./game24-puzzle.js";
import { type Game24SearchOptions, game24SearchConfig, game24Task } from "./game24-task.js";
import { gsm8kStepSearchConfig, gsm8kStepTask } from "./gsm8k-step-task.js";
import type { SearchAlgorithm, SearchConfig, SearchOptions, SearchTask, TreeStats } from "./search-spec.js";

/** The built-in search problems. */
export type SearchTaskName = "game24" | "gsm8k-step";

/** Per-task defaults: Game of 24 is three moves, each a single call listing many; math takes more, smaller steps. */
export const TASK_DEFAULTS: Readonly<Record<SearchTaskName, { depth: number; proposals: number }>> = {
  game24: { depth: 3, proposals: 8 },
  "gsm8k-step": { depth: 6, proposals: 3 },
};

/** Game of 24 when the format says so or the question is a 24 puzzle; step-wise math otherwise. */
export function chooseSearchTask(question: string, format?: AnswerFormat): SearchTaskName {
  return format?.name === "game24" || parseGame24Question(question) !== undefined ? "game24" : "gsm8k-step";
}

/** What a search ended with, as plain JSON for a strategy's details. */
// A type alias, not an interface, so it fits `StrategyResult.details` (a string-keyed record).
export type SearchSummary = {
  task: SearchTaskName;
  solved: boolean;
  answer: string | undefined;
  /** Thoughts from the root to the chosen state. */
  path: string[];
  /** The chosen state, described. */
  finalState: string | undefined;
  score: number | undefined;
  stats: TreeStats;
  budgetExhausted: boolean;
};

async function run<State, O extends SearchOptions>(
  ctx: StrategyContext,
  name: SearchTaskName,
  task: SearchTask<State>,
  config: SearchConfig<State>,
  algorithm: SearchAlgorithm<O>,
  options: O,
): Promise<SearchSummary> {
  const result = await algorithm(ctx, task, config, options);
  return {
    task: name,
    solved: result.solved,
    answer: result.answer,
    path: result.best?.path ?? [],
    finalState: result.best ? task.describe(result.best.state) : undefined,
    score: result.best?.score,
    stats: result.stats,
    budgetExhausted: result.budgetExhausted,
  };
}

/**
 * Why a search gave no answer, or undefined when it gave one. A budget cut is left to the runtime,
 * which names the limit; otherwise the search ran its course and found nothing.
 */
export function searchNoAnswer(summary: SearchSummary): NoAnswer | undefined {
  if (summary.answer?.trim() || summary.budgetExhausted) return undefined;
  const what = summary.task === "game24" ? "no way to make 24" : "no finished solution";
  return {
    reason: "unsolved",
    message: `no answer: the search found ${what} (${summary.stats.nodes} nodes, depth ${summary.stats.maxDepth})`,
  };
}

/** Runs `algorithm` over a built-in task with its model-driven config. */
export function runSearchTask<O extends SearchOptions>(
  ctx: StrategyContext,
  name: SearchTaskName,
  algorithm: SearchAlgorithm<O>,
  options: O,
  model: Game24SearchOptions,
): Promise<SearchSummary> {
  return name === "game24"
    ? run(ctx, name, game24Task, game24SearchConfig(model), algorithm, options)
    : run(ctx, name, gsm8kStepTask, gsm8kStepSearchConfig(model), algorithm, options);
}
