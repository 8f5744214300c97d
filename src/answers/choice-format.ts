import { UsageError } from "../core/errors.js";
import type { AnswerFormat } from "./answer-format.js";

export interface ChoiceFormatOptions {
  /** The option letters, e.g. "ABCD". Default "ABCDE". */
  letters?: string;
}

const escapeForClass = (letters: string): string => letters.replace(/[\\\]^-]/g, "\\$&");

/**
 * Multiple-choice answers: a single option letter. Extraction prefers an explicit "answer is C" (also
 * "Answer: (c)", "answer is **D**"), then a boxed letter, then the last "(B)", then the last "**D**",
 * then the last standalone capital letter. A bare letter is only taken in upper case, because "a" is
 * usually the article; inside parentheses or bold either case counts.
 */
export function createChoiceFormat(options: ChoiceFormatOptions = {}): AnswerFormat {
  const letters = [...new Set((options.letters ?? "ABCDE").toUpperCase())].join("");
  if (!/^[A-Z]+$/.test(letters)) throw new UsageError(`choice letters must be A–Z, got "${options.letters}"`);
  const upper = `[${escapeForClass(letters)}]`;
  const either = `[${escapeForClass(letters + letters.toLowerCase())}]`;
  const notWord = "(?![A-Za-z0-9])";
  const wrapped = String.raw`\(\s*(${either})\s*\)|\[\s*(${either})\s*\]|\*\*\s*(${either})\s*\*\*`;
  const patterns = [
    new RegExp(
      String.raw`\b[Aa]nswer\b(?:\s+is)?\s*[:=]?\s*(?:(?:the\s+)?(?:option|choice)\s+)?` +
        String.raw`(?:${wrapped}|\**(${upper})\**${notWord})`,
      "g",
    ),
    new RegExp(String.raw`\\boxed\{\s*\(?(${either})\)?\s*\}`, "g"),
    new RegExp(String.raw`\(\s*(${either})\s*\)`, "g"),
    new RegExp(String.raw`\*\*\s*\(?(${either})\)?\s*\*\*`, "g"),
    new RegExp(`(?<![A-Za-z0-9])(${upper})${notWord}`, "g"),
  ];
  const lastLetter = (text: string, pattern: RegExp): string | undefined => {
    const match = [...text.matchAll(pattern)].at(-1);
    return match?.slice(1).find((group) => group !== undefined);
  };
  return {
    name: "choice",
    instruction:
      'Think step by step. End with a line of the form "The answer is X", ' +
      `where X is one of ${[...letters].join(", ")}.`,
    extract(text) {
      for (const pattern of patterns) {
        const letter = lastLetter(text, pattern);
        if (letter !== undefined) return letter.toUpperCase();
      }
      return undefined;
    },
    canonical(answer) {
      const bare = answer.trim().replace(/^[*([\s]+|[*)\].\s]+$/g, "");
      return bare.toUpperCase();
    },
  };
}

/** Multiple choice among A–E. */
export const choiceFormat: AnswerFormat = createChoiceFormat();
