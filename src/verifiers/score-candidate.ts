import type { StrategyInput } from "../core/strategy.js";
import { type RunOptions, runStrategy } from "../runtime/task-context.js";
import type { Candidate, Verifier, VerifierScore } from "./verifier.js";

/**
 * Scores one candidate outside any strategy, as a task of its own: budgeted, traced and evented like
 * any other model work. `others` are the rival candidates a verifier such as agreement compares with.
 */
export async function scoreCandidate(
  verifier: Verifier,
  candidate: Candidate,
  question: StrategyInput,
  options: RunOptions & { others?: Candidate[] },
): Promise<VerifierScore> {
  const { others = [], ...run } = options;
  const result = await runStrategy(
    async (ctx, input) => ({
      answer: "",
      strategy: "verify",
      budgetExhausted: false,
      details: { score: await verifier.score(ctx, candidate, [candidate, ...others], input) },
    }),
    question,
    { strategyName: `verify:${verifier.name}`, ...run },
  );
  return result.details?.score as VerifierScore;
}
