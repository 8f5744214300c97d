import type { GenerationParams } from "../core/backend.js";

/** Sampling settings shared by the model-driven search configs. */
export interface ModelSearchOptions {
  /** Sampling temperature of proposals. Default 0.7. */
  temperature?: number;
  /** Base seed; call i uses seed + i, so a search reproduces (and its calls can be cached). */
  seed?: number;
  /** Judgements averaged per state value; one is taken greedily, several are sampled. Default 1. */
  valueSamples?: number;
}

/** Hands out one seed per call, so calls differ yet reproduce. */
export const seedSequence = (seed: number | undefined): (() => number | undefined) => {
  let next = 0;
  return () => (seed === undefined ? undefined : seed + next++);
};

/** The caller's sampling settings (temperature, seed) as search options, so a search reproduces like a call. */
export const modelSearchOptionsOf = (params: GenerationParams | undefined): ModelSearchOptions => ({
  ...(params?.temperature !== undefined && { temperature: params.temperature }),
  ...(params?.seed !== undefined && { seed: params.seed }),
});
