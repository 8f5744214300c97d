import { UsageError } from "../core/errors.js";
import type { StrategyContext } from "../core/strategy.js";

/**
 * `ctx` with one of its named backends (an entry of `ctx.backends`) as the default, so a whole
 * sub-strategy (structured output, cot) runs on that model: every call it makes, in every step it
 * opens, goes there unless the call names a backend itself. `undefined` leaves `ctx` as it is. An
 * unknown name is a UsageError here, before anything is spent.
 */
export function onBackend(ctx: StrategyContext, name: string | undefined): StrategyContext {
  if (name === undefined) return ctx;
  const backend = ctx.backends[name];
  if (!backend) {
    throw new UsageError(
      `unknown backend "${name}" (have: ${Object.keys(ctx.backends).join(", ") || "none"})`,
    );
  }
  const wrap = (inner: StrategyContext): StrategyContext => ({
    taskId: inner.taskId,
    backend,
    backends: inner.backends,
    budget: inner.budget,
    cache: inner.cache,
    signal: inner.signal,
    emit: (event) => inner.emit(event),
    generate: (request, options = {}) =>
      inner.generate(request, { ...options, backend: options.backend ?? name }),
    step: (options, fn) => inner.step(options, (stepCtx) => fn(wrap(stepCtx))),
  });
  return wrap(ctx);
}
