import type { AnswerFormat } from "../answers/answer-format.js";
import { numericFormat } from "../answers/numeric-format.js";
import { reportScore, type Verifier } from "./verifier.js";

export interface AgreementOptions {
  /** Decides when two answers are the same. Default numeric. */
  format?: AnswerFormat;
}

/**
 * Scores a candidate by the share of the other candidates that reached the same answer: a soft
 * majority vote, free of model calls. A candidate without an answer, or alone, scores 0.
 */
export function agreementVerifier(options: AgreementOptions = {}): Verifier {
  const format = options.format ?? numericFormat;
  const name = "agreement";
  return {
    name,
    async score(ctx, candidate, all) {
      const others = all.filter((c) => c.index !== candidate.index);
      if (candidate.answer === undefined || others.length === 0) {
        const rationale = candidate.answer === undefined ? "no answer" : "no other candidates";
        return reportScore(ctx, name, candidate, { score: 0, rationale });
      }
      const key = format.canonical(candidate.answer);
      const agreeing = others.filter(
        (c) => c.answer !== undefined && format.canonical(c.answer) === key,
      ).length;
      return reportScore(ctx, name, candidate, {
        score: agreeing / others.length,
        rationale: `${agreeing} of ${others.length} others agree`,
      });
    },
  };
}
