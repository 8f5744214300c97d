import type { AnswerFormat } from "./answer-format.js";

const MARKER = /\bthe\s+(?:final\s+)?answer\s+is\b\s*:?|\b(?:final\s+)?answer\s*:/gi;

/** Markdown emphasis, code ticks or quotes wrapped around the whole answer are formatting, not content. */
function unwrap(text: string): string {
  let value = text.trim();
  for (;;) {
    const inner = value.match(/^(\*\*|__|\*|_|`|"|'|“)([\s\S]*?)(\*\*|__|\*|_|`|"|'|”)([.!]?)$/);
    if (!inner) return value;
    const [, open = "", body = "", close, period = ""] = inner;
    // Only a matching pair around the whole text, not "*a* and *b*".
    if ((open === "“" ? "”" : open) !== close || body.includes(open)) return value;
    value = `${body.trim()}${period}`;
  }
}

/**
 * Short free-text answers compared exactly up to case, spacing and a trailing period. The answer is what
 * follows the last "The answer is" or "Answer:" on its line; without a marker, the whole text.
 */
export const exactFormat: AnswerFormat = {
  name: "exact",
  instruction: 'End with a line of the form "The answer is X", where X is your answer and nothing else.',
  extract(text) {
    // Markers only, so a second marker on the same line as the first is still found.
    const marker = [...text.matchAll(MARKER)].at(-1);
    const after =
      marker === undefined ? text : text.slice(marker.index + marker[0].length).match(/^\s*([^\n]*)/)?.[1];
    const answer = unwrap(after ?? "");
    return answer === "" ? undefined : answer;
  },
  canonical(answer) {
    return answer.normalize("NFKC").trim().replace(/\s+/g, " ").toLowerCase().replace(/\.$/, "").trimEnd();
  },
};
