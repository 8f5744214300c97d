/**
 * Numeric answers in the GSM8K style. Extraction prefers explicit markers (`#### n`, "the answer is n",
 * a boxed value) and falls back to the last number in the text.
 */
const NUMBER = String.raw`-?\$?\s?\d[\d,]*(?:\.\d+)?`;

const MARKERS = [
  new RegExp(String.raw`####\s*(${NUMBER})`, "i"),
  new RegExp(String.raw`\\boxed\{\s*(${NUMBER})\s*\}`, "i"),
  new RegExp(String.raw`answer\s*(?:is|:)?\s*[:=]?\s*\**\s*(${NUMBER})`, "i"),
];

/**
 * Matches a finished "The answer is N" line: the number must be followed by something that cannot
 * continue it (a space, a newline, a sentence-ending "." or ","), so "3." does not cut "3.5" short.
 */
export const NUMERIC_ANSWER_WRITTEN = String.raw`the answer is[\s:=*$(\\]*(?:\\boxed\{)?\s*-?\$?\s?\d(?:,?\d)*(?:\.\d+)?(?=[^\d.,]|[.,][^\d])`;

/** Canonical form: no currency sign, no thousands separators, no trailing zeros ("3.50" → "3.5"). */
export function normalizeNumber(raw: string): string | undefined {
  const cleaned = raw.replace(/[$,\s]/g, "");
  if (!/^-?\d+(\.\d+)?$/.test(cleaned)) return undefined;
  const value = Number(cleaned);
  if (!Number.isFinite(value)) return undefined;
  return String(Number(value.toPrecision(15)));
}

/** The numeric answer of a piece of text, normalised, or undefined when it has none. */
export function extractNumericAnswer(text: string): string | undefined {
  for (const marker of MARKERS) {
    const matches = [...text.matchAll(new RegExp(marker.source, "gi"))];
    const last = matches.at(-1)?.[1];
    if (last !== undefined) {
      const normalized = normalizeNumber(last);
      if (normalized !== undefined) return normalized;
    }
  }
  const numbers = text.match(new RegExp(NUMBER, "g"));
  const last = numbers?.at(-1);
  return last === undefined ? undefined : normalizeNumber(last);
}

/** The gold answer of a GSM8K record: the number after the final `####`. */
export function gsm8kGoldAnswer(answerField: string): string | undefined {
  const match = answerField.match(/####\s*(.+)\s*$/);
  return match?.[1] === undefined ? undefined : normalizeNumber(match[1]);
}
