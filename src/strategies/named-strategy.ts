import type { Strategy, StrategyResult } from "../core/strategy.js";

/**
 * `strategy` under its catalogue name: its results say `name` (so `ask --json`, the server and bench
 * name a run as the user asked for it, e.g. "sc" rather than the "self-consistency" it is built from),
 * and so does the function's own name, which the runtime falls back to for task.start.
 */
export function namedStrategy<I, O extends StrategyResult>(
  name: string,
  strategy: Strategy<I, O>,
): Strategy<I, O> {
  const named: Strategy<I, O> = async (ctx, input) => ({ ...(await strategy(ctx, input)), strategy: name });
  Object.defineProperty(named, "name", { value: name });
  return named;
}
