import type { Backend, GenerateRequest, GenerateResult, GenerationParams } from "./backend.js";
import type { Budget, BudgetLimit } from "./budget.js";
import type { GenerationCache } from "./cache.js";
import type { DeliberateEventInput } from "./event.js";
import type { ChatMessage } from "./message.js";
import type { Usage } from "./usage.js";

/** Read-only view of what a task has spent and may still spend. */
export interface BudgetMeter {
  readonly budget: Budget;
  used(): Usage;
  /** The limit already reached, if any. */
  exhausted(): BudgetLimit | undefined;
  /** Tokens a next call may still generate, or undefined when unlimited. */
  remainingTokens(): number | undefined;
}

export interface StepOptions {
  kind: string;
  label?: string;
}

/** Everything a strategy may touch. Strategies get no other access to the world. */
export interface StrategyContext {
  readonly taskId: string;
  /** The default backend. */
  readonly backend: Backend;
  /** Named backends, e.g. a cheap router model beside the main one. */
  readonly backends: Readonly<Record<string, Backend>>;
  readonly budget: BudgetMeter;
  readonly cache: GenerationCache | undefined;
  readonly signal: AbortSignal;
  /** Emits an event on the task's stream, inside the current step if any. */
  emit(event: DeliberateEventInput): void;
  /**
   * Calls a backend through the runtime: budget checked and charged, cache consulted, tokens
   * streamed as events. Throws BudgetExhaustedError when a limit is already reached.
   */
  generate(
    request: GenerateRequest,
    options?: { backend?: string; step?: StepOptions },
  ): Promise<GenerateResult>;
  /** Runs `fn` as a named step: step.start / step.end events frame what it emits. */
  step<T>(options: StepOptions, fn: (ctx: StrategyContext) => Promise<T>): Promise<T>;
}

export interface StrategyInput {
  messages: ChatMessage[];
  params?: GenerationParams;
}

/**
 * Why a run has no answer. An empty answer always carries one of these, so no caller ever shows a
 * silent "" as if it were an answer.
 */
export type NoAnswerReason =
  /** A budget limit (tokens, calls, deadline) cut the run short before any answer was found. */
  | "budget_exhausted"
  /** Output was cut by the max-tokens limit before an answer was written. */
  | "truncated"
  /** The model wrote text, but no answer in the expected format could be extracted. */
  | "no_extractable_answer"
  /** A search (tree of thoughts, MCTS, Game of 24) finished without finding a solution. */
  | "unsolved"
  /** The model generated nothing. */
  | "empty_output";

export interface NoAnswer {
  reason: NoAnswerReason;
  /** One line for a person, e.g. "no answer: output was cut at max tokens (512)". */
  message: string;
}

export interface StrategyResult {
  /** The answer; "" only together with `noAnswer`. */
  answer: string;
  /** Set when `answer` is empty: why. A strategy may set it; the runtime fills it in otherwise. */
  noAnswer?: NoAnswer;
  /** Name of the strategy that produced the answer. */
  strategy: string;
  /** True when a limit cut the strategy short and `answer` is its best so far. */
  budgetExhausted: boolean;
  /** Strategy-specific details (samples, tallies, scores), JSON-serialisable. */
  details?: Record<string, unknown>;
}

/** A strategy is an async function of (context, input) to result. Compose them as functions. */
export type Strategy<I = StrategyInput, O extends StrategyResult = StrategyResult> = (
  ctx: StrategyContext,
  input: I,
) => Promise<O>;
