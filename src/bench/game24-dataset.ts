import { readFile } from "node:fs/promises";
import { solve24 } from "../answers/solve24.js";
import { UsageError } from "../core/errors.js";
import { game24Question } from "../search/game24-puzzle.js";
import { parseCsv } from "./csv.js";

export interface Game24Problem {
  /** The "Rank" column when there is one, else the 0-based row number. */
  id: number | string;
  numbers: number[];
  question: string;
  /**
   * One exact solution (or "no solution"). Scoring does not compare against it as text: the game24
   * format keys every valid expression over the same numbers alike, so any valid answer matches.
   */
  gold: string;
}

const PUZZLE_COLUMN = /^(?:puzzles?|numbers|problem|input)$/i;

/**
 * Reads a Game of 24 CSV with a header row, like the ToT paper's 24.csv (Rank, Puzzles, …). The
 * puzzle column is found by name ("Puzzles", "Puzzle", "Numbers", …) and holds four numbers separated
 * by spaces or commas; a "Rank" or "id" column, if present, names the problem.
 */
export async function readGame24(path: string, options: { limit?: number } = {}): Promise<Game24Problem[]> {
  const text = await readFile(path, "utf8").catch((error: unknown) => {
    throw new UsageError(`cannot read dataset ${path}: ${(error as Error).message}`);
  });
  const [header, ...rows] = parseCsv(text.replace(/^\uFEFF/, ""));
  if (!header) return [];
  const names = header.map((h) => h.trim());
  const puzzleAt = names.findIndex((h) => PUZZLE_COLUMN.test(h));
  if (puzzleAt < 0) {
    throw new UsageError(
      `${path}: no puzzle column (expected a header such as "Puzzles"; have: ${names.join(", ")})`,
    );
  }
  const idAt = names.findIndex((h) => /^(?:rank|id)$/i.test(h));
  const problems: Game24Problem[] = [];
  for (const [index, row] of rows.entries()) {
    const cell = (row[puzzleAt] ?? "").trim();
    const numbers = cell
      .split(/[\s,]+/)
      .filter((s) => s !== "")
      .map(Number);
    if (numbers.length !== 4 || numbers.some((n) => !Number.isInteger(n) || n < 0)) {
      throw new UsageError(
        `${path}: row ${index + 1}: expected four whole numbers in "${names[puzzleAt]}", got "${cell}"`,
      );
    }
    const rawId = idAt >= 0 ? (row[idAt] ?? "").trim() : "";
    const id = rawId === "" ? index : /^\d+$/.test(rawId) ? Number(rawId) : rawId;
    problems.push({
      id,
      numbers,
      question: game24Question(numbers),
      gold: solve24(numbers) ?? "no solution",
    });
    if (options.limit !== undefined && problems.length >= options.limit) break;
  }
  return problems;
}
