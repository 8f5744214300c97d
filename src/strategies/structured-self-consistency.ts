import { jsonFormat } from "../answers/json-format.js";
import type { Strategy } from "../core/strategy.js";
import { StructuredOutputError } from "../structured/structured-output-error.js";
import { selfConsistency } from "./self-consistency.js";
import { type StructuredOutputOptions, structuredOutput } from "./structured-output.js";
import { ADAPTIVE, CONFIDENCE_WEIGHTED, type VoteSettings } from "./vote-settings.js";

export interface StructuredVoteOptions extends Omit<StructuredOutputOptions, "onInvalid"> {
  /** Samples to draw. Default self-consistency's, 8. */
  n?: number;
  temperature?: number;
  /** How the vote runs (rounds, stopping, confidence), as the catalogue's sc variants set it. */
  vote?: VoteSettings;
  /** Shorthand for sc-conf's vote: weighted by token confidence, the least confident quarter dropped. */
  confidenceWeighted?: boolean;
  /** Shorthand for asc's vote: stop sampling once a Beta rule is 95% sure of the winner. */
  adaptive?: boolean;
}

/**
 * Self-consistency over structured answers: several valid samples, majority vote on their canonical
 * JSON (key order and spacing do not matter). Samples that never validate do not vote; when none
 * does, it throws rather than answer.
 */
export function structuredSelfConsistency(options: StructuredVoteOptions): Strategy {
  const vote: VoteSettings = {
    ...(options.adaptive && ADAPTIVE),
    ...(options.confidenceWeighted && CONFIDENCE_WEIGHTED),
    ...options.vote,
  };
  const base = structuredOutput({
    ...options,
    onInvalid: "no-answer",
    // Confidence-weighted votes need each attempt's per-token probabilities.
    ...(vote.confidence && { confidence: true }),
  });
  const voting = selfConsistency({
    ...vote,
    base,
    format: jsonFormat,
    ...(options.n !== undefined && { n: options.n }),
    ...(options.temperature !== undefined && { temperature: options.temperature }),
  });
  return async (ctx, input) => {
    const result = await voting(ctx, input);
    if (result.answer === "" && !result.budgetExhausted) {
      throw new StructuredOutputError(result.details.drawn, [], "no sample produced a valid value");
    }
    return { ...result, strategy: "structured-sc" };
  };
}
