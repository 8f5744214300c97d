/**
 * Accuracy against compute on one set of GSM8K problems, at no model cost: replays cot, sc and
 * sc-greedy at several n (and asc, asc-greedy, asc-futility and sc-conf at the largest) from one
 * recording of seeded samples, so every point is measured on the same problems with the same samples
 * (paired). Writes the usual bench report and plot to --out.
 *
 *   npx tsx bench/gsm8k-curve.ts --recording bench/results/gsm8k/sc-n16-t0.3.calls.jsonl.gz \
 *     --limit 100 --temperature 0.3 --out bench/results/gsm8k-curve [--dataset FILE] [--n 1,2,4,8]
 *
 * Every call a variant makes must be in the recording: run the real `deliberate bench --record` of the
 * largest n first (`sc` and `sc-greedy` share samples 1.., and sc-greedy's greedy sample 0 is exactly
 * the call cot makes).
 */
import { spawnSync } from "node:child_process";
import { flag } from "./script-flags.js";

const recording = flag("recording");
const limit = flag("limit");
const out = flag("out");
const temperature = flag("temperature", "0.3");
const dataset = flag("dataset", "../shared/data/gsm8k/train.jsonl");
const ns = flag("n", "1,2,4,8")
  .split(",")
  .map((n) => Number(n));

const largest = Math.max(...ns);
const variants: Array<{ strategy: string; n?: number; label: string }> = [
  { strategy: "cot", label: "cot" },
  ...ns.map((n) => ({ strategy: "sc", n, label: `sc-n${n}` })),
  ...ns.filter((n) => n > 1).map((n) => ({ strategy: "sc-greedy", n, label: `sc-greedy-n${n}` })),
  ...["asc", "asc-greedy", "asc-futility", "sc-conf"].map((strategy) => ({
    strategy,
    n: largest,
    label: `${strategy}-n${largest}`,
  })),
];

for (const v of variants) {
  const args = [
    "tsx",
    "cli/bin.ts",
    "bench",
    "--dataset",
    dataset,
    "--format",
    "gsm8k",
    "--strategy",
    v.strategy,
    ...(v.n !== undefined ? ["--n", String(v.n)] : []),
    // cot decodes greedily whatever the flag says; the flag is part of every sampler's calls.
    ...(v.strategy === "cot" ? [] : ["--temperature", temperature]),
    "--limit",
    limit,
    "--max-tokens",
    "512",
    "--seed",
    "0",
    "--out",
    out,
    "--replay",
    recording,
    "--label",
    v.label,
  ];
  const run = spawnSync("npx", args, { encoding: "utf8" });
  if (run.status !== 0) throw new Error(`${v.label} failed (exit ${run.status}):\n${run.stderr}`);
  // The bench's closing line on stderr: "<label>: accuracy ..., tokens/problem, calls/problem, ...".
  const summary = run.stderr.split("\n").find((line) => line.startsWith(`${v.label}: accuracy`));
  process.stdout.write(`${summary ?? v.label}\n`);
}
