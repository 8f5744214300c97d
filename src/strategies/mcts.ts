import type { AnswerFormat } from "../answers/answer-format.js";
import { lastUserText } from "../core/message.js";
import type { Strategy, StrategyInput, StrategyResult } from "../core/strategy.js";
import { modelSearchOptionsOf } from "../search/model-search-options.js";
import { monteCarloTreeSearch } from "../search/monte-carlo-tree-search.js";
import {
  chooseSearchTask,
  runSearchTask,
  type SearchSummary,
  type SearchTaskName,
  searchNoAnswer,
  TASK_DEFAULTS,
} from "../search/search-tasks.js";

export interface MctsOptions {
  /** The task's answer format; "game24" picks the Game of 24 task whatever the question looks like. */
  format?: AnswerFormat;
  /** Selection–expansion–estimate–backup rounds. Default 16. */
  iterations?: number;
  /** UCT exploration constant. Default 1. */
  exploration?: number;
  /** Moves proposed per expansion; default per task. */
  proposals?: number;
  /** Most moves from the start; default per task. */
  depth?: number;
  /** How a new leaf is valued: the model's value judgement, or a greedy rollout to the end. Default "value". */
  estimate?: "value" | "greedy";
  /** Force a task instead of choosing by question and format. */
  task?: SearchTaskName;
}

export interface MctsResult extends StrategyResult {
  details: SearchSummary & { iterations: number };
}

/**
 * Monte Carlo tree search over reasoning steps (after RAP, Hao et al., 2023): UCT selection, expansion
 * with proposed steps, a value estimate (model judgement, exact check or greedy rollout) and backup.
 * Game of 24 puzzles are searched as numbers left; other questions as step-wise math.
 */
export function mcts(options: MctsOptions = {}): Strategy<StrategyInput, MctsResult> {
  const iterations = Math.max(1, options.iterations ?? 16);
  return async (ctx, input) => {
    const question = lastUserText(input.messages);
    const task = options.task ?? chooseSearchTask(question, options.format);
    const summary = await runSearchTask(
      ctx,
      task,
      monteCarloTreeSearch,
      {
        input: question,
        iterations,
        depth: options.depth ?? TASK_DEFAULTS[task].depth,
        // Fewer children than beam search: UCT tries every child once before going deeper under any.
        proposals: options.proposals ?? Math.min(4, TASK_DEFAULTS[task].proposals),
        ...(options.exploration !== undefined && { exploration: options.exploration }),
        ...(options.estimate !== undefined && { estimate: options.estimate }),
      },
      modelSearchOptionsOf(input.params),
    );
    const noAnswer = searchNoAnswer(summary);
    return {
      answer: summary.answer ?? "",
      ...(noAnswer && { noAnswer }),
      strategy: "mcts",
      budgetExhausted: summary.budgetExhausted,
      details: { ...summary, iterations },
    };
  };
}
