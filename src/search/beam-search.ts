import type { StrategyContext } from "../core/strategy.js";
import type { SearchConfig, SearchOptions, SearchResult, SearchTask } from "./search-spec.js";
import { byScoreDescending, isBudgetExhausted, type SearchNode, SearchTree } from "./search-tree.js";

export interface BeamSearchOptions extends SearchOptions {
  /** States kept per level (b); 1 is greedy search. Default 5. */
  breadth?: number;
  /** Most levels below the root. Default 4. */
  depth?: number;
  /** Moves proposed per kept state. Default 8. */
  proposals?: number;
}

/**
 * Breadth-first beam search, as in Tree of Thoughts' BFS: every kept state proposes moves, all new
 * states are valued, and the best `breadth` of them go on to the next level. Stops once a state is
 * exactly solved, when no state is left to grow, or at `depth`.
 */
export async function beamSearch<State, Action>(
  ctx: StrategyContext,
  task: SearchTask<State, Action>,
  config: SearchConfig<State, Action>,
  options: BeamSearchOptions,
): Promise<SearchResult<State>> {
  const breadth = Math.max(1, options.breadth ?? 5);
  const depth = Math.max(1, options.depth ?? 4);
  const proposals = Math.max(1, options.proposals ?? 8);
  const tree = new SearchTree(ctx, task, options.input);
  tree.emit(tree.root, "selected");
  let frontier: SearchNode<State>[] = tree.root.terminal ? [] : [tree.root];
  let budgetExhausted = false;
  // The answer comes from the beam: its best finished state, else the best state of its last level.
  const finished: SearchNode<State>[] = [];
  let lastKept: SearchNode<State>[] = [];

  try {
    for (let level = 1; level <= depth && frontier.length > 0; level++) {
      // The kept states grow together, so the backend can batch their proposals.
      const outcomes = await Promise.allSettled(frontier.map((node) => tree.expand(config, node, proposals)));
      const children: SearchNode<State>[] = [];
      // One state reached from two parents takes one place in the beam, as in ToT.
      const onLevel = new Set<string>();
      for (const outcome of outcomes) {
        if (outcome.status === "rejected") {
          if (!isBudgetExhausted(outcome.reason)) throw outcome.reason;
          budgetExhausted = true;
          continue;
        }
        for (const child of outcome.value) {
          const key = tree.keyOf(child.state);
          if (onLevel.has(key)) {
            tree.prune(child, "same as another state on this level");
          } else {
            onLevel.add(key);
            children.push(child);
          }
        }
      }
      if (budgetExhausted) break;
      await tree.evaluate(config, children);
      if (tree.solved()) break;

      const ranked: SearchNode<State>[] = [];
      for (const child of children) {
        // A finished state the checker rejected is a dead end, whatever it would rank.
        if (child.verdict?.solved === false) tree.prune(child, "checked: not solved");
        else ranked.push(child);
      }
      ranked.sort(byScoreDescending);
      const kept = ranked.slice(0, breadth);
      for (const node of ranked.slice(breadth)) tree.prune(node, "outside the beam");
      for (const node of kept) tree.emit(node, "selected");
      // Finished states stay candidates for the answer but grow no further.
      finished.push(...kept.filter((n) => n.terminal));
      frontier = kept.filter((n) => !n.terminal);
      if (kept.length > 0) lastKept = kept;
    }
  } catch (error) {
    if (!isBudgetExhausted(error)) throw error;
    budgetExhausted = true;
  }
  const best = (nodes: SearchNode<State>[]) => [...nodes].sort(byScoreDescending)[0];
  return tree.result(budgetExhausted, best(finished) ?? best(lastKept));
}
