import type { StrategyContext } from "../core/strategy.js";
import type { SearchConfig, SearchOptions, SearchResult, SearchTask } from "./search-spec.js";
import { isBudgetExhausted, type SearchNode, SearchTree } from "./search-tree.js";

export interface MonteCarloTreeSearchOptions extends SearchOptions {
  /** Selection–expansion–estimate–backup rounds. Default 16. */
  iterations?: number;
  /** UCT exploration constant c; values are in [0, 1]. Default 1. */
  exploration?: number;
  /** Moves proposed when a node is expanded. Default 4. */
  proposals?: number;
  /** Most levels below the root. Default 4. */
  depth?: number;
  /**
   * How a new leaf is valued: "value" asks the model for the leaf's value; "greedy" plays one proposed
   * move at a time from it to a finished state (at most `depth` moves) and values that state.
   */
  estimate?: "value" | "greedy";
  /** End the search as soon as a state is exactly solved. Default true. */
  stopOnSolved?: boolean;
}

/** Mean backed-up value of a node (0 before any visit). */
const meanValue = (node: Pick<SearchNode<unknown>, "visits" | "valueSum">): number =>
  node.visits === 0 ? 0 : node.valueSum / node.visits;

/** UCT (Kocsis and Szepesvári, 2006): mean value plus an exploration bonus; unvisited children first. */
export function uctScore(
  child: Pick<SearchNode<unknown>, "visits" | "valueSum">,
  parentVisits: number,
  exploration: number,
): number {
  if (child.visits === 0) return Number.POSITIVE_INFINITY;
  return meanValue(child) + exploration * Math.sqrt(Math.log(Math.max(1, parentVisits)) / child.visits);
}

/** The child UCT picks: the highest score, the earliest on ties (so unvisited children go in order). */
export function selectChild<N extends Pick<SearchNode<unknown>, "visits" | "valueSum">>(
  parent: { visits: number; children: readonly N[] },
  exploration: number,
): N | undefined {
  let best: N | undefined;
  let bestScore = Number.NEGATIVE_INFINITY;
  for (const child of parent.children) {
    const score = uctScore(child, parent.visits, exploration);
    if (score > bestScore) {
      best = child;
      bestScore = score;
    }
  }
  return best;
}

/** Adds one estimate to every node on the path, root included. */
export function backup(
  path: readonly Pick<SearchNode<unknown>, "visits" | "valueSum">[],
  value: number,
): void {
  for (const node of path) {
    node.visits += 1;
    node.valueSum += value;
  }
}

/**
 * Monte Carlo tree search with UCT (as in RAP, Hao et al. 2023): each iteration walks down by UCT to a
 * leaf, expands it with proposed moves, values its first new child (by the model's value, an exact
 * check, or a greedy rollout), and backs the value up to the root. The answer is the exactly solved
 * state if one was reached, else the best-valued finished state, else the end of the most-visited path.
 */
export async function monteCarloTreeSearch<State, Action>(
  ctx: StrategyContext,
  task: SearchTask<State, Action>,
  config: SearchConfig<State, Action>,
  options: MonteCarloTreeSearchOptions,
): Promise<SearchResult<State>> {
  const iterations = Math.max(1, options.iterations ?? 16);
  const exploration = options.exploration ?? 1;
  const proposals = Math.max(1, options.proposals ?? 4);
  const depth = Math.max(1, options.depth ?? 4);
  const stopOnSolved = options.stopOnSolved ?? true;
  const tree = new SearchTree(ctx, task, options.input);
  let rolloutSolution: { answer: string | undefined; path: string[]; state: State } | undefined;

  /** Plays the first legal proposal from `state` until a finished state, then values that. */
  const rollout = async (from: SearchNode<State>): Promise<number> => {
    let state = from.state;
    const path = tree.pathOf(from);
    for (let step = from.depth; step < depth && !task.isTerminal(state); step++) {
      let moved = false;
      for (const proposal of await config.propose(ctx, state, 1)) {
        if (proposal.action === undefined) continue;
        const next = task.apply(state, proposal.action);
        if (!next.ok) continue;
        state = next.state;
        path.push(proposal.thought);
        moved = true;
        break;
      }
      if (!moved) return 0;
    }
    const verdict = task.exactCheck?.(state);
    if (verdict?.solved) rolloutSolution ??= { answer: verdict.answer, path, state };
    if (verdict) return verdict.solved ? 1 : 0;
    return (await config.evaluate(ctx, [state]))[0] ?? 0;
  };

  const estimate = async (leaf: SearchNode<State>): Promise<number> => {
    // A state with no legal move left is worth nothing, and costs no call to find out.
    if (leaf.expanded && leaf.children.length === 0) return 0;
    if (leaf.verdict || leaf.terminal || options.estimate !== "greedy") {
      await tree.evaluate(config, [leaf]);
      return leaf.score ?? 0;
    }
    return rollout(leaf);
  };

  let budgetExhausted = false;
  try {
    for (let iteration = 0; iteration < iterations; iteration++) {
      const path = [tree.root];
      let node = tree.root;
      tree.emit(node, "selected");
      while (node.expanded && !node.terminal) {
        const child = selectChild(node, exploration);
        if (!child) break;
        node = child;
        path.push(node);
        tree.emit(node, "selected");
      }
      if (!node.expanded && !node.terminal && node.depth < depth) {
        const children = await tree.expand(config, node, proposals);
        if (children[0]) {
          node = children[0];
          path.push(node);
          tree.emit(node, "selected");
        }
      }
      const value = await estimate(node);
      backup(path, value);
      for (const visited of path) tree.emit(visited, "evaluated");
      if (stopOnSolved && (tree.solved() || rolloutSolution)) break;
    }
  } catch (error) {
    if (!isBudgetExhausted(error)) throw error;
    budgetExhausted = true;
  }

  if (!tree.solved() && rolloutSolution) {
    const result = tree.result(budgetExhausted);
    return {
      ...result,
      solved: true,
      answer: rolloutSolution.answer,
      best: {
        nodeId: "rollout",
        state: rolloutSolution.state,
        score: 1,
        terminal: true,
        path: rolloutSolution.path,
      },
    };
  }
  return tree.result(budgetExhausted, bestByVisits(tree.root, tree.nodes));
}

/** The best-valued finished state visited; failing that, the end of the most-visited path. */
function bestByVisits<State>(
  root: SearchNode<State>,
  nodes: readonly SearchNode<State>[],
): SearchNode<State> | undefined {
  const finished = nodes
    .filter((n) => n.terminal && n.visits > 0 && n.verdict?.solved !== false)
    .sort((a, b) => meanValue(b) - meanValue(a) || b.visits - a.visits)[0];
  if (finished) return finished;
  let node = root;
  for (;;) {
    const next = [...node.children].sort((a, b) => b.visits - a.visits)[0];
    if (!next || next.visits === 0) return node === root ? undefined : node;
    node = next;
  }
}
