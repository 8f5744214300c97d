/**
 * The side-by-side report: per-run summaries of the per-problem records `compare.ts` writes, a
 * markdown table, and accuracy-vs-tokens and accuracy-vs-seconds plots drawn with the chart
 * `deliberate bench` uses.
 */
import { existsSync } from "node:fs";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { modelledSeconds, readSpeedTable, type SpeedTable } from "../../../src/bench/model-speeds.js";
import { pairedDifference } from "../../../src/bench/paired-difference.js";
import { paretoFront } from "../../../src/bench/pareto-front.js";
import { renderLineChart } from "../../../src/bench/svg-line-chart.js";
import { wilsonInterval } from "../../../src/bench/wilson-interval.js";
import { findModel } from "../../../src/models/catalog.js";

/** One problem of one run, as a line of `LABEL.results.jsonl`. */
export interface ComparisonRecord {
  id: number;
  gold: string;
  /** The shared extractor's reading of the final text; null when it found no number. */
  answer: string | null;
  correct: boolean;
  /** The final text the system answered with (cut to 2,000 characters). */
  text: string;
  /** HTTP status of the system's answer to the client. */
  status: number;
  error?: string;
  seconds: number;
  /** Counted upstream, at the counting proxy in front of `deliberate serve`. */
  promptTokens: number;
  completionTokens: number;
  upstreamRequests: number;
  modelCalls: number;
  /** Model outputs cut by max_tokens (see the report's notes for how each system's is read). */
  truncated: number;
  upstreamErrors: number[];
  /** The `usage` the system itself reported to the client, for comparison with the real count. */
  reportedPromptTokens: number | null;
  reportedCompletionTokens: number | null;
}

/** How a run was made, as `LABEL.meta.json`. */
export interface ComparisonMeta {
  label: string;
  system: "optillm" | "deliberate";
  /** The OptiLLM approach or the Deliberate strategy (with its n), as asked for. */
  method: string;
  /** The model name the system was asked for (`self_consistency-default`, `sc-8/default`). */
  requestModel: string;
  servedModel: string;
  /** Every model the server held (`default`, and `large` when auto had a large tier). */
  serverModels?: string[];
  dataset: string;
  maxTokens: number;
  prompt: string;
  command: string;
  /** Problems in flight at once (each with its own API key); absent in runs made one at a time. */
  concurrency?: number;
}

export interface RunSummary {
  label: string;
  meta?: ComparisonMeta;
  /** Problems summarised: those every run in the folder answered. */
  problems: number;
  /** Problems this run's file holds, the summarised ones and any beyond them. */
  problemsHeld: number;
  /** Each summarised problem's id and whether the run got it right, for paired comparisons. */
  correctById: Map<number, boolean>;
  accuracy: number;
  meanPromptTokens: number;
  meanCompletionTokens: number;
  meanTokens: number;
  meanCalls: number;
  meanSeconds: number;
  /**
   * Mean seconds the counted tokens take on the machine the speeds were measured on (prompt / prefill +
   * completion / decode, one stream): the same charge for both systems, whatever ran beside them.
   */
  meanModelledSeconds?: number;
  /** Problems with at least one model output cut by max_tokens. */
  truncatedShare: number;
  /** Problems the system answered with a non-2xx status. */
  errorShare: number;
  /** What the system reported as completion tokens, over what was counted upstream. */
  reportedCompletionShare: number | null;
}

export const RESULTS_SUFFIX = ".results.jsonl";
export const META_SUFFIX = ".meta.json";

const mean = (values: number[]): number =>
  values.length === 0 ? 0 : values.reduce((sum, value) => sum + value, 0) / values.length;

export function summarizeRun(
  label: string,
  records: ComparisonRecord[],
  meta?: ComparisonMeta,
  speeds?: SpeedTable,
  problemsHeld = records.length,
): RunSummary {
  const reported = records.filter((r) => r.reportedCompletionTokens !== null);
  const countedCompletion = reported.reduce((sum, r) => sum + r.completionTokens, 0);
  const meanPromptTokens = mean(records.map((r) => r.promptTokens));
  const meanCompletionTokens = mean(records.map((r) => r.completionTokens));
  // Every upstream call went to the one served model (under its catalogue name in the speeds table), and
  // seconds are linear in tokens, so the mean tokens give the mean modelled seconds.
  const model = meta && (findModel(meta.servedModel)?.name ?? meta.servedModel);
  const meanModelledSeconds =
    speeds && model !== undefined && records.length > 0
      ? modelledSeconds(
          { [model]: { promptTokens: meanPromptTokens, completionTokens: meanCompletionTokens } },
          speeds,
        )
      : undefined;
  return {
    label,
    ...(meta && { meta }),
    problems: records.length,
    problemsHeld,
    correctById: new Map(records.map((r) => [r.id, r.correct])),
    accuracy: mean(records.map((r) => (r.correct ? 1 : 0))),
    meanPromptTokens,
    meanCompletionTokens,
    meanTokens: meanPromptTokens + meanCompletionTokens,
    meanCalls: mean(records.map((r) => r.modelCalls)),
    meanSeconds: mean(records.map((r) => r.seconds)),
    ...(meanModelledSeconds !== undefined && { meanModelledSeconds }),
    truncatedShare: mean(records.map((r) => (r.truncated > 0 ? 1 : 0))),
    errorShare: mean(records.map((r) => (r.status >= 200 && r.status < 300 ? 0 : 1))),
    reportedCompletionShare:
      reported.length === 0 || countedCompletion === 0
        ? null
        : reported.reduce((sum, r) => sum + (r.reportedCompletionTokens ?? 0), 0) / countedCompletion,
  };
}

export async function readRecords(path: string): Promise<ComparisonRecord[]> {
  if (!existsSync(path)) return [];
  const text = await readFile(path, "utf8");
  // A line cut short by a kill is dropped: --resume runs that problem again.
  return text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as ComparisonRecord];
      } catch {
        return [];
      }
    });
}

/**
 * Every run in a results folder, OptiLLM's first, each in the order of its label, each summarised on
 * the problems every run answered: runs grow over several invocations (--resume, a larger --limit), and
 * accuracies on different problems would compare nothing. Empty runs are left out.
 */
export async function readRunSummaries(dir: string, speeds?: SpeedTable): Promise<RunSummary[]> {
  const files = (await readdir(dir)).filter((name) => name.endsWith(RESULTS_SUFFIX)).sort();
  const read: Array<{ label: string; meta?: ComparisonMeta; records: ComparisonRecord[] }> = [];
  for (const file of files) {
    const label = file.slice(0, -RESULTS_SUFFIX.length);
    const metaFile = join(dir, `${label}${META_SUFFIX}`);
    const meta = existsSync(metaFile)
      ? (JSON.parse(await readFile(metaFile, "utf8")) as ComparisonMeta)
      : undefined;
    const records = await readRecords(join(dir, file));
    if (records.length > 0) read.push({ label, ...(meta && { meta }), records });
  }
  const idsOf = read.map((run) => new Set(run.records.map((r) => r.id)));
  const common = new Set([...(idsOf[0] ?? [])].filter((id) => idsOf.every((ids) => ids.has(id))));
  const runs = read.map(({ label, meta, records }) =>
    summarizeRun(
      label,
      records.filter((r) => common.has(r.id)),
      meta,
      speeds,
      records.length,
    ),
  );
  const rank = (run: RunSummary) => (run.meta?.system === "optillm" ? 0 : 1);
  return runs.sort((a, b) => rank(a) - rank(b) || a.label.localeCompare(b.label));
}

const round = (value: number, digits: number): number => Number(value.toFixed(digits));
const distinctNumbers = (values: number[]): string => [...new Set(values)].sort((a, b) => a - b).join(", ");
const percent = (share: number): string => `${(share * 100).toFixed(1)}%`;
const interval = (run: RunSummary): string => {
  const { lower, upper } = wilsonInterval(run.accuracy, run.problems);
  return `${percent(lower)}–${percent(upper)}`;
};

/**
 * Every run as its own labelled point, and under them Deliberate's front: the best accuracy its
 * strategies reach at each cost or less, the curve the issue asks every OptiLLM point to lie below.
 */
function chart(runs: RunSummary[], x: (run: RunSummary) => number, title: string, xLabel: string): string {
  const deliberate = runs.filter((run) => run.meta?.system === "deliberate");
  const point = (run: RunSummary) => ({
    x: round(x(run), 1),
    y: round(run.accuracy * 100, 1),
    label: run.meta?.method ?? run.label,
  });
  const front = paretoFront(deliberate.map((run) => ({ ...point(run), cost: x(run), score: run.accuracy })));
  return renderLineChart({
    title,
    xLabel,
    yLabel: "accuracy (%)",
    width: 820,
    note: `${runs[0]?.problems ?? 0} problems, the same for every run`,
    series: runs.map((run) => ({
      label: `${run.meta?.system === "deliberate" ? "Deliberate" : "OptiLLM"} ${run.meta?.method ?? run.label}`,
      points: [point(run)],
    })),
    ...(front.length > 0 && {
      front: { label: "Deliberate's best at ≤ this cost", points: front.map(({ x, y }) => ({ x, y })) },
    }),
  });
}

/**
 * The issue's targets, read off the numbers: Deliberate's best against OptiLLM's best, and for each
 * OptiLLM approach the most accurate Deliberate strategy that spends no more real tokens.
 */
function targetLines(runs: RunSummary[]): string[] {
  const deliberate = runs.filter((run) => run.meta?.system === "deliberate");
  const optillm = runs.filter((run) => run.meta?.system === "optillm");
  if (deliberate.length === 0 || optillm.length === 0) return [];
  const best = (group: RunSummary[]) =>
    [...group].sort((a, b) => b.accuracy - a.accuracy || a.meanTokens - b.meanTokens)[0] as RunSummary;
  const ours = best(deliberate);
  const theirs = best(optillm);
  const points = (a: number, b: number) => `${((a - b) * 100).toFixed(1)} points`;
  // Problem by problem: how many only one of the two got right, and whether that split could be chance.
  const paired = (a: RunSummary, b: RunSummary) => {
    const d = pairedDifference(a.correctById, b.correctById);
    return `right only in ${a.label}: ${d.onlyFirst}, only in ${b.label}: ${d.onlySecond}; exact McNemar p = ${d.pValue.toFixed(2)}`;
  };
  const lines = [
    "## Targets",
    "",
    `- Best Deliberate: ${ours.label} at ${percent(ours.accuracy)} and ${ours.meanTokens.toFixed(0)} tokens; best OptiLLM: ` +
      `${theirs.label} at ${percent(theirs.accuracy)} and ${theirs.meanTokens.toFixed(0)} tokens: ${points(ours.accuracy, theirs.accuracy)} ` +
      `(target ≥ +5.0), at ${(ours.meanTokens / Math.max(theirs.meanTokens, 1)).toFixed(2)}× its tokens (target ≤ 1); ` +
      `${paired(ours, theirs)}.`,
  ];
  for (const run of optillm) {
    const cheaper = deliberate.filter((d) => d.meanTokens <= run.meanTokens);
    if (cheaper.length === 0) {
      lines.push(
        `- ${run.label}: no Deliberate strategy spent as few tokens (${run.meanTokens.toFixed(0)}).`,
      );
      continue;
    }
    const rival = best(cheaper);
    const verdict =
      rival.accuracy > run.accuracy ? "below the Deliberate curve" : "NOT below the Deliberate curve";
    lines.push(
      `- ${run.label} (${percent(run.accuracy)}, ${run.meanTokens.toFixed(0)} tokens): ${verdict}; ` +
        `${rival.label} does ${percent(rival.accuracy)} with ${rival.meanTokens.toFixed(0)} tokens (${points(rival.accuracy, run.accuracy)}; ${paired(rival, run)}).`,
    );
  }
  lines.push("");
  return lines;
}

export const TOKENS_CHART = "accuracy-vs-tokens.svg";
export const SECONDS_CHART = "accuracy-vs-seconds.svg";
export const MODELLED_SECONDS_CHART = "accuracy-vs-modelled-seconds.svg";

export interface ComparisonReportOptions {
  /** The command of this invocation, listed beside the commands the runs' metas keep. */
  command?: string;
  /** A speeds file (bench/measure-speeds.ts): adds modelled seconds, a column and a chart. */
  speedsPath?: string;
}

/** How many problems the report compares, and which runs hold more than that (left out until all do). */
function problemsLine(runs: RunSummary[]): string {
  const shared = runs[0]?.problems ?? 0;
  const beyond = runs.filter((run) => run.problemsHeld > run.problems);
  return (
    `Every number below is over the ${shared} problems every run answered.` +
    (beyond.length === 0
      ? ""
      : ` Left out until every run has them: ${beyond.map((run) => `${run.problemsHeld - run.problems} more of ${run.label}`).join(", ")}.`)
  );
}

export function renderComparisonReport(runs: RunSummary[], options: ComparisonReportOptions = {}): string {
  const { command, speedsPath } = options;
  // Only when every run has them: a column half empty would compare nothing.
  const modelled = runs.length > 0 && runs.every((run) => run.meanModelledSeconds !== undefined);
  const concurrency = distinctNumbers(runs.map((run) => run.meta?.concurrency ?? 1));
  const metas = runs.map((run) => run.meta).filter((meta): meta is ComparisonMeta => meta !== undefined);
  const distinct = (values: string[]) => [...new Set(values)].join(", ");
  const lines = [
    "# Deliberate vs OptiLLM, side by side",
    "",
    `Model: ${distinct(metas.map((m) => m.servedModel))} (server models: ${distinct(metas.flatMap((m) => m.serverModels ?? []))}). Dataset: ${distinct(metas.map((m) => m.dataset))}. ` +
      `max_tokens per model call: ${distinct(metas.map((m) => String(m.maxTokens)))}. ` +
      `Prompt: ${distinct(metas.map((m) => m.prompt))}.`,
    "",
    problemsLine(runs),
    "",
    // Runs may come from several invocations into one folder: each keeps the command that made it.
    "Commands:",
    "",
    "```sh",
    ...new Set([...metas.map((m) => m.command), ...(command === undefined ? [] : [command])]),
    "```",
    "",
    `| run | system | method | problems | accuracy | 95% interval | prompt tok | completion tok | total tok | calls | seconds |${modelled ? " modelled s |" : ""} truncated | errors | self-reported completion tok |`,
    `| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |${modelled ? " ---: |" : ""} ---: | ---: | ---: |`,
    ...runs.map((run) =>
      [
        run.label,
        run.meta?.system ?? "?",
        run.meta?.method ?? "?",
        run.problems,
        percent(run.accuracy),
        interval(run),
        run.meanPromptTokens.toFixed(0),
        run.meanCompletionTokens.toFixed(0),
        run.meanTokens.toFixed(0),
        run.meanCalls.toFixed(1),
        run.meanSeconds.toFixed(1),
        ...(modelled ? [run.meanModelledSeconds?.toFixed(1)] : []),
        percent(run.truncatedShare),
        percent(run.errorShare),
        run.reportedCompletionShare === null ? "—" : percent(run.reportedCompletionShare),
      ]
        .join(" | ")
        .replace(/^/, "| ")
        .concat(" |"),
    ),
    "",
    "`95% interval`: Wilson's interval of the accuracy on this many problems.",
    "Token, call and seconds columns are means per problem. Tokens and calls are counted upstream, at a",
    "counting proxy between the system and `deliberate serve` (the server's own `usage` of every",
    "response, which sums every model call behind it). An OptiLLM approach's calls to the bare model",
    "each pass the proxy; a Deliberate strategy's calls happen inside the server and arrive summed in",
    "its one response. `truncated`: problems with at least one model output cut by max_tokens (OptiLLM:",
    "upstream choices with finish_reason `length`; Deliberate: `sample` events with finish reason",
    "`length` in the run's trace, else a `length` finish). `errors`: problems the system answered with",
    "a non-2xx status. `self-reported`: the completion tokens the system's own `usage` claimed, as a",
    "share of those counted upstream (OptiLLM reports no prompt tokens at all).",
    `\`seconds\`: wall time of the client's request, with ${concurrency} problem(s) in flight at once.`,
    ...(modelled
      ? [
          `\`modelled s\`: the counted tokens at the served model's speeds measured in \`${speedsPath}\``,
          "(prompt / prefill + completion / decode, one stream at a time): one charge for both systems that",
          "does not depend on what else ran, or on how many problems shared the model.",
        ]
      : []),
    "",
    ...targetLines(runs),
    `![accuracy vs tokens](${TOKENS_CHART})`,
    "",
    `![accuracy vs seconds](${SECONDS_CHART})`,
    "",
    ...(modelled ? [`![accuracy vs modelled seconds](${MODELLED_SECONDS_CHART})`, ""] : []),
  ];
  return `${lines.join("\n")}`;
}

/** Writes report.md and the two plots from every run in `dir`; returns the report's path. */
export async function writeComparisonReport(
  dir: string,
  options: ComparisonReportOptions = {},
): Promise<string> {
  // A speeds file that was named but is missing is an error (readSpeedTable says which), not a
  // report quietly without its modelled-seconds column.
  const speeds = options.speedsPath !== undefined ? await readSpeedTable(options.speedsPath) : undefined;
  const runs = (await readRunSummaries(dir, speeds)).filter((run) => run.problems > 0);
  if (runs.length > 0) {
    await writeFile(
      join(dir, TOKENS_CHART),
      chart(
        runs,
        (r) => r.meanTokens,
        "Accuracy vs real tokens per problem",
        "mean tokens per problem (prompt + completion, counted upstream)",
      ),
    );
    await writeFile(
      join(dir, SECONDS_CHART),
      chart(runs, (r) => r.meanSeconds, "Accuracy vs wall seconds per problem", "mean seconds per problem"),
    );
    if (runs.every((r) => r.meanModelledSeconds !== undefined)) {
      await writeFile(
        join(dir, MODELLED_SECONDS_CHART),
        chart(
          runs,
          (r) => r.meanModelledSeconds ?? 0,
          "Accuracy vs modelled seconds per problem",
          "mean modelled seconds per problem (counted tokens at measured speeds)",
        ),
      );
    }
  }
  const path = join(dir, "report.md");
  await writeFile(
    path,
    renderComparisonReport(runs, {
      ...(options.command !== undefined && { command: options.command }),
      ...(speeds && options.speedsPath !== undefined && { speedsPath: options.speedsPath }),
    }),
  );
  return path;
}
