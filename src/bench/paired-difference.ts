/**
 * Two runs on the same problems, compared problem by problem: which problems only one of them got
 * right, and McNemar's exact test of whether that split could be chance. At tens of problems an
 * accuracy gap of a few points is often noise; this says how often.
 */
export interface PairedDifference {
  /** Problems both runs answered. */
  problems: number;
  /** Right in the first run only. */
  onlyFirst: number;
  /** Right in the second run only. */
  onlySecond: number;
  /**
   * Two-sided exact p-value of McNemar's test: the chance of a split at least this uneven among the
   * discordant problems if either run were as likely to be the right one (1 when none differ).
   */
  pValue: number;
}

/** Compares two runs' per-problem outcomes (problem id → right or not) on the ids both hold. */
export function pairedDifference(
  first: ReadonlyMap<number, boolean>,
  second: ReadonlyMap<number, boolean>,
): PairedDifference {
  let problems = 0;
  let onlyFirst = 0;
  let onlySecond = 0;
  for (const [id, right] of first) {
    const other = second.get(id);
    if (other === undefined) continue;
    problems += 1;
    if (right && !other) onlyFirst += 1;
    if (other && !right) onlySecond += 1;
  }
  return { problems, onlyFirst, onlySecond, pValue: exactMcNemar(onlyFirst, onlySecond) };
}

/** 2 · P(X ≤ min(b, c)) for X ~ Binomial(b + c, 1/2), capped at 1. */
export function exactMcNemar(b: number, c: number): number {
  const n = b + c;
  if (n === 0) return 1;
  // Terms built one from the last, in log space so that n in the thousands does not underflow.
  let logTerm = -n * Math.LN2; // C(n, 0) / 2^n
  let tail = Math.exp(logTerm);
  for (let i = 1; i <= Math.min(b, c); i += 1) {
    logTerm += Math.log((n - i + 1) / i);
    tail += Math.exp(logTerm);
  }
  return Math.min(1, 2 * tail);
}
