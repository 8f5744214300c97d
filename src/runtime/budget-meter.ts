import type { Budget, BudgetLimit } from "../core/budget.js";
import type { BudgetMeter } from "../core/strategy.js";
import { addUsage, emptyUsage, totalTokens, type Usage } from "../core/usage.js";

/**
 * The single place budgets are enforced. Usage is charged after each call; a limit counts as reached
 * once usage meets it, so the call that crosses a limit finishes and the next one is refused.
 */
export class TaskBudgetMeter implements BudgetMeter {
  readonly budget: Budget;
  private usage: Usage = emptyUsage();
  /** Calls admitted but not yet charged: counted against maxCalls so a concurrent round cannot overshoot. */
  private inFlightCalls = 0;
  private readonly startedAt: number;
  private readonly now: () => number;
  private readonly deadlineController: AbortController | undefined;
  private deadlineTimer: NodeJS.Timeout | undefined;

  constructor(budget: Budget = {}, options: { now?: () => number } = {}) {
    this.budget = budget;
    this.now = options.now ?? Date.now;
    this.startedAt = this.now();
    if (budget.deadlineMs !== undefined) {
      const controller = new AbortController();
      this.deadlineController = controller;
      this.deadlineTimer = setTimeout(() => controller.abort(), budget.deadlineMs);
      this.deadlineTimer.unref();
    }
  }

  /**
   * Aborts when the deadline passes, so in-flight generation stops on time; undefined without a
   * deadline, so the common case combines no signals per call.
   */
  get deadlineSignal(): AbortSignal | undefined {
    return this.deadlineController?.signal;
  }

  /** Admits one call: false when a limit is already reached (in-flight calls count toward maxCalls). */
  admit(): boolean {
    const { maxCalls } = this.budget;
    if (this.exhausted()) return false;
    if (maxCalls !== undefined && this.usage.calls + this.inFlightCalls >= maxCalls) return false;
    this.inFlightCalls++;
    return true;
  }

  /** Ends an admitted call; its usage, if any, is charged separately. */
  release(): void {
    this.inFlightCalls = Math.max(0, this.inFlightCalls - 1);
  }

  charge(usage: Usage): void {
    this.usage = addUsage(this.usage, { ...usage, wallMs: 0 });
  }

  used(): Usage {
    return { ...this.usage, wallMs: this.now() - this.startedAt };
  }

  exhausted(): BudgetLimit | undefined {
    const { maxTokens, maxCalls, deadlineMs, maxCostUsd } = this.budget;
    if (maxTokens !== undefined && totalTokens(this.usage) >= maxTokens) return "tokens";
    if (maxCalls !== undefined && this.usage.calls >= maxCalls) return "calls";
    if (deadlineMs !== undefined && this.now() - this.startedAt >= deadlineMs) return "deadline";
    if (maxCostUsd !== undefined && this.usage.costUsd >= maxCostUsd) return "cost";
    return undefined;
  }

  remainingTokens(): number | undefined {
    if (this.budget.maxTokens === undefined) return undefined;
    return Math.max(0, this.budget.maxTokens - totalTokens(this.usage));
  }

  dispose(): void {
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
  }
}
