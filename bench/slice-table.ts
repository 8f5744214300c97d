/**
 * Accuracy and tokens of every bench run in a directory, split by slices of problem ids: e.g. the dev
 * slice a rule was chosen on against the problems that came after. Prints a markdown table.
 *
 *   npx tsx bench/slice-table.ts --dir bench/results/gsm8k-curve --slices 0-62,63-199
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { RESULTS_SUFFIX, readBenchResults } from "../src/bench/bench-report.js";
import { type ProblemResult, summarize } from "../src/bench/bench-runner.js";
import { flag } from "./script-flags.js";

const dir = flag("dir");
const slices = flag("slices")
  .split(",")
  .map((range) => {
    const [lo, hi] = range.split("-").map(Number);
    if (lo === undefined || hi === undefined || Number.isNaN(lo) || Number.isNaN(hi) || hi < lo)
      throw new Error(`--slices wants ranges like 0-62,63-199, got "${range}"`);
    return { label: range, lo, hi };
  });

const cell = (results: ProblemResult[]) => {
  if (results.length === 0) return "—";
  const { accuracy, problems, meanTokens } = summarize(results);
  return `${Math.round(accuracy * problems)}/${problems} · ${Math.round(meanTokens)} tok`;
};
console.log(`| run | ${slices.map((s) => s.label).join(" | ")} | all |`);
console.log(`| --- | ${slices.map(() => "---").join(" | ")} | --- |`);
for (const file of readdirSync(dir)
  .filter((f) => f.endsWith(RESULTS_SUFFIX))
  .sort()) {
  const results = await readBenchResults(join(dir, file));
  const inSlice = (s: { lo: number; hi: number }) =>
    results.filter((r) => Number(r.id) >= s.lo && Number(r.id) <= s.hi);
  const label = file.slice(0, -RESULTS_SUFFIX.length);
  console.log(`| ${label} | ${slices.map((s) => cell(inSlice(s))).join(" | ")} | ${cell(results)} |`);
}
