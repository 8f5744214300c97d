import { ModelNotFoundError } from "../src/core/errors.js";
import { strategyNames, strategyUsesN } from "../src/strategies/catalog.js";

/** What a requested model id names: a served model, and the strategy (and its n) when prefixed. */
export interface ModelSelection {
  model: string;
  strategy?: string;
  n?: number;
}

/** Samples shown in /v1/models for strategies that take an n. */
const LISTED_N = [4, 8] as const;

/**
 * Reads a model id: `default` (a served model, default strategy), `cot/default` (a strategy) or
 * `sc-8/default` (a strategy that takes n, with n). Anything else is a ModelNotFoundError naming why.
 */
export function parseModelName(id: string, servedModels: readonly string[]): ModelSelection {
  if (servedModels.includes(id)) return { model: id };
  const slash = id.indexOf("/");
  const have = `served: ${servedModels.join(", ")}; use MODEL, STRATEGY/MODEL or STRATEGY-N/MODEL`;
  if (slash < 0) throw new ModelNotFoundError(`the model '${id}' does not exist (${have})`);
  const prefix = id.slice(0, slash);
  const model = id.slice(slash + 1);
  if (!servedModels.includes(model)) {
    throw new ModelNotFoundError(`the model '${model}' does not exist (${have})`);
  }
  const strategies = strategyNames();
  // Whole names first: "sc-conf" is a strategy, not "sc" with a bad n.
  if (strategies.includes(prefix)) return { model, strategy: prefix };
  const withN = prefix.match(/^(.+)-([1-9]\d{0,5})$/);
  const base = withN?.[1];
  if (withN && base !== undefined && strategies.includes(base)) {
    if (!strategyUsesN(base)) {
      throw new ModelNotFoundError(`the model '${id}' does not exist: strategy '${base}' takes no n`);
    }
    return { model, strategy: base, n: Number(withN[2]) };
  }
  throw new ModelNotFoundError(
    `the model '${id}' does not exist: unknown strategy '${prefix}' (have: ${strategies.join(", ")})`,
  );
}

/** The ids /v1/models lists: bare names, then every strategy on every model, with sample n's. */
export function listModelIds(servedModels: readonly string[], strategies: readonly string[]): string[] {
  const ids = [...servedModels];
  for (const model of servedModels) {
    for (const strategy of strategies) {
      ids.push(`${strategy}/${model}`);
      if (strategyUsesN(strategy)) for (const n of LISTED_N) ids.push(`${strategy}-${n}/${model}`);
    }
  }
  return ids;
}
