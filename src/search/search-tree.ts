import { BudgetExhaustedError } from "../core/errors.js";
import type { NodeStatus } from "../core/event.js";
import type { StrategyContext } from "../core/strategy.js";
import type {
  ExactVerdict,
  SearchConfig,
  SearchOutcome,
  SearchResult,
  SearchTask,
  TreeStats,
} from "./search-spec.js";

export interface SearchNode<State> {
  readonly id: string;
  readonly parent: SearchNode<State> | undefined;
  readonly depth: number;
  readonly thought: string;
  readonly state: State;
  readonly terminal: boolean;
  /** The exact checker's verdict, when the task has one for this state. */
  readonly verdict: ExactVerdict | undefined;
  /** Value from the model or the exact checker, once evaluated. */
  score: number | undefined;
  children: SearchNode<State>[];
  expanded: boolean;
  /** MCTS statistics. */
  visits: number;
  valueSum: number;
}

export const isBudgetExhausted = (error: unknown): error is BudgetExhaustedError =>
  error instanceof BudgetExhaustedError;

/** Sort order of nodes by value, best first; a node not yet valued ranks as 0. */
export const byScoreDescending = (a: SearchNode<unknown>, b: SearchNode<unknown>): number =>
  (b.score ?? 0) - (a.score ?? 0);

/**
 * The tree one search grows: it creates nodes, keeps the statistics and emits a `node` event whenever a
 * node changes, so every algorithm reports the same way.
 */
export class SearchTree<State, Action = string> {
  readonly stats: TreeStats = { nodes: 0, expanded: 0, pruned: 0, maxDepth: 0, backtracks: 0 };
  readonly nodes: SearchNode<State>[] = [];
  readonly root: SearchNode<State>;

  constructor(
    private readonly ctx: StrategyContext,
    readonly task: SearchTask<State, Action>,
    input: string,
  ) {
    this.root = this.add(undefined, "", task.initial(input));
  }

  private add(parent: SearchNode<State> | undefined, thought: string, state: State): SearchNode<State> {
    const node: SearchNode<State> = {
      id: `n${this.stats.nodes++}`,
      parent,
      depth: parent ? parent.depth + 1 : 0,
      thought,
      state,
      terminal: this.task.isTerminal(state),
      verdict: this.task.exactCheck?.(state),
      score: undefined,
      children: [],
      expanded: false,
      visits: 0,
      valueSum: 0,
    };
    this.nodes.push(node);
    parent?.children.push(node);
    this.stats.maxDepth = Math.max(this.stats.maxDepth, node.depth);
    this.emit(node, "proposed");
    return node;
  }

  emit(node: SearchNode<State>, status: NodeStatus, reason?: string): void {
    this.ctx.emit({
      type: "node",
      nodeId: node.id,
      ...(node.parent && { parentId: node.parent.id }),
      depth: node.depth,
      thought: node.thought,
      state: this.task.describe(node.state),
      ...(node.score !== undefined && { score: node.score }),
      status,
      ...(node.visits > 0 && { visits: node.visits, value: node.valueSum / node.visits }),
      ...(reason !== undefined && { reason }),
    });
  }

  /** A proposal that could not be read or is not a legal move: a pruned leaf with no state. */
  private refuse(parent: SearchNode<State>, thought: string, reason: string): void {
    const id = `n${this.stats.nodes++}`;
    this.stats.pruned++;
    this.stats.maxDepth = Math.max(this.stats.maxDepth, parent.depth + 1);
    this.ctx.emit({
      type: "node",
      nodeId: id,
      parentId: parent.id,
      depth: parent.depth + 1,
      thought,
      status: "pruned",
      reason,
    });
  }

  prune(node: SearchNode<State>, reason?: string): void {
    this.stats.pruned++;
    this.emit(node, "pruned", reason);
  }

  backtrack(node: SearchNode<State>): void {
    this.stats.backtracks++;
    this.emit(node, "backtrack");
  }

  /** Identity of a state: equal keys are the same node. */
  keyOf(state: State): string {
    return this.task.key?.(state) ?? this.task.describe(state);
  }

  /**
   * Proposes children of `node` and adds the first `k` legal, new ones. Unreadable or illegal proposals
   * and repeats of a sibling become pruned nodes.
   */
  async expand(
    config: SearchConfig<State, Action>,
    node: SearchNode<State>,
    k: number,
  ): Promise<SearchNode<State>[]> {
    const proposals = await config.propose(this.ctx, node.state, k);
    node.expanded = true;
    this.stats.expanded++;
    const seen = new Set(node.children.map((c) => this.keyOf(c.state)));
    const added: SearchNode<State>[] = [];
    for (const proposal of proposals) {
      if (added.length >= k) break;
      if (proposal.action === undefined) {
        this.refuse(node, proposal.thought, "not a readable step");
        continue;
      }
      const next = this.task.apply(node.state, proposal.action);
      if (!next.ok) {
        this.refuse(node, proposal.thought, next.reason);
        continue;
      }
      const id = this.keyOf(next.state);
      if (seen.has(id)) {
        this.refuse(node, proposal.thought, "same as a sibling");
        continue;
      }
      seen.add(id);
      added.push(this.add(node, proposal.thought, next.state));
    }
    return added;
  }

  /**
   * Scores nodes not yet scored: exactly where the task can check the state, else by the model in one
   * batch. Emits `evaluated`, and `solved` or `terminal` for finished states.
   */
  async evaluate(config: SearchConfig<State, Action>, nodes: readonly SearchNode<State>[]): Promise<void> {
    const pending = nodes.filter((n) => n.score === undefined);
    const byModel = pending.filter((n) => n.verdict === undefined);
    for (const node of pending) if (node.verdict) node.score = node.verdict.solved ? 1 : 0;
    if (byModel.length > 0) {
      const scores = await config.evaluate(
        this.ctx,
        byModel.map((n) => n.state),
      );
      byModel.forEach((node, i) => {
        node.score = scores[i] ?? 0;
      });
    }
    for (const node of pending) {
      this.emit(node, "evaluated");
      if (node.verdict?.solved) this.emit(node, "solved");
      else if (node.terminal) this.emit(node, "terminal");
    }
  }

  pathOf(node: SearchNode<State>): string[] {
    const path: string[] = [];
    for (let at: SearchNode<State> | undefined = node; at?.parent; at = at.parent) path.unshift(at.thought);
    return path;
  }

  outcome(node: SearchNode<State>): SearchOutcome<State> {
    return {
      nodeId: node.id,
      state: node.state,
      score: node.score,
      terminal: node.terminal,
      path: this.pathOf(node),
    };
  }

  /** The first solved node, in creation order. */
  solved(): SearchNode<State> | undefined {
    return this.nodes.find((n) => n.verdict?.solved);
  }

  /**
   * The result of the search: a solved state if any; else the preferred node (an algorithm's own pick);
   * else the best-scored terminal state, else the best-scored partial one (deeper wins ties).
   */
  result(budgetExhausted: boolean, preferred?: SearchNode<State>): SearchResult<State> {
    const solved = this.solved();
    const bestScored = (candidates: SearchNode<State>[]): SearchNode<State> | undefined =>
      candidates
        .filter((n) => n.score !== undefined && n.verdict?.solved !== false)
        .sort((a, b) => byScoreDescending(a, b) || b.depth - a.depth)[0];
    const best =
      solved ??
      preferred ??
      bestScored(this.nodes.filter((n) => n.terminal)) ??
      bestScored(this.nodes.filter((n) => n !== this.root)) ??
      this.root;
    const answer = best.verdict?.answer ?? this.task.answer(best.state);
    return {
      solved: solved !== undefined,
      answer,
      best: this.outcome(best),
      stats: { ...this.stats },
      budgetExhausted,
    };
  }
}
