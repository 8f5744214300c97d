import type { GenerateResult } from "./backend.js";

/**
 * Content-addressed store of model calls. The key is a hash of model, messages, parameters and seed,
 * so identical requests and repeated sub-steps are answered without calling the model again.
 */
export interface GenerationCache {
  get(key: string): Promise<GenerateResult | undefined>;
  set(key: string, value: GenerateResult): Promise<void>;
}
