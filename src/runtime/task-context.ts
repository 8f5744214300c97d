import { randomUUID } from "node:crypto";
import type { Backend, GenerateRequest, GenerateResult } from "../core/backend.js";
import type { Budget } from "../core/budget.js";
import type { GenerationCache } from "../core/cache.js";
import { AbortedError, BudgetExhaustedError, errorCode, errorMessage, UsageError } from "../core/errors.js";
import type { DeliberateEventInput } from "../core/event.js";
import { lastUserText } from "../core/message.js";
import type {
  StepOptions,
  Strategy,
  StrategyContext,
  StrategyInput,
  StrategyResult,
} from "../core/strategy.js";
import { addUsage, emptyUsage, type Usage } from "../core/usage.js";
import { TaskBudgetMeter } from "./budget-meter.js";
import { generationCacheKey } from "./cache-key.js";
import { EventBus, type EventListener } from "./event-bus.js";
import { type CallLog, emptyCallLog, explainNoAnswer, recordCall } from "./no-answer.js";

export interface RunOptions {
  backend: Backend;
  /** Extra named backends a strategy may address, e.g. `{ router: smallModel }`. */
  backends?: Record<string, Backend>;
  budget?: Budget;
  cache?: GenerationCache;
  signal?: AbortSignal;
  taskId?: string;
  /** Name recorded in events and the result; defaults to the function's name. */
  strategyName?: string;
  /** Recorded on task.start: the API key id that started the run, so its trace is shown only to it. */
  owner?: string;
  onEvent?: EventListener;
}

export interface TaskResult extends StrategyResult {
  usage: Usage;
  /** Id under which the task's events are traced. */
  traceId: string;
}

/**
 * `task_` + the creation time (ms, hex) + 8 random hex digits. Ids that grow with time keep trace
 * inserts at the end of the store's indexes, which costs under half of what random ids cost.
 */
export const newTaskId = (): string =>
  `task_${Date.now().toString(16).padStart(12, "0")}${randomUUID().replaceAll("-", "").slice(0, 8)}`;

/** A request is replayable from cache only if it is deterministic: greedy, or sampled with a fixed seed. */
const isDeterministic = (request: GenerateRequest): boolean =>
  request.temperature === 0 || request.seed !== undefined;

interface StepFrame {
  stepId: string | undefined;
  /** Usage accumulators of this step and its ancestors: a charge adds to each. */
  accumulators: Usage[];
}

/**
 * The one signal a call listens to. AbortSignal.any is costly on Node 20 (weak refs and listeners per
 * call), so it is used only when there really are several distinct signals.
 */
function combinedSignal(...signals: (AbortSignal | undefined)[]): AbortSignal {
  const distinct = [...new Set(signals.filter((s): s is AbortSignal => s !== undefined))];
  return distinct.length === 1 ? (distinct[0] as AbortSignal) : AbortSignal.any(distinct);
}

class RuntimeContext implements StrategyContext {
  constructor(
    readonly taskId: string,
    readonly backend: Backend,
    readonly backends: Readonly<Record<string, Backend>>,
    readonly budget: TaskBudgetMeter,
    readonly cache: GenerationCache | undefined,
    readonly signal: AbortSignal,
    private readonly bus: EventBus,
    private readonly frame: StepFrame,
    private readonly nextStepId: () => string,
    /** Shared by the task's contexts: what the calls produced, to explain an empty answer. */
    private readonly calls: CallLog,
  ) {}

  emit(event: DeliberateEventInput): void {
    const stepId = (event as { stepId?: string }).stepId ?? this.frame.stepId;
    this.bus.emit(stepId === undefined ? event : ({ ...event, stepId } as DeliberateEventInput));
  }

  private child(stepId: string, accumulator: Usage[]): RuntimeContext {
    return new RuntimeContext(
      this.taskId,
      this.backend,
      this.backends,
      this.budget,
      this.cache,
      this.signal,
      this.bus,
      { stepId, accumulators: accumulator },
      this.nextStepId,
      this.calls,
    );
  }

  async step<T>(options: StepOptions, fn: (ctx: StrategyContext) => Promise<T>): Promise<T> {
    const stepId = this.nextStepId();
    const own = emptyUsage();
    const started = Date.now();
    this.bus.emit({
      type: "step.start",
      stepId,
      kind: options.kind,
      ...(options.label !== undefined && { label: options.label }),
      ...(this.frame.stepId !== undefined && { parentStepId: this.frame.stepId }),
    });
    try {
      return await fn(this.child(stepId, [own, ...this.frame.accumulators]));
    } finally {
      this.bus.emit({ type: "step.end", stepId, usage: { ...own, wallMs: Date.now() - started } });
    }
  }

  private resolveBackend(name: string | undefined): Backend {
    if (name === undefined) return this.backend;
    const backend = this.backends[name];
    if (!backend)
      throw new UsageError(`unknown backend "${name}" (have: ${Object.keys(this.backends).join(", ")})`);
    return backend;
  }

  private charge(usage: Usage): void {
    this.budget.charge(usage);
    for (const acc of this.frame.accumulators) Object.assign(acc, addUsage(acc, { ...usage, wallMs: 0 }));
    const exhausted = this.budget.exhausted();
    this.emit({ type: "budget", used: this.budget.used(), ...(exhausted && { exhausted }) });
  }

  async generate(
    request: GenerateRequest,
    options: { backend?: string; step?: StepOptions } = {},
  ): Promise<GenerateResult> {
    const backend = this.resolveBackend(options.backend);
    return this.step(options.step ?? { kind: "generate" }, async (stepCtx) => {
      const ctx = stepCtx as RuntimeContext;
      if (this.signal.aborted) throw new AbortedError();
      if (!this.budget.admit()) {
        const limit = this.budget.exhausted() ?? "calls";
        this.emit({ type: "budget", used: this.budget.used(), exhausted: limit });
        throw new BudgetExhaustedError(limit);
      }
      // The admission is released however the call ends; usage is charged only for completed calls.
      let released = false;
      try {
        // Never let one call generate past the token budget.
        const remaining = this.budget.remainingTokens();
        const maxTokens =
          remaining === undefined ? request.maxTokens : Math.min(request.maxTokens ?? remaining, remaining);
        const effective: GenerateRequest = { ...request, ...(maxTokens !== undefined && { maxTokens }) };
        const cappedByBudget = maxTokens !== undefined && maxTokens !== request.maxTokens;

        const cacheKey =
          this.cache && isDeterministic(effective)
            ? generationCacheKey(backend.kind, backend.model, effective)
            : undefined;
        if (cacheKey && this.cache) {
          const hit = await this.cache.get(cacheKey);
          if (hit) {
            // A replayed call spends no compute, so it is not charged to the budget.
            ctx.emit({ type: "budget", used: this.budget.used() });
            // Replay the text as the live call streamed it, so a listener sees the same tokens either way.
            for (const completion of hit.completions) {
              if (completion.text === "") continue;
              const delta = { index: completion.index, text: completion.text };
              ctx.emit({ type: "token", ...delta });
              request.onDelta?.(delta);
            }
            recordCall(this.calls, hit.completions, maxTokens, cappedByBudget);
            return hit;
          }
        }

        let result: GenerateResult;
        // The cache files a call under this backend's model; a fallback's answer is not that model's.
        let standIn = false;
        try {
          result = await backend.generate({
            ...effective,
            signal: combinedSignal(this.signal, this.budget.deadlineSignal, request.signal),
            onDelta: (delta) => {
              ctx.emit({ type: "token", index: delta.index, text: delta.text });
              request.onDelta?.(delta);
            },
            onIncident: (incident) => {
              ctx.emit({ type: "incident", incident });
              request.onIncident?.(incident);
            },
            onServed: (served) => {
              standIn ||= served.fallback;
              ctx.emit({ type: "served", ...served });
              request.onServed?.(served);
            },
          });
        } catch (error) {
          if (error instanceof AbortedError && this.budget.deadlineSignal?.aborted && !this.signal.aborted) {
            throw new BudgetExhaustedError("deadline");
          }
          throw error;
        }
        // Charge and release together, so no concurrent admission sees this call counted twice.
        ctx.charge(result.usage);
        this.budget.release();
        released = true;
        recordCall(this.calls, result.completions, maxTokens, cappedByBudget);
        if (cacheKey && this.cache && !standIn) await this.cache.set(cacheKey, result);
        return result;
      } finally {
        if (!released) this.budget.release();
      }
    });
  }
}

/**
 * Runs a strategy as a task: sets up the budget meter, event stream and context, frames the run
 * with task.start / task.end, and turns an unhandled budget exhaustion into an empty answer. An empty
 * answer always comes with `noAnswer`: the strategy's own reason, else one read from the run.
 */
export async function runStrategy<I extends StrategyInput, O extends StrategyResult = StrategyResult>(
  strategy: Strategy<I, O>,
  input: I,
  options: RunOptions,
): Promise<TaskResult & O> {
  const taskId = options.taskId ?? newTaskId();
  const bus = new EventBus(taskId);
  if (options.onEvent) bus.subscribe(options.onEvent);
  const budget = new TaskBudgetMeter(options.budget);
  const signal = options.signal ?? new AbortController().signal;
  let stepCounter = 0;
  const calls = emptyCallLog();
  const ctx = new RuntimeContext(
    taskId,
    options.backend,
    options.backends ?? {},
    budget,
    options.cache,
    signal,
    bus,
    { stepId: undefined, accumulators: [] },
    () => `s${++stepCounter}`,
    calls,
  );
  const strategyName = options.strategyName ?? (strategy.name || "anonymous");
  bus.emit({
    type: "task.start",
    strategy: strategyName,
    input: lastUserText(input.messages),
    model: options.backend.model,
    ...(options.owner !== undefined && { owner: options.owner }),
    ...(options.budget && { budget: options.budget }),
  });
  try {
    let result: O;
    try {
      result = await strategy(ctx, input);
    } catch (error) {
      if (!(error instanceof BudgetExhaustedError)) throw error;
      // Nothing finished: an empty answer, marked as cut short (details, if the type has them, are absent).
      result = { answer: "", strategy: strategyName, budgetExhausted: true } as O;
    }
    // A whitespace answer is no answer; a reason beside a real answer would contradict it.
    const { noAnswer: given, ...rest } = result;
    const answered = result.answer.trim() !== "";
    const noAnswer = answered
      ? undefined
      : (given ??
        explainNoAnswer({
          budgetExhausted: result.budgetExhausted,
          limit: budget.exhausted(),
          budget: options.budget ?? {},
          calls,
        }));
    const answer = answered ? result.answer : "";
    const usage = budget.used();
    bus.emit({
      type: "task.end",
      answer,
      usage,
      budgetExhausted: result.budgetExhausted,
      ...(noAnswer && { noAnswer }),
    });
    return { ...(rest as O), answer, ...(noAnswer && { noAnswer }), usage, traceId: taskId };
  } catch (error) {
    bus.emit({
      type: "error",
      message: errorMessage(error),
      code: errorCode(error),
      recovered: false,
    });
    throw error;
  } finally {
    budget.dispose();
  }
}
