import { evaluateExpression } from "./arithmetic-expression.js";
import { equals, formatRational, rational } from "./rational.js";

const TWENTY_FOUR = rational(24);

export type Game24Verdict = { valid: true; expression: string } | { valid: false; reason: string };

/** The expression part of an answer: what comes before the first "=", so "… = 24" may be written. */
export const expressionPart = (answer: string): string => (answer.split("=")[0] ?? "").trim();

const sortedKey = (values: readonly bigint[]): string =>
  [...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).join(" ");

/**
 * Checks a Game of 24 answer exactly: an arithmetic expression that uses each of `numbers` exactly once
 * (no other literals) and equals 24 in rational arithmetic.
 */
export function checkGame24Answer(answer: string, numbers: readonly number[]): Game24Verdict {
  const expression = expressionPart(answer);
  const evaluated = evaluateExpression(expression);
  if (!evaluated) return { valid: false, reason: `not an arithmetic expression: "${expression}"` };
  const used = sortedKey(evaluated.literals);
  const given = sortedKey(numbers.map((n) => BigInt(n)));
  if (used !== given) return { valid: false, reason: `uses ${used}, not ${given}` };
  if (!equals(evaluated.value, TWENTY_FOUR)) {
    return { valid: false, reason: `equals ${formatRational(evaluated.value)}, not 24` };
  }
  return { valid: true, expression };
}

/** The numbers an expression uses, sorted, when it is a valid 24 over exactly those numbers. */
export function game24NumbersOf(answer: string): number[] | undefined {
  const evaluated = evaluateExpression(expressionPart(answer));
  if (!evaluated || !equals(evaluated.value, TWENTY_FOUR) || evaluated.literals.length === 0)
    return undefined;
  return [...evaluated.literals].map(Number).sort((a, b) => a - b);
}
