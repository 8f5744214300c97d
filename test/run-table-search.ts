import { createScriptedBackend } from "../src/backends/scripted/scripted-backend.js";
import type { Budget } from "../src/core/budget.js";
import type { DeliberateEvent, NodeEvent } from "../src/core/event.js";
import { userMessage } from "../src/core/message.js";
import { runStrategy } from "../src/runtime/task-context.js";
import type { SearchAlgorithm, SearchOptions, SearchResult } from "../src/search/search-spec.js";
import { type TableNode, tableSearch } from "../src/search/table-search.js";

/**
 * Runs `algorithm` over a table-defined tree (from state "root") in a task of its own, and returns its
 * result with the `node` events it emitted. `exact` (default true) gives finished states their
 * table verdicts; `budget` limits the task.
 */
export async function runTableSearch<O extends SearchOptions>(
  algorithm: SearchAlgorithm<O>,
  table: Record<string, TableNode>,
  options: Omit<O, "input">,
  { budget, exact = true }: { budget?: Budget | undefined; exact?: boolean } = {},
): Promise<{ result: SearchResult<string>; nodes: NodeEvent[] }> {
  const { task, config } = tableSearch(table, { exact });
  const events: DeliberateEvent[] = [];
  let result: SearchResult<string> | undefined;
  await runStrategy(
    async (ctx) => {
      result = await algorithm(ctx, task, config, { input: "root", ...options } as O);
      return {
        answer: result.answer ?? "",
        strategy: algorithm.name,
        budgetExhausted: result.budgetExhausted,
      };
    },
    { messages: [userMessage("root")] },
    { backend: createScriptedBackend(), onEvent: (e) => events.push(e), ...(budget && { budget }) },
  );
  return {
    result: result as SearchResult<string>,
    nodes: events.filter((e): e is NodeEvent => e.type === "node"),
  };
}
