import type { StrategyResult } from "../core/strategy.js";

/** How sure a strategy is that its answer is right, as it reports it. */
export interface AnswerConfidence {
  /** P(correct), 0 to 1. */
  confidence: number;
  /** True when a fitted, calibrated model gave it; false for a prior or an uncalibrated score. */
  calibrated: boolean;
}

/**
 * The confidence a result reports in its answer: `details.confidence` with `details.calibrated`
 * (auto's). A `confidence` without `calibrated` is some other measure (cot's mean token probability)
 * and is not read as P(correct).
 */
export function answerConfidenceOf(
  result: Pick<StrategyResult, "details"> | undefined,
): AnswerConfidence | undefined {
  const details = result?.details;
  const confidence = details?.confidence;
  const calibrated = details?.calibrated;
  if (typeof confidence !== "number" || typeof calibrated !== "boolean") return undefined;
  return { confidence, calibrated };
}
