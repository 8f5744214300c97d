import type { AnswerFormat } from "../answers/answer-format.js";
import type { StrategyResult } from "../core/strategy.js";

/*
 * How composing strategies read the result of the strategy they wrap. A strategy that extracts its own
 * answer reports it as `details.extracted` (undefined meaning "no answer") and its full text as
 * `details.reasoning`; for any other strategy the format reads the answer text.
 */

/** The answer a result carries, or undefined when it has none. */
export function answerOf(result: StrategyResult, format: AnswerFormat): string | undefined {
  const details = result.details ?? {};
  const raw = "extracted" in details ? details.extracted : format.extract(result.answer);
  return typeof raw === "string" ? raw : undefined;
}

/** The full text behind a result: its reasoning when reported, else its answer. */
export function reasoningOf(result: StrategyResult): string {
  const reasoning = result.details?.reasoning;
  return typeof reasoning === "string" ? reasoning : result.answer;
}
