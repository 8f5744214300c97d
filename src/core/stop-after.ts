import { UsageError } from "./errors.js";

/** Matches only the recent tail of a growing text, so checking after every token stays cheap. */
const TAIL = 512;

/** Compiles a request's `stopAfter` pattern; a malformed one is the caller's mistake. */
export function compileStopAfter(pattern: string | undefined): RegExp | undefined {
  if (pattern === undefined || pattern === "") return undefined;
  try {
    return new RegExp(pattern, "i");
  } catch (error) {
    throw new UsageError(`stopAfter is not a valid regular expression: ${(error as Error).message}`);
  }
}

/**
 * Where generated text should end under a `stopAfter` pattern: the index just past the first match in
 * the text's recent tail, or undefined while there is none.
 */
export function stopAfterIndex(text: string, pattern: RegExp | undefined): number | undefined {
  if (!pattern) return undefined;
  const from = Math.max(0, text.length - TAIL);
  const match = pattern.exec(from === 0 ? text : text.slice(from));
  return match ? from + match.index + match[0].length : undefined;
}
