import type { AnswerFormat } from "./answer-format.js";

const CLOSER: Record<string, string> = { "{": "}", "[": "]" };

/**
 * End index (exclusive) of the balanced bracket run opening at `start`, or undefined if it never closes
 * or closes with the wrong bracket. Brackets inside JSON strings do not count.
 */
function balancedEnd(text: string, start: number): number | undefined {
  const expected: string[] = [];
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const char = text[i] as string;
    if (inString) {
      if (char === "\\") i++;
      else if (char === '"') inString = false;
      continue;
    }
    if (char === '"') inString = true;
    else if (char === "{" || char === "[") expected.push(CLOSER[char] as string);
    else if (char === "}" || char === "]") {
      if (expected.pop() !== char) return undefined;
      if (expected.length === 0) return i + 1;
    }
  }
  return undefined;
}

/** The first object or array in `text` that parses as JSON, as written. */
function firstJsonIn(text: string): string | undefined {
  for (let start = 0; start < text.length; start++) {
    const char = text[start];
    if (char !== "{" && char !== "[") continue;
    const end = balancedEnd(text, start);
    if (end === undefined) continue;
    const candidate = text.slice(start, end);
    try {
      JSON.parse(candidate);
      return candidate;
    } catch {
      // Prose like "[see above]" balances without being JSON: keep looking inside and after it.
    }
  }
  return undefined;
}

/** Re-serialises with object keys sorted at every depth, so key order does not matter. */
function sortedJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(sortedJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) =>
      a < b ? -1 : a > b ? 1 : 0,
    );
    return `{${entries.map(([key, v]) => `${JSON.stringify(key)}:${sortedJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/**
 * Structured answers: the first JSON object or array in the text, looking inside ```json fences first.
 * Two answers are the same when they parse to equal values, whatever their key order or spacing.
 */
export const jsonFormat: AnswerFormat = {
  name: "json",
  instruction: "End with your answer as JSON in a ```json code block.",
  extract(text) {
    for (const fence of text.matchAll(/```[ \t]*(?:json)?[ \t]*\n?([\s\S]*?)```/gi)) {
      const found = firstJsonIn(fence[1] ?? "");
      if (found !== undefined) return found;
    }
    return firstJsonIn(text);
  },
  canonical(answer) {
    try {
      return sortedJson(JSON.parse(answer));
    } catch {
      return answer.trim();
    }
  },
};
