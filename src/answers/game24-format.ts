import type { AnswerFormat } from "./answer-format.js";
import { evaluateExpression } from "./arithmetic-expression.js";
import { expressionPart, game24NumbersOf } from "./game24-check.js";
import { solve24 } from "./solve24.js";

const MARKER = /\b(?:final\s+)?answer\b(?:\s+is)?\s*[:=]?\s*([^\n]*)/gi;

/** Markdown, LaTeX and a trailing period around an expression are not part of it. */
const unwrap = (text: string): string =>
  text
    .replace(/\\boxed\{([^}]*)\}/g, "$1")
    .replace(/\\times/g, "*")
    .replace(/\\div/g, "/")
    .replace(/[*_`$]{2,}|`|\$|\\[()[\]]/g, "")
    .trim()
    .replace(/[.;,]$/, "")
    .trim();

/** The longest tail of `segment` that is an arithmetic expression, so prose before it is skipped. */
function trailingExpression(segment: string): string | undefined {
  const text = unwrap(segment);
  for (let start = 0; start < text.length; start++) {
    if (!/[\d([{]/.test(text[start] as string)) continue;
    const candidate = text.slice(start).trim();
    if (evaluateExpression(candidate)) return candidate;
  }
  return undefined;
}

const hasOperator = (expression: string): boolean =>
  (evaluateExpression(expression)?.literals.length ?? 0) > 1;

/** The expression of a line "… EXPR = … = 24": the tail of what precedes its first "=". */
const lineExpression = (line: string): string | undefined =>
  /=\s*24\s*\W*$/.test(unwrap(line)) ? trailingExpression(expressionPart(unwrap(line))) : undefined;

/**
 * Game of 24 answers: an expression using the puzzle's four numbers once each that equals 24.
 * Extraction takes the expression on the last "Answer: …" line, else on the last line ending "= 24",
 * else the whole text when it is one expression.
 * Every valid answer over the same numbers is the same answer, so its canonical key is one fixed
 * solution over those numbers (the `solve24` expression, itself valid, so the key is stable); anything
 * else keys on its own text. Bench gold is that fixed solution, so scoring is exact: right numbers,
 * each once, equal to 24 in rational arithmetic.
 */
export const game24Format: AnswerFormat = {
  name: "game24",
  instruction:
    "Use each of the four numbers exactly once, with + - * / and parentheses, to make 24. " +
    'Think step by step, then end with a line of the form "Answer: EXPRESSION = 24". ' +
    'For example, for 4 9 10 13 the last line is "Answer: (10 - 4) * (13 - 9) = 24".',
  extract(text) {
    // "The answer is 24." states the target, not the expression: a bare number is the last resort.
    let bare: string | undefined;
    for (const match of [...text.matchAll(MARKER)].reverse()) {
      const found = trailingExpression(expressionPart(match[1] ?? ""));
      if (found !== undefined && hasOperator(found)) return found;
      bare ??= found;
    }
    for (const line of text.split("\n").reverse()) {
      const found = lineExpression(line);
      if (found !== undefined && hasOperator(found)) return found;
    }
    // A strategy that returns just the expression (tree search does).
    const whole = unwrap(text);
    if (!whole.includes("\n") && evaluateExpression(expressionPart(whole))) return expressionPart(whole);
    return bare;
  },
  canonical(answer) {
    const numbers = game24NumbersOf(answer);
    if (numbers) return solve24(numbers) ?? expressionPart(answer);
    return answer.trim().replace(/\s+/g, " ");
  },
  stopAfter: String.raw`answer\s*:[^\n]*=\s*24(?=\D)`,
};
