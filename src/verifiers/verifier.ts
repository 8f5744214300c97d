import { lastUserText } from "../core/message.js";
import type { StrategyContext, StrategyInput } from "../core/strategy.js";

/** One proposed solution, as verifiers see it. */
export interface Candidate {
  /** Position in the order candidates were drawn, from 0. */
  index: number;
  /** The whole solution text (reasoning and answer). */
  text: string;
  /** The extracted answer, or undefined when the solution states none. */
  answer: string | undefined;
}

export interface VerifierScore {
  /** How likely the candidate is correct, 0 (surely wrong) to 1 (surely right). */
  score: number;
  rationale?: string;
}

/**
 * Judges how good a candidate is. A verifier sees all candidates so it can compare them (agreement),
 * and the question so it can re-read it (judges). Each call emits one "score" event.
 */
export interface Verifier {
  readonly name: string;
  score(
    ctx: StrategyContext,
    candidate: Candidate,
    all: Candidate[],
    question: StrategyInput,
  ): Promise<VerifierScore>;
}

/** The question a verifier judges against: the last user message. */
export const questionText = (input: StrategyInput): string => lastUserText(input.messages);

/** Clamps to 0..1 (NaN counts as 0), emits the "score" event every verifier reports, returns the score. */
export function reportScore(
  ctx: StrategyContext,
  verifier: string,
  candidate: Candidate,
  result: VerifierScore,
): VerifierScore {
  const score = Number.isNaN(result.score) ? 0 : Math.min(1, Math.max(0, result.score));
  ctx.emit({
    type: "score",
    target: `candidate ${candidate.index}`,
    verifier,
    score,
    ...(result.rationale !== undefined && { rationale: result.rationale }),
  });
  return result.rationale === undefined ? { score } : { score, rationale: result.rationale };
}
