import type { StrategyContext, StrategyInput } from "../../core/strategy.js";
import { selfProbabilityVerifier } from "../../verifiers/self-probability-verifier.js";
import type { ProbeSample } from "./probe-features.js";

/**
 * "Draft small, verify big": the large tier reads the probe's leading solution and gives its
 * probability that the answer is right (P(Yes), Kadavath et al. 2022). Prompt processing and one
 * token: a fraction of what the large model's own chain of thought costs. The router turns that
 * reading, with the probe's features, into a calibrated P(correct).
 */
export async function verifyWithLarge(
  ctx: StrategyContext,
  input: StrategyInput,
  leaderSample: ProbeSample,
  largeBackend: string,
): Promise<number> {
  const verifier = selfProbabilityVerifier({ backend: largeBackend });
  const candidate = { index: 0, text: leaderSample.text, answer: leaderSample.answer };
  const { score } = await verifier.score(ctx, candidate, [candidate], input);
  return score;
}
