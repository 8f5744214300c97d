import type { BackendIncident, FinishReason, ServedBy } from "./backend.js";
import type { Budget, BudgetLimit } from "./budget.js";
import type { NoAnswer } from "./strategy.js";
import type { Usage } from "./usage.js";

/**
 * Everything a strategy does is one of these. One stream feeds the CLI progress view, SSE,
 * the trace store and the web UI, so strategies never print.
 */
export type DeliberateEvent =
  | TaskStartEvent
  | TaskEndEvent
  | StepStartEvent
  | StepEndEvent
  | TokenEvent
  | SampleEvent
  | ScoreEvent
  | VoteEvent
  | ToolCallEvent
  | ToolResultEvent
  | NodeEvent
  | BudgetEvent
  | IncidentEvent
  | ServedEvent
  | RouteEvent
  | ErrorEvent;

export type DeliberateEventType = DeliberateEvent["type"];

interface EventBase {
  taskId: string;
  /** Milliseconds since the Unix epoch. */
  time: number;
  /** Position in the task's stream, from 0; assigned by the event bus. */
  seq: number;
  /** The step this event belongs to, when inside one. */
  stepId?: string;
}

export interface TaskStartEvent extends EventBase {
  type: "task.start";
  strategy: string;
  input: string;
  model: string;
  /** Id of the API key that started the run (not secret), when the server has keys; who may view it. */
  owner?: string;
  /** The run's limits, when it has any: what the viewer's budget gauges fill towards. */
  budget?: Budget;
}

export interface TaskEndEvent extends EventBase {
  type: "task.end";
  answer: string;
  usage: Usage;
  budgetExhausted: boolean;
  /** Set when `answer` is empty: why (see NoAnswer). */
  noAnswer?: NoAnswer;
}

export interface StepStartEvent extends EventBase {
  type: "step.start";
  stepId: string;
  parentStepId?: string;
  /** What the step is, e.g. "generate", "sample", "verify", "expand". */
  kind: string;
  label?: string;
}

export interface StepEndEvent extends EventBase {
  type: "step.end";
  stepId: string;
  usage: Usage;
  cached?: boolean;
}

/** Streamed text of completion `index` in the current step. */
export interface TokenEvent extends EventBase {
  type: "token";
  index: number;
  text: string;
}

export interface SampleEvent extends EventBase {
  type: "sample";
  index: number;
  text: string;
  answer?: string;
  finishReason: FinishReason;
  completionTokens: number;
  /** Mean per-token confidence, when the backend reports it. */
  confidence?: number;
}

export interface ScoreEvent extends EventBase {
  type: "score";
  target: string;
  score: number;
  verifier: string;
  rationale?: string;
}

export interface VoteEvent extends EventBase {
  type: "vote";
  /** Answer → weight. */
  tally: Record<string, number>;
  leader?: string;
  /** True when voting stopped because the leader is settled. */
  decided: boolean;
}

export interface ToolCallEvent extends EventBase {
  type: "tool.call";
  callId: string;
  tool: string;
  input: unknown;
}

export interface ToolResultEvent extends EventBase {
  type: "tool.result";
  callId: string;
  tool: string;
  output: unknown;
  isError: boolean;
}

/** What happened to a search-tree node; one node gets several events over its life. */
export type NodeStatus =
  | "proposed"
  | "evaluated"
  | "selected"
  | "pruned"
  | "terminal"
  | "solved"
  | "backtrack";

/** A node of a tree search (tree of thoughts, MCTS), emitted as it changes so a client can draw the tree. */
export interface NodeEvent extends EventBase {
  type: "node";
  nodeId: string;
  parentId?: string;
  depth: number;
  /** The move that led here, as the model wrote it. */
  thought: string;
  /** The state reached, as text. */
  state?: string;
  score?: number;
  status: NodeStatus;
  /** MCTS: times the node was visited, and its mean backed-up value. */
  visits?: number;
  value?: number;
  /** Why the node was pruned. */
  reason?: string;
}

export interface BudgetEvent extends EventBase {
  type: "budget";
  used: Usage;
  /** Set once a limit is reached. */
  exhausted?: BudgetLimit;
}

/** A model call was retried or handed to a fallback model by the reliability layer. */
export interface IncidentEvent extends EventBase {
  type: "incident";
  incident: BackendIncident;
}

/** A model call was answered by `backend` of a reliability layer (a fallback's, when `fallback`). */
export interface ServedEvent extends EventBase, ServedBy {
  type: "served";
}

/**
 * A routing decision of `auto`: what the probe looked like, what each action was predicted to give
 * (P(correct) of the answer it would end with), what was chosen, and why.
 */
export interface RouteEvent extends EventBase {
  type: "route";
  /** The probe's features, by name (see src/strategies/auto/probe-features.ts). */
  features: Record<string, number>;
  /** Predicted P(correct) per action, for the actions the router can score now. */
  predictions: Record<string, number>;
  /** The action taken: "accept" ends the run; others spend more compute. */
  choice: string;
  reason: string;
}

export interface ErrorEvent extends EventBase {
  type: "error";
  message: string;
  code: string;
  /** Whether the strategy carried on after it. */
  recovered: boolean;
}

/** An event before the bus stamps it. */
export type DeliberateEventInput = DeliberateEvent extends infer E
  ? E extends DeliberateEvent
    ? Omit<E, "taskId" | "time" | "seq">
    : never
  : never;
