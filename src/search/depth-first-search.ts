import type { StrategyContext } from "../core/strategy.js";
import type { SearchConfig, SearchOptions, SearchResult, SearchTask } from "./search-spec.js";
import { byScoreDescending, isBudgetExhausted, type SearchNode, SearchTree } from "./search-tree.js";

export interface DepthFirstSearchOptions extends SearchOptions {
  /** Children valued below this are pruned, never entered. Default 0.3. */
  threshold?: number;
  /** Most levels below the root. Default 4. */
  depth?: number;
  /** Moves proposed per expanded state. Default 8. */
  proposals?: number;
  /** Stop growing the tree once it has this many nodes (pruned proposals included). Default 60. */
  maxNodes?: number;
}

/**
 * Depth-first search with value pruning, as in Tree of Thoughts' DFS: grow the most promising child
 * first, skip children valued below `threshold`, and back up to try the next sibling when a subtree
 * dead-ends. Stops at an exactly solved state, or at a finished state (no exact check) valued at
 * least `threshold`.
 */
export async function depthFirstSearch<State, Action>(
  ctx: StrategyContext,
  task: SearchTask<State, Action>,
  config: SearchConfig<State, Action>,
  options: DepthFirstSearchOptions,
): Promise<SearchResult<State>> {
  const threshold = options.threshold ?? 0.3;
  const depth = Math.max(1, options.depth ?? 4);
  const proposals = Math.max(1, options.proposals ?? 8);
  const maxNodes = Math.max(1, options.maxNodes ?? 60);
  const tree = new SearchTree(ctx, task, options.input);
  let accepted: SearchNode<State> | undefined;

  const accepts = (node: SearchNode<State>): boolean =>
    node.verdict?.solved === true ||
    (node.verdict === undefined && node.terminal && (node.score ?? 0) >= threshold);

  const visit = async (node: SearchNode<State>): Promise<boolean> => {
    if (node.terminal || node.depth >= depth || tree.stats.nodes >= maxNodes) return false;
    const children = await tree.expand(config, node, proposals);
    await tree.evaluate(config, children);
    const ranked = [...children].sort(byScoreDescending);
    const open: SearchNode<State>[] = [];
    for (const child of ranked) {
      if (accepts(child)) {
        accepted = child;
        tree.emit(child, "selected");
        return true;
      }
      if (child.verdict?.solved === false) tree.prune(child, "checked: not solved");
      else if ((child.score ?? 0) < threshold) tree.prune(child, "below threshold");
      else open.push(child);
    }
    for (const child of open) {
      if (child.terminal) continue;
      tree.emit(child, "selected");
      if (await visit(child)) return true;
      // Back to `node`: the subtree under `child` has nothing.
      tree.backtrack(child);
      if (tree.stats.nodes >= maxNodes) return false;
    }
    return false;
  };

  let budgetExhausted = false;
  try {
    tree.emit(tree.root, "selected");
    await visit(tree.root);
  } catch (error) {
    if (!isBudgetExhausted(error)) throw error;
    budgetExhausted = true;
  }
  return tree.result(budgetExhausted, accepted);
}
