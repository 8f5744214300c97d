/**
 * Numeric answers in the GSM8K style. Extraction prefers explicit markers (`#### n`, "the answer is n",
 * a boxed value) and falls back to the last number in the text.
 */
const NUMBER = String.raw`-?\$?\s?\d[\d,]*(?:\.\d+)?`;

// No two adjacent parts may both match a run of spaces: "answer" followed by a few hundred spaces and no
// number would otherwise backtrack for seconds. Each optional part therefore owns the spaces after it.
const MARKERS = [
  new RegExp(String.raw`####\s*(${NUMBER})`, "i"),
  new RegExp(String.raw`\\boxed\{\s*(${NUMBER})\s*\}`, "i"),
  new RegExp(String.raw`answer\s*(?:(?:is|:)\s*)?(?:[:=]\s*)?(?:\*+\s*)?(${NUMBER})`, "i"),
];

/**
 * Matches a finished "The answer is N" line: the number must be followed by something that cannot
 * continue it (a space, a newline, a sentence-ending "." or ","), so "3." does not cut "3.5" short.
 */
export const NUMERIC_ANSWER_WRITTEN = String.raw`the answer is[\s:=*$(\\]*(?:\\boxed\{\s*)?-?\$?\s?\d(?:,?\d)*(?:\.\d+)?(?=[^\d.,]|[.,][^\d])`;

/**
 * The same pattern as spelt before it was made linear (one `\s*` moved inside the boxed group; it
 * matches the same texts). Recordings made before then name this spelling in their request keys, so
 * replay looks them up under it too.
 */
export const NUMERIC_ANSWER_WRITTEN_LEGACY = String.raw`the answer is[\s:=*$(\\]*(?:\\boxed\{)?\s*-?\$?\s?\d(?:,?\d)*(?:\.\d+)?(?=[^\d.,]|[.,][^\d])`;

const PLAIN_DECIMAL = /^(-?)(\d+)(?:\.(\d*))?$/;

/**
 * Canonical form, exact: no currency sign, thousands separators or spaces, no leading zeros, no
 * trailing fractional zeros ("3.50" → "3.5", "3." → "3"), and "-0" → "0". Digits are kept as a string,
 * never passed through a float, so 121932631112635269 stays 121932631112635269.
 */
export function normalizeNumber(raw: string): string | undefined {
  const match = PLAIN_DECIMAL.exec(raw.replace(/[$,\s]/g, ""));
  if (match === null) return undefined;
  const [, sign = "", whole = "", fraction = ""] = match;
  const integer = whole.slice(Math.min(leadingZeros(whole), whole.length - 1));
  const decimals = fraction.slice(0, fraction.length - trailingZeros(fraction));
  const magnitude = decimals === "" ? integer : `${integer}.${decimals}`;
  return magnitude === "0" ? "0" : `${sign}${magnitude}`;
}

// Counted by hand: /0+$/ rescans the zeros from every start position, quadratic on long inputs.
function leadingZeros(digits: string): number {
  let count = 0;
  while (digits[count] === "0") count++;
  return count;
}

function trailingZeros(digits: string): number {
  let count = 0;
  while (digits[digits.length - 1 - count] === "0") count++;
  return count;
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
  const marker = answerField.lastIndexOf("####");
  if (marker === -1) return undefined;
  const rest = answerField.slice(marker + 4).trim();
  // The marker must be on the last line: text after it means it was not the final answer.
  return rest.includes("\n") ? undefined : normalizeNumber(rest);
}
