/**
 * Where `code-select`'s points come from: every candidate program of every problem, scored by the
 * problem's own `check`. Replays a recorded `code-select` run (no model), so each problem's greedy
 * program, sampled programs, tests and choice are the ones the run drew; then reports pass@1 of the
 * greedy program and of the chosen one, the unbiased pass@k of the sampled programs, how often any
 * candidate passed (what a perfect chooser would reach), and what the choice gained and lost against
 * greedy. Two other choosers are scored on the same runs for comparison only (they were not used to pick
 * anything shipped): the candidate passing the most docstring examples, and the largest group of
 * candidates that pass the same tests.
 *
 *   npx tsx bench/code-select-candidates.ts --dataset ../shared/data/humaneval/humaneval-dev.jsonl \
 *     --replay bench/results/humaneval/code-select.calls.jsonl [--n 8] [--max-tokens 512] [--seed 0] \
 *     [--out bench/results/humaneval/code-select-candidates.md]
 */
import { writeFileSync } from "node:fs";
import { pythonCodeFormat } from "../src/answers/python-code.js";
import { checkHumanEval } from "../src/bench/humaneval-dataset.js";
import { passAtK } from "../src/bench/pass-at-k.js";
import { codeSelect, groupsOfFirst } from "../src/strategies/code/code-select.js";
import { parseCodeSpec } from "../src/strategies/code/code-spec.js";
import { replayEachProblem } from "./replay-humaneval.js";
import { flag, numberFlag, optionalFlag } from "./script-flags.js";

const datasetPath = flag("dataset", "../shared/data/humaneval/humaneval-dev.jsonl");
const replayPath = flag("replay", "bench/results/humaneval/code-select.calls.jsonl");
const n = numberFlag("n", 8);
const maxTokens = numberFlag("max-tokens", 512);
const baseSeed = numberFlag("seed", 0);
const out = optionalFlag("out");

interface ProblemOutcome {
  id: string;
  /** Whether each candidate passed `check` (candidate 0 is the greedy program); false when it held no code. */
  passed: boolean[];
  chosen: number;
  /** Docstring examples each candidate passed. */
  examplesPassed: number[];
  /** The largest group's first member: the behaviour most candidates share. */
  largestGroupFirst: number;
  /** What dual agreement picks from the first k candidates only, by k (a smaller n on the same draws). */
  chosenWithFirst: Map<number, number>;
}

/** Smaller candidate counts scored on the same draws: the first k candidates (greedy and k - 1 samples). */
const SMALLER_N = [2, 3, 4, 6].filter((k) => k < n);

const outcomes: ProblemOutcome[] = [];
const { missing } = await replayEachProblem(
  codeSelect({ n }),
  { datasetPath, replayPath, maxTokens, baseSeed },
  async (problem, result) => {
    const { programs, groups, chosen } = result.details;
    const examples = parseCodeSpec(problem.question).examples.length;
    const verdicts = new Map<string, boolean>();
    const passed: boolean[] = [];
    for (const program of programs) {
      if (program === "") {
        passed.push(false);
        continue;
      }
      const key = pythonCodeFormat.canonical(program);
      const verdict = verdicts.get(key) ?? (await checkHumanEval(problem, program)).passed;
      verdicts.set(key, verdict);
      passed.push(verdict);
    }
    const examplesPassed = programs.map(() => 0);
    for (const group of groups) {
      for (const member of group.members)
        examplesPassed[member] = group.passedTests.filter((t) => t < examples).length;
    }
    const largest = [...groups].sort(
      (a, b) => b.members.length - a.members.length || (a.members[0] ?? 0) - (b.members[0] ?? 0),
    )[0];
    const chosenWithFirst = new Map(SMALLER_N.map((k) => [k, groupsOfFirst(groups, k)[0]?.members[0] ?? 0]));
    outcomes.push({
      id: problem.id,
      passed,
      chosen,
      examplesPassed,
      largestGroupFirst: largest?.members[0] ?? 0,
      chosenWithFirst,
    });
  },
);

const total = outcomes.length;
const count = (f: (o: ProblemOutcome) => boolean) => outcomes.filter(f).length;
const pct = (k: number) => `${k} / ${total} = ${((100 * k) / Math.max(1, total)).toFixed(1)}%`;
const mostExamples = (o: ProblemOutcome): number =>
  o.examplesPassed.reduce((best, e, i) => (e > (o.examplesPassed[best] ?? 0) ? i : best), 0);
const greedy = count((o) => o.passed[0] === true);
const chosen = count((o) => o.passed[o.chosen] === true);
const any = count((o) => o.passed.some(Boolean));
const fixed = count((o) => o.passed[0] === false && o.passed[o.chosen] === true);
const lost = count((o) => o.passed[0] === true && o.passed[o.chosen] === false);
const byExamples = count((o) => o.passed[mostExamples(o)] === true);
const byLargest = count((o) => o.passed[o.largestGroupFirst] === true);
const samples = n - 1;
const passAt = (k: number) =>
  outcomes.reduce((sum, o) => sum + passAtK(samples, o.passed.slice(1).filter(Boolean).length, k), 0) /
  Math.max(1, total);
const ks = [1, 2, 4, samples].filter((k, i, all) => k <= samples && all.indexOf(k) === i);
const lines = [
  "# code-select, candidate by candidate",
  "",
  `Replayed from \`${replayPath}\` (no model) on \`${datasetPath}\`; each problem's ${n} candidates (the greedy program and ${samples} samples) scored by the problem's own \`check\`.`,
  `${total} problems${missing > 0 ? ` (${missing} not in the recording, skipped)` : ""}.`,
  "",
  "| program | passed |",
  "|---|---|",
  `| greedy (candidate 0, \`code\`'s program) | ${pct(greedy)} |`,
  `| chosen by dual agreement (code-select's answer) | ${pct(chosen)} |`,
  `| any candidate (a perfect chooser) | ${pct(any)} |`,
  "",
  `Against greedy, the choice fixed ${fixed} problem(s) whose greedy program failed and lost ${lost} whose greedy program passed.`,
  "",
  `Unbiased pass@k of the ${samples} sampled programs (Chen et al. 2021), mean over problems:`,
  "",
  "| k | pass@k |",
  "|---|---|",
  ...ks.map((k) => `| ${k} | ${(100 * passAt(k)).toFixed(1)}% |`),
  "",
  `Dual agreement over the first k candidates only (the greedy program and k - 1 of the ${samples} samples, the same tests): what a smaller n would score on these draws. The samples were drawn as one batch of ${samples}, so this estimates a smaller n; it is not a separate run.`,
  "",
  "| k | passed | fixed | lost |",
  "|---|---|---|---|",
  ...SMALLER_N.map((k) => {
    const pick = (o: ProblemOutcome) => o.chosenWithFirst.get(k) ?? 0;
    return `| ${k} | ${pct(count((o) => o.passed[pick(o)] === true))} | ${count((o) => o.passed[0] === false && o.passed[pick(o)] === true)} | ${count((o) => o.passed[0] === true && o.passed[pick(o)] === false)} |`;
  }),
  `| ${n} | ${pct(chosen)} | ${fixed} | ${lost} |`,
  "",
  "Other choosers on the same candidates, for comparison only (nothing shipped was picked by them):",
  "",
  "| chooser | passed |",
  "|---|---|",
  `| most docstring examples passed, ties to the earliest candidate | ${pct(byExamples)} |`,
  `| largest group passing the same tests (majority behaviour) | ${pct(byLargest)} |`,
  "",
  "Command:",
  "",
  "```",
  `npx tsx bench/code-select-candidates.ts --dataset ${datasetPath} --replay ${replayPath} --n ${n} --max-tokens ${maxTokens} --seed ${baseSeed}${out ? ` --out ${out}` : ""}`,
  "```",
  "",
];
const report = lines.join("\n");
if (out) writeFileSync(out, report);
process.stdout.write(report);
