/** How a Game of 24 puzzle is put to a model, and how its numbers are read back from a question. */

/** The question for a puzzle; `parseGame24Question` reads it back. */
export const game24Question = (numbers: readonly number[]): string =>
  `Use the numbers ${numbers.join(" ")} and basic arithmetic operations (+ - * /) to obtain 24.`;

/** Longer than any way of putting a Game of 24 puzzle; `game24Question` writes under 100 characters. */
const MAX_PUZZLE_LENGTH = 300;

const NUMBERS = String.raw`(\d+)[\s,]+(\d+)[\s,]+(\d+)[\s,]+(?:and\s+)?(\d+)`;

/**
 * The four numbers of a Game of 24 question: either just four numbers ("4 9 10 13") or a question that
 * names four numbers and asks for 24. Undefined for anything else, so other questions go elsewhere.
 */
export function parseGame24Question(text: string): number[] | undefined {
  // A puzzle is one short sentence. The unanchored search below backtracks over each digit run from
  // every start, quadratic in a long run of digits, and untrusted text reaches here (auto reads every
  // question): anything longer is not a puzzle.
  if (text.length > MAX_PUZZLE_LENGTH) return undefined;
  const trimmed = text.trim();
  const bare = trimmed.match(new RegExp(`^${NUMBERS}$`));
  const phrased = /\b24\b/.test(trimmed.replace(new RegExp(NUMBERS), ""))
    ? trimmed.match(new RegExp(`numbers?:?\\s+${NUMBERS}`, "i"))
    : null;
  const match = bare ?? phrased;
  return match ? match.slice(1, 5).map(Number) : undefined;
}
