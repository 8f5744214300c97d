/** Limits on what a task may spend. Any field left out is unlimited. */
export interface Budget {
  maxTokens?: number;
  maxCalls?: number;
  /** Milliseconds from the start of the task. */
  deadlineMs?: number;
  maxCostUsd?: number;
}

export type BudgetLimit = "tokens" | "calls" | "deadline" | "cost";
