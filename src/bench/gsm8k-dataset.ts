import { readFile } from "node:fs/promises";
import { gsm8kGoldAnswer } from "../answers/numeric-answer.js";
import { UsageError } from "../core/errors.js";

export interface Gsm8kProblem {
  /** 0-based line number in the file, so results can be traced back. */
  id: number;
  question: string;
  /** Normalised number after the final `####`. */
  gold: string;
}

/** Reads any JSONL file in the GSM8K format: one `{question, answer}` per line, answers ending `#### n`. */
export async function readGsm8k(path: string, options: { limit?: number } = {}): Promise<Gsm8kProblem[]> {
  const text = await readFile(path, "utf8").catch((error: unknown) => {
    throw new UsageError(`cannot read dataset ${path}: ${(error as Error).message}`);
  });
  const problems: Gsm8kProblem[] = [];
  // Editors on Windows often save UTF-8 with a byte-order mark, which JSON.parse refuses.
  for (const [id, line] of text
    .replace(/^\uFEFF/, "")
    .split("\n")
    .entries()) {
    if (!line.trim()) continue;
    let record: { question?: unknown; answer?: unknown };
    try {
      record = JSON.parse(line);
    } catch {
      throw new UsageError(`${path}:${id + 1}: not valid JSON`);
    }
    if (typeof record.question !== "string" || typeof record.answer !== "string") {
      throw new UsageError(`${path}:${id + 1}: expected string fields "question" and "answer"`);
    }
    const gold = gsm8kGoldAnswer(record.answer);
    if (gold === undefined)
      throw new UsageError(`${path}:${id + 1}: answer does not end with "#### <number>"`);
    problems.push({ id, question: record.question, gold });
    if (options.limit !== undefined && problems.length >= options.limit) break;
  }
  return problems;
}
