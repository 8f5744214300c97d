import type { StrategyContext } from "../core/strategy.js";

/*
 * The vocabulary of tree search, split as in llm-reasoners: a task (world model) says what states and
 * moves are; a search config says how the model proposes and values moves; an algorithm (beam, DFS,
 * MCTS) decides which nodes to grow. Any algorithm runs over any task and config.
 */

/** The outcome of applying an action: the next state, or why the action is not a legal move. */
export type Transition<State> = { ok: true; state: State } | { ok: false; reason: string };

/** What an exact checker says about a state: solved or not, and the answer it stands for. */
export interface ExactVerdict {
  solved: boolean;
  answer: string | undefined;
}

/** The world model: states, legal moves and when the problem is finished. No model calls here. */
export interface SearchTask<State, Action = string> {
  readonly name: string;
  initial(input: string): State;
  isTerminal(state: State): boolean;
  /** The state after `action`; illegal actions (wrong arithmetic, unknown numbers) are refused. */
  apply(state: State, action: Action): Transition<State>;
  /** The state as text, for prompts and node events. */
  describe(state: State): string;
  /** States with one key are the same node, so siblings proposing one move twice are merged. */
  key?(state: State): string;
  /** An exact verdict where one exists (e.g. a finished Game of 24); undefined means "ask the model". */
  exactCheck?(state: State): ExactVerdict | undefined;
  /** The answer a state stands for: a terminal state's answer, or a best guess from a partial one. */
  answer(state: State): string | undefined;
}

/** One proposed move: the text the model wrote, and the action read from it (undefined: unreadable). */
export interface Proposal<Action = string> {
  thought: string;
  action: Action | undefined;
}

/** How the model drives the search: proposing moves and valuing states. */
export interface SearchConfig<State, Action = string> {
  /**
   * Next moves from `state`: about `k`. It may return more candidates (a reply listing many lines);
   * the search keeps the first `k` legal, new ones.
   */
  propose(ctx: StrategyContext, state: State, k: number): Promise<Proposal<Action>[]>;
  /** A value in [0, 1] per state, higher is more promising. */
  evaluate(ctx: StrategyContext, states: readonly State[]): Promise<number[]>;
}

export interface TreeStats {
  /** Nodes created, including pruned proposals. */
  nodes: number;
  /** Nodes whose children were proposed. */
  expanded: number;
  pruned: number;
  maxDepth: number;
  backtracks: number;
}

export interface SearchOutcome<State> {
  nodeId: string;
  state: State;
  score: number | undefined;
  terminal: boolean;
  /** Thoughts from the root down to this node. */
  path: string[];
}

export interface SearchResult<State> {
  /** An exact checker confirmed the answer. */
  solved: boolean;
  answer: string | undefined;
  /** The best terminal state reached, else the best partial one. */
  best: SearchOutcome<State> | undefined;
  stats: TreeStats;
  /** A limit stopped the search; `best` is the best so far. */
  budgetExhausted: boolean;
}

/** What every algorithm takes besides its own knobs. */
export interface SearchOptions {
  /** The problem, as given to `task.initial`. */
  input: string;
}

export type SearchAlgorithm<O extends SearchOptions = SearchOptions> = <State, Action>(
  ctx: StrategyContext,
  task: SearchTask<State, Action>,
  config: SearchConfig<State, Action>,
  options: O,
) => Promise<SearchResult<State>>;
