/** What a piece of work cost. Every backend call, strategy and task reports one. */
export interface Usage {
  promptTokens: number;
  completionTokens: number;
  /** Requests made to a model: a `generate` with n = 8 is one call where the backend batches n, n where it fans out. */
  calls: number;
  wallMs: number;
  /** Money spent in US dollars; 0 for local models. */
  costUsd: number;
}

export const emptyUsage = (): Usage => ({
  promptTokens: 0,
  completionTokens: 0,
  calls: 0,
  wallMs: 0,
  costUsd: 0,
});

/** Sums token counts, calls and cost. Wall time is summed too: callers measuring elapsed time overwrite it. */
export function addUsage(a: Usage, b: Usage): Usage {
  return {
    promptTokens: a.promptTokens + b.promptTokens,
    completionTokens: a.completionTokens + b.completionTokens,
    calls: a.calls + b.calls,
    wallMs: a.wallMs + b.wallMs,
    costUsd: a.costUsd + b.costUsd,
  };
}

export const totalTokens = (u: Usage): number => u.promptTokens + u.completionTokens;

/** Price of a model in US dollars per million tokens. */
export interface Pricing {
  inputPerMTok: number;
  outputPerMTok: number;
}

export function priceOf(
  pricing: Pricing | undefined,
  promptTokens: number,
  completionTokens: number,
): number {
  if (!pricing) return 0;
  return (promptTokens * pricing.inputPerMTok + completionTokens * pricing.outputPerMTok) / 1_000_000;
}
