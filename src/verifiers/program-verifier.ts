import { errorMessage } from "../core/errors.js";
import type { StrategyInput } from "../core/strategy.js";
import { type Candidate, reportScore, type Verifier, type VerifierScore } from "./verifier.js";

/** A check's verdict: pass/fail, a score in 0..1, or a score with its reason. */
export type ProgramCheckResult = boolean | number | VerifierScore;

export type ProgramCheck = (
  candidate: Candidate,
  question: StrategyInput,
) => ProgramCheckResult | Promise<ProgramCheckResult>;

/**
 * A verifier backed by code, e.g. running unit tests against a candidate program or checking an answer
 * against constraints. Pass is 1, fail is 0, numbers are clamped to 0..1. A check that throws scores 0
 * with the error as its rationale: a candidate that crashes the checker is not a good candidate.
 */
export function programVerifier(check: ProgramCheck, name = "program"): Verifier {
  return {
    name,
    async score(ctx, candidate, _all, question) {
      let result: VerifierScore;
      try {
        const verdict = await check(candidate, question);
        result =
          typeof verdict === "boolean"
            ? { score: verdict ? 1 : 0, rationale: verdict ? "check passed" : "check failed" }
            : typeof verdict === "number"
              ? { score: verdict }
              : verdict;
      } catch (error) {
        result = { score: 0, rationale: errorMessage(error) };
      }
      return reportScore(ctx, name, candidate, result);
    },
  };
}
