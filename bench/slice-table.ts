/**
 * Accuracy and tokens of every bench run in a directory, split by slices of problem ids: e.g. the dev
 * slice a rule was chosen on against the problems that came after. Prints a markdown table.
 *
 *   npx tsx bench/slice-table.ts --dir bench/results/gsm8k-curve --slices 0-62,63-199
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
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

interface Row {
  id: number | string;
  correct: boolean;
  usage: { promptTokens: number; completionTokens: number };
}

const files = readdirSync(dir)
  .filter((f) => f.endsWith(".results.jsonl"))
  .sort();
const cell = (rows: Row[]) => {
  const right = rows.filter((r) => r.correct).length;
  const tokens = rows.reduce((sum, r) => sum + r.usage.promptTokens + r.usage.completionTokens, 0);
  return rows.length === 0 ? "—" : `${right}/${rows.length} · ${Math.round(tokens / rows.length)} tok`;
};
console.log(`| run | ${slices.map((s) => s.label).join(" | ")} | all |`);
console.log(`| --- | ${slices.map(() => "---").join(" | ")} | --- |`);
for (const file of files) {
  const rows = readFileSync(join(dir, file), "utf8")
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as Row);
  const inSlice = (s: { lo: number; hi: number }) =>
    rows.filter((r) => Number(r.id) >= s.lo && Number(r.id) <= s.hi);
  const label = file.replace(/\.results\.jsonl$/, "");
  console.log(`| ${label} | ${slices.map((s) => cell(inSlice(s))).join(" | ")} | ${cell(rows)} |`);
}
