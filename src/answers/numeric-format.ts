import type { AnswerFormat } from "./answer-format.js";
import { extractNumericAnswer, NUMERIC_ANSWER_WRITTEN, normalizeNumber } from "./numeric-answer.js";

/** GSM8K-style numbers: `1,000` = `1000`, `3.50` = `3.5`, `$18` = `18`. */
export const numericFormat: AnswerFormat = {
  name: "numeric",
  instruction: 'Think step by step. End with a line of the form "The answer is N", where N is a number.',
  extract: extractNumericAnswer,
  canonical: (answer) => normalizeNumber(answer) ?? answer.trim(),
  stopAfter: NUMERIC_ANSWER_WRITTEN,
};
