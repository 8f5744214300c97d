/**
 * How early could self-consistency stop on these samples? Reads a `sample-accuracy.ts --dump` file
 * (each problem's canonical sample answers in seed order, and their confidences if dumped) and, with
 * no model, reports for each stopping rule the accuracy, mean samples drawn and agreement with the
 * full vote, next to an oracle bound: the fewest samples after which the running winner already is,
 * and stays, the full vote's winner.
 *
 *   npx tsx bench/stopping-analysis.ts --dump samples.jsonl [--n 16] [--round-size 2]
 */
import { readFileSync } from "node:fs";
import { type SampleRecord, tally } from "../src/strategies/self-consistency.js";
import { type StoppingRule, shouldStop } from "../src/strategies/stopping-rules.js";
import { futilityStopping } from "../src/strategies/vote-settings.js";
import { flag } from "./script-flags.js";

const n = Number(flag("n", "16"));
const roundSize = Number(flag("round-size", "2"));
const problems = readFileSync(flag("dump"), "utf8")
  .trim()
  .split("\n")
  .map(
    (line) =>
      JSON.parse(line) as {
        id: number;
        gold: string;
        answers: Array<string | null>;
        confidences?: Array<number | null>;
      },
  )
  .filter((p) => p.answers.length >= n);
type Problem = (typeof problems)[number];

// The first `count` samples, with their confidences when the dump has them: they break vote ties.
const records = (p: Problem, count: number): SampleRecord[] =>
  p.answers.slice(0, count).map((answer, index) => ({
    index,
    answer: answer ?? undefined,
    confidence: p.confidences?.[index] ?? undefined,
    counted: true,
  }));
const winner = (p: Problem, count: number) => tally(records(p, count), false)[0]?.answer;

/** Samples drawn (in rounds, as the strategy does) before `rule` stops, and the winner then. */
function stopWith(rule: StoppingRule, p: Problem): { drawn: number; answer?: string } {
  let drawn = 0;
  while (drawn < n) {
    drawn = Math.min(n, drawn + roundSize);
    const ranked = tally(records(p, drawn), false);
    const sequence = p.answers.slice(0, drawn).map((a) => a ?? undefined);
    if (shouldStop(rule, { ranked, drawn, remaining: n - drawn, sequence }).stop) break;
  }
  return { drawn, answer: winner(p, drawn) };
}

const rules: Array<[string, StoppingRule]> = [
  ["none (fixed n)", { kind: "none" }],
  ["leader cannot be overtaken", { kind: "leader" }],
  ["beta 0.95 (asc default)", { kind: "beta", confidence: 0.95, minSamples: 3 }],
  ["beta 0.90", { kind: "beta", confidence: 0.9, minSamples: 3 }],
  ["beta 0.80", { kind: "beta", confidence: 0.8, minSamples: 3 }],
  ["window 3", { kind: "window", window: 3 }],
  ["window 4", { kind: "window", window: 4 }],
  ["asc-futility (beta 0.70, or futile at n/2)", futilityStopping(n)],
];

const pct = (x: number) => `${(x * 100).toFixed(0)}%`;
console.log(`${problems.length} problems, n = ${n}, rounds of ${roundSize}\n`);
console.log("| rule | accuracy | mean samples | share of n | agrees with full vote |");
console.log("|---|---|---|---|---|");
for (const [name, rule] of rules) {
  let right = 0;
  let drawn = 0;
  let agree = 0;
  for (const p of problems) {
    const stop = stopWith(rule, p);
    drawn += stop.drawn;
    if (stop.answer === p.gold) right++;
    if (stop.answer === winner(p, n)) agree++;
  }
  const mean = drawn / problems.length;
  console.log(
    `| ${name} | ${right}/${problems.length} | ${mean.toFixed(2)} | ${pct(mean / n)} | ${agree}/${problems.length} |`,
  );
}

// No causal rule that keeps the full vote's answer can stop before this, problem by problem.
let oracle = 0;
let majority = 0;
for (const p of problems) {
  const full = winner(p, n);
  let k = n;
  while (k > 1 && winner(p, k - 1) === full) k--;
  oracle += k;
  const votes = p.answers.slice(0, n).filter((a) => a !== null && a === full).length;
  if (votes * 2 > n) majority++;
}
const mean = oracle / problems.length;
console.log(
  `\nOracle (stops at the first sample after which the running winner stays the full vote's): ` +
    `${mean.toFixed(2)} samples, ${pct(mean / n)} of n.`,
);
console.log(
  `Problems whose full-vote winner holds a majority of the ${n} samples: ${majority}/${problems.length}.`,
);
