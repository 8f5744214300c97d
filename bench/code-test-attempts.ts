/**
 * Where `code-test`'s points come from: every attempt of every problem, scored by the problem's own
 * `check`. Replays a recorded `code-test` run (no model), so each problem's first program, repairs and
 * chosen program are the ones the run drew; then counts, per problem, whether the first program passed
 * (that is greedy `code`), whether any attempt did (what a perfect chooser would reach), and whether the
 * chosen one did — and what drove each repair (a failing docstring example, a crash, or only the model's
 * own tests, which may be wrong).
 *
 *   npx tsx bench/code-test-attempts.ts --dataset ../shared/data/humaneval/humaneval-dev.jsonl \
 *     --replay bench/results/humaneval/code-test.calls.jsonl [--max-tokens 512] [--seed 0] \
 *     [--out bench/results/humaneval/code-test-attempts.md]
 */
import { writeFileSync } from "node:fs";
import { checkHumanEval } from "../src/bench/humaneval-dataset.js";
import { type CodeAttempt, codeTest } from "../src/strategies/code/code-test.js";
import { replayEachProblem } from "./replay-humaneval.js";
import { flag, numberFlag, optionalFlag } from "./script-flags.js";

const datasetPath = flag("dataset", "../shared/data/humaneval/humaneval-dev.jsonl");
const replayPath = flag("replay", "bench/results/humaneval/code-test.calls.jsonl");
const maxTokens = numberFlag("max-tokens", 512);
const baseSeed = numberFlag("seed", 0);
const out = optionalFlag("out");

/** Why a repair was asked for: the attempt before it failed an example, crashed, or failed only model tests. */
type RepairCause = "example" | "crash" | "model-tests";
const causeOf = (a: CodeAttempt, examples: number): RepairCause =>
  a.programError !== undefined && a.examplesPassed + a.modelTestsPassed === 0
    ? "crash"
    : a.examplesPassed < examples
      ? "example"
      : "model-tests";

interface ProblemOutcome {
  id: string;
  attempts: boolean[];
  chosen: number;
  causes: RepairCause[];
}

const outcomes: ProblemOutcome[] = [];
const { missing } = await replayEachProblem(
  codeTest(),
  { datasetPath, replayPath, maxTokens, baseSeed },
  async (problem, result) => {
    const { attempts, chosen, examples } = result.details;
    const passed: boolean[] = [];
    for (const attempt of attempts) passed.push((await checkHumanEval(problem, attempt.program)).passed);
    outcomes.push({
      id: problem.id,
      attempts: passed,
      chosen,
      causes: attempts.slice(0, -1).map((a) => causeOf(a, examples.length)),
    });
  },
);

const n = outcomes.length;
const count = (f: (o: ProblemOutcome) => boolean) => outcomes.filter(f).length;
const pct = (k: number) => `${k} / ${n} = ${((100 * k) / Math.max(1, n)).toFixed(1)}%`;
const first = count((o) => o.attempts[0] === true);
const any = count((o) => o.attempts.some(Boolean));
const chosen = count((o) => o.attempts[o.chosen] === true);
const last = count((o) => o.attempts.at(-1) === true);
const fixed = count((o) => o.attempts[0] === false && o.attempts[o.chosen] === true);
const broken = count((o) => o.attempts[0] === true && o.attempts[o.chosen] === false);
const repairedAway = count((o) => o.attempts[0] === true && o.attempts.length > 1);
const causeCounts = new Map<RepairCause, { total: number; fromRight: number }>();
for (const o of outcomes) {
  o.causes.forEach((cause, i) => {
    const c = causeCounts.get(cause) ?? { total: 0, fromRight: 0 };
    c.total++;
    if (o.attempts[i] === true) c.fromRight++;
    causeCounts.set(cause, c);
  });
}
const lines = [
  "# code-test, attempt by attempt",
  "",
  `Replayed from \`${replayPath}\` (no model) on \`${datasetPath}\`; every attempt scored by the problem's own \`check\`.`,
  `${n} problems${missing > 0 ? ` (${missing} not in the recording, skipped)` : ""}.`,
  "",
  "| program | passed |",
  "|---|---|",
  `| first (greedy \`code\`) | ${pct(first)} |`,
  `| chosen (code-test's answer) | ${pct(chosen)} |`,
  `| last attempt | ${pct(last)} |`,
  `| any attempt (a perfect chooser) | ${pct(any)} |`,
  "",
  `Repairs fixed ${fixed} problems and lost ${broken} whose first program was right; ${repairedAway} right first programs were rewritten at all. (A repair that returned the same program ends the loop and is not an attempt.)`,
  "",
  "| a repaired program was written because the attempt before | programs | of them, after a right program |",
  "|---|---|---|",
  ...(["example", "crash", "model-tests"] as const).map(
    (cause) =>
      `| ${cause === "example" ? "failed a docstring example" : cause === "crash" ? "crashed before any test passed" : "failed only model-written tests"} | ${causeCounts.get(cause)?.total ?? 0} | ${causeCounts.get(cause)?.fromRight ?? 0} |`,
  ),
  "",
  "Command:",
  "",
  "```",
  `npx tsx bench/code-test-attempts.ts --dataset ${datasetPath} --replay ${replayPath} --max-tokens ${maxTokens} --seed ${baseSeed}${out ? ` --out ${out}` : ""}`,
  "```",
  "",
];
const report = lines.join("\n");
if (out) writeFileSync(out, report);
process.stdout.write(report);
