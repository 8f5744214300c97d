/**
 * Accuracy against modelled seconds for bench result files: each problem's model time is its tokens
 * at the speeds measured on this machine (prompt / prefill + completion / decode, per model, from
 * bench/measure-speeds.ts), the same axis `auto`'s policy is fitted on. For runs whose wall seconds
 * say nothing (a shared machine, calls answered from an earlier recording), this is the fair axis; it
 * leaves out sandbox time and assumes no prefix-cache reuse.
 *
 *   npx tsx bench/modelled-seconds.ts [--speeds bench/results/auto-eval/speeds.json] [--common] \
 *     bench/results/humaneval/code.results.jsonl bench/results/humaneval/code-test.results.jsonl
 */
import { existsSync, readFileSync } from "node:fs";
import { basename } from "node:path";
import { parseBenchResults } from "../src/bench/bench-report.js";
import { meanCost, readSpeeds } from "./auto-policy.js";
import type { CallCost } from "./record-auto-actions.js";
import { flag } from "./script-flags.js";

const speedsPath = flag("speeds", "bench/results/auto-eval/speeds.json");
const speeds = readSpeeds(speedsPath);
const files = process.argv.slice(2).filter((a, i, all) => !a.startsWith("--") && all[i - 1] !== "--speeds");
if (files.length === 0) throw new Error("name one or more *.results.jsonl files");

const rowsByFile = files.map((path) => parseBenchResults(readFileSync(path, "utf8"), path));
// --common: only the problems every run finished, so a partial run is compared on its own problems.
const idSets = rowsByFile.map((rows) => new Set(rows.map((r) => String(r.id))));
const common = process.argv.includes("--common")
  ? new Set([...(idSets[0] ?? [])].filter((id) => idSets.every((ids) => ids.has(id))))
  : undefined;

const runs = files.map((path, i) => {
  const rows = (rowsByFile[i] ?? []).filter((r) => common === undefined || common.has(String(r.id)));
  // Older results carry no per-model usage: their run's one model (from its meta file) spent it all.
  const metaPath = path.replace(/\.results\.jsonl$/, ".meta.json");
  const runModel = existsSync(metaPath)
    ? (JSON.parse(readFileSync(metaPath, "utf8")) as { model?: string }).model
    : undefined;
  const calls = rows.map((r): CallCost[] => {
    const byModel =
      r.usage.byModel ??
      (runModel !== undefined
        ? { [runModel]: { promptTokens: r.usage.promptTokens, completionTokens: r.usage.completionTokens } }
        : undefined);
    if (!byModel)
      throw new Error(`${path}: problem ${r.id} has no per-model usage and no meta file names the model`);
    return Object.entries(byModel).map(([model, u]) => ({
      model,
      promptTokens: u.promptTokens,
      completionTokens: u.completionTokens,
      reused: false,
    }));
  });
  const cost = meanCost(calls, speeds);
  return {
    label: basename(path).replace(/\.results\.jsonl$/, ""),
    problems: rows.length,
    right: rows.filter((r) => r.correct).length,
    seconds: cost.seconds,
    flopTokens: cost.flopTokens,
  };
});

const lines = [
  `| run | problems | accuracy | mean modelled seconds | B-param tokens |`,
  "|---|---|---|---|---|",
  ...runs.map(
    (r) =>
      `| ${r.label} | ${r.problems} | ${((100 * r.right) / Math.max(1, r.problems)).toFixed(1)}% (${r.right}/${r.problems}) | ${r.seconds.toFixed(1)} | ${r.flopTokens.toFixed(0)} |`,
  ),
  "",
  `Speeds: \`${speedsPath}\`. Command: \`npx tsx bench/modelled-seconds.ts ${process.argv.slice(2).join(" ")}\``,
  "",
];
process.stdout.write(lines.join("\n"));
