import type { AnswerFormat } from "../answers/answer-format.js";
import { lastUserText } from "../core/message.js";
import type { Strategy, StrategyInput, StrategyResult } from "../core/strategy.js";
import { beamSearch } from "../search/beam-search.js";
import { depthFirstSearch } from "../search/depth-first-search.js";
import { modelSearchOptionsOf } from "../search/model-search-options.js";
import {
  chooseSearchTask,
  runSearchTask,
  type SearchSummary,
  type SearchTaskName,
  searchNoAnswer,
  TASK_DEFAULTS,
} from "../search/search-tasks.js";

export interface TreeOfThoughtsOptions {
  /** The task's answer format; "game24" picks the Game of 24 task whatever the question looks like. */
  format?: AnswerFormat;
  /** Breadth-first beam search (ToT-BFS) or depth-first search with pruning (ToT-DFS). Default "beam". */
  algorithm?: "beam" | "dfs";
  /** Beam: states kept per level (b). Default 5. */
  breadth?: number;
  /** Most moves from the start; default per task (3 for Game of 24, 6 for math). */
  depth?: number;
  /** Moves proposed per state; default per task. */
  proposals?: number;
  /** DFS: children valued below this are pruned. Default 0.3: "impossible" and unlabelled ones are. */
  threshold?: number;
  /** DFS: most nodes in the tree. Default 60. */
  maxNodes?: number;
  /** Judgements averaged per state value. Default 1. */
  valueSamples?: number;
  /** Force a task instead of choosing by question and format. */
  task?: SearchTaskName;
  /** Game of 24: do the last step's arithmetic exactly (see game24SearchConfig). Default true. */
  exactLastStep?: boolean;
}

export interface TreeOfThoughtsResult extends StrategyResult {
  details: SearchSummary & { algorithm: "beam" | "dfs" };
}

/**
 * Tree of Thoughts (Yao et al., 2023): the model proposes next steps, an exact check refuses illegal
 * ones, the model values the states they reach (sure / likely / impossible), and a search (beam or DFS)
 * keeps the promising ones. Game of 24 puzzles are searched as numbers left; other questions as
 * step-wise math. Every node is a `node` event.
 */
export function treeOfThoughts(
  options: TreeOfThoughtsOptions = {},
): Strategy<StrategyInput, TreeOfThoughtsResult> {
  const algorithm = options.algorithm ?? "beam";
  return async (ctx, input) => {
    const question = lastUserText(input.messages);
    const task = options.task ?? chooseSearchTask(question, options.format);
    const depth = options.depth ?? TASK_DEFAULTS[task].depth;
    const proposals = options.proposals ?? TASK_DEFAULTS[task].proposals;
    const model = {
      ...modelSearchOptionsOf(input.params),
      ...(options.valueSamples !== undefined && { valueSamples: options.valueSamples }),
      ...(options.exactLastStep !== undefined && { exactLastStep: options.exactLastStep }),
    };
    const summary =
      algorithm === "dfs"
        ? await runSearchTask(
            ctx,
            task,
            depthFirstSearch,
            {
              input: question,
              depth,
              proposals,
              ...(options.threshold !== undefined && { threshold: options.threshold }),
              ...(options.maxNodes !== undefined && { maxNodes: options.maxNodes }),
            },
            model,
          )
        : await runSearchTask(
            ctx,
            task,
            beamSearch,
            { input: question, depth, proposals, breadth: options.breadth ?? 5 },
            model,
          );
    const noAnswer = searchNoAnswer(summary);
    return {
      answer: summary.answer ?? "",
      ...(noAnswer && { noAnswer }),
      strategy: algorithm === "dfs" ? "tot-dfs" : "tot",
      budgetExhausted: summary.budgetExhausted,
      details: { ...summary, algorithm },
    };
  };
}
