import { readFile } from "node:fs/promises";
import { UsageError } from "../core/errors.js";
import { type PythonRun, runPython } from "../tools/python/python-sandbox.js";

/** One HumanEval problem: a stub to complete, and the hidden test that scores a completion. */
export interface HumanEvalProblem {
  /** The task's id, e.g. "HumanEval/0". */
  id: string;
  /** What the model sees: the prompt (signature and docstring), and nothing of the test. */
  question: string;
  /** What scores an answer, as results name it: `check(entry_point)`. */
  gold: string;
  entryPoint: string;
  /** Defines `check(candidate)`; run only to score, never shown to the model. */
  test: string;
}

/** Reads any JSONL file in the HumanEval layout: one `{task_id, prompt, entry_point, test}` per line. */
export async function readHumanEval(
  path: string,
  options: { limit?: number } = {},
): Promise<HumanEvalProblem[]> {
  const text = await readFile(path, "utf8").catch((error: unknown) => {
    throw new UsageError(`cannot read dataset ${path}: ${(error as Error).message}`);
  });
  const problems: HumanEvalProblem[] = [];
  for (const [index, line] of text
    .replace(/^\uFEFF/, "")
    .split("\n")
    .entries()) {
    if (!line.trim()) continue;
    let record: Record<string, unknown>;
    try {
      record = JSON.parse(line);
    } catch {
      throw new UsageError(`${path}:${index + 1}: not valid JSON`);
    }
    const { task_id: id, prompt, entry_point: entryPoint, test } = record;
    if (
      typeof id !== "string" ||
      typeof prompt !== "string" ||
      typeof entryPoint !== "string" ||
      typeof test !== "string"
    ) {
      throw new UsageError(
        `${path}:${index + 1}: expected string fields "task_id", "prompt", "entry_point" and "test"`,
      );
    }
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(entryPoint)) {
      throw new UsageError(`${path}:${index + 1}: entry_point "${entryPoint}" is not a Python name`);
    }
    problems.push({ id, question: prompt, gold: `check(${entryPoint})`, entryPoint, test });
    if (options.limit !== undefined && problems.length >= options.limit) break;
  }
  return problems;
}

/** The scoring program: the answer, the problem's test, and the call of `check` on the entry point. */
export const humanEvalProgram = (problem: HumanEvalProblem, program: string): string =>
  `${program}\n\n${problem.test}\n\ncheck(${problem.entryPoint})\n`;

/** Limits of a scoring run: HumanEval's own harness gives each problem a few seconds. */
const SCORING_LIMITS = { cpuMs: 6_000, wallMs: 20_000, memoryMb: 256 } as const;

/** Scores an answer in the Python sandbox: right when the problem's `check` raises nothing. */
export async function checkHumanEval(
  problem: HumanEvalProblem,
  program: string,
  signal?: AbortSignal,
): Promise<{ passed: boolean; run: PythonRun }> {
  const run = await runPython(humanEvalProgram(problem, program), {
    limits: SCORING_LIMITS,
    ...(signal && { signal }),
  });
  return { passed: run.ok && run.error === undefined, run };
}
