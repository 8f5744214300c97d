import type { ScriptedTurn } from "../src/backends/scripted/scripted-backend.js";

/**
 * A scripted model for the web viewer's tests, answering both kinds of run they watch: self-consistency
 * (a worked "The answer is N", 42 except for every third seed, so the vote has a runner-up) and a Tree
 * of Thoughts on the Game of 24 puzzle 3 3 8 8 (some proposals illegal, so nodes get pruned).
 */
const PROPOSALS: Record<string, string> = {
  "3 3 8 8": ["8 / 3 = 8/3 (left: 8/3 3 8)", "3 * 9 = 27 (left: 8 8 27)", "3 + 3 = 6 (left: 6 8 8)"].join(
    "\n",
  ),
  "8/3 3 8": "3 - 8/3 = 1/3 (left: 1/3 8)",
  "6 8 8": "8 - 6 = 2 (left: 2 8)",
  "1/3 8": "8 / 1/3 = 24 (left: 24)",
  "2 8": "2 * 8 = 16 (left: 16)",
};
const VALUES: Record<string, string> = {
  "8/3 3 8": "8 / (3 - 8 / 3) = 24\nsure",
  "1/3 8": "8 / (1/3) = 24\nsure",
  "6 8 8": "(8 - 6) * 8 = 16\nlikely",
};

export function viewerResponder({ request, prompt, index }: ScriptedTurn): string {
  const lines = prompt.split("\n");
  if (prompt.includes("Possible next steps")) {
    return PROPOSALS[(lines.at(-2) ?? "").replace("Input: ", "")] ?? "1 + 1 = 2";
  }
  if (prompt.includes("can reach 24")) {
    return VALUES[lines.at(-1) ?? ""] ?? "too big\nimpossible";
  }
  const seed = (request.seed ?? 0) + index;
  return seed % 3 === 2 ? "Six sevens are 41. The answer is 41." : "Six sevens are 42. The answer is 42.";
}

/** A question the tree searches read as the Game of 24 puzzle 3 3 8 8. */
export const GAME24_QUESTION = "3 3 8 8";
