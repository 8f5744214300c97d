import { appendFileSync } from "node:fs";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { UsageError } from "../core/errors.js";
import { makeDirectory } from "../core/make-directory.js";
import { type BenchSummary, type ModelUsage, type ProblemResult, summarize } from "./bench-runner.js";
import { modelledSeconds, type SpeedTable } from "./model-speeds.js";
import { paretoFront } from "./pareto-front.js";
import { type ChartSeries, renderLineChart } from "./svg-line-chart.js";

/** How one run was made, stored beside its results so the report can say how to reproduce it. */
export interface BenchRunMeta {
  label: string;
  /** Catalogue name of the strategy, e.g. "sc". */
  strategy: string;
  n?: number;
  /** Dataset path as given on the command line. */
  dataset: string;
  format: string;
  /** The model(s) that answered. */
  model: string;
  /** The model the backend was asked for (an endpoint may answer under another name). */
  requestedModel?: string;
  backend: string;
  /** The exact command that produced the run. */
  command: string;
  seed: number;
  concurrency: number;
  limit?: number;
  /** Problems skipped at the start of the dataset. */
  offset?: number;
  /** The large tier's model, when the run had one (strategies that escalate). */
  largeModel?: string;
  budgetTokens?: number;
  maxTokens?: number;
  /** Sampling temperature every call was given, when the run set one. */
  temperature?: number;
  /** ISO timestamps. */
  startedAt: string;
  finishedAt: string;
  /** Wall time of the whole run (problems overlap when concurrency > 1); summed over resumed parts. */
  elapsedMs: number;
  /** Set while the run is under way or was interrupted: results hold only the problems finished. */
  partial?: boolean;
  /** The recording the run was answered from, when it replayed recorded model calls. */
  replayOf?: string;
  /** The recording every model call of the run was appended to. */
  recordedTo?: string;
}

export interface BenchRun {
  label: string;
  /** Missing when results were written without a meta file. */
  meta: BenchRunMeta | undefined;
  summary: BenchSummary;
  /** Mean tokens and calls per problem by the model that spent them, where results recorded it. */
  byModel?: Record<string, ModelUsage>;
  /** Mean modelled seconds per problem (tokens at measured speeds), when speeds were given and cover its models. */
  meanModelledSeconds?: number;
}

/** Measured model speeds a report charges tokens at, and the file they came from (named in the report). */
export interface ReportSpeeds {
  path: string;
  table: SpeedTable;
}

export const REPORT_FILE = "report.md";
/** The primary chart: accuracy against mean wall seconds per problem on the machine that ran it. */
export const SECONDS_CHART_FILE = "accuracy-vs-seconds.svg";
/** Accuracy against modelled seconds (tokens at measured speeds), drawn when the report is given speeds. */
export const MODELLED_SECONDS_CHART_FILE = "accuracy-vs-modelled-seconds.svg";
/** Accuracy against tokens weighted by model size (tokens × parameters in billions). */
export const FLOP_CHART_FILE = "accuracy-vs-flop-tokens.svg";
export const RESULTS_SUFFIX = ".results.jsonl";
const META_SUFFIX = ".meta.json";

/** Labels become file names, so they are kept to characters that are safe everywhere. */
export const isValidLabel = (label: string): boolean => /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(label);

function checkLabel(label: string): void {
  if (!isValidLabel(label)) {
    throw new UsageError(`label "${label}" must be letters, digits, ".", "_" or "-" (it names files)`);
  }
}

export const resultsPath = (dir: string, label: string): string => join(dir, `${label}${RESULTS_SUFFIX}`);
export const metaPath = (dir: string, label: string): string => join(dir, `${label}${META_SUFFIX}`);

/** Writes one run's results (one JSON object per line) and its meta; replaces an earlier run of the label. */
export async function writeBenchRun(
  dir: string,
  label: string,
  results: ProblemResult[],
  meta: BenchRunMeta,
): Promise<void> {
  checkLabel(label);
  await makeDirectory(dir);
  await writeFile(resultsPath(dir, label), results.map((r) => `${JSON.stringify(r)}\n`).join(""));
  await writeFile(metaPath(dir, label), `${JSON.stringify(meta, null, 2)}\n`);
}

/**
 * Starts the results file of a run: it is rewritten to hold only `kept` (the problems a resumed run
 * already finished), and `append` then adds each result as it finishes, so an interrupted run loses
 * nothing it finished.
 */
export async function startBenchResults(
  dir: string,
  label: string,
  kept: ProblemResult[],
): Promise<{ append: (result: ProblemResult) => void }> {
  checkLabel(label);
  await makeDirectory(dir);
  const path = resultsPath(dir, label);
  await writeFile(path, kept.map((r) => `${JSON.stringify(r)}\n`).join(""));
  return { append: (result) => appendFileSync(path, `${JSON.stringify(result)}\n`) };
}

/** Writes a run's meta on its own, e.g. marked partial when the run starts. */
export async function writeBenchMeta(dir: string, label: string, meta: BenchRunMeta): Promise<void> {
  checkLabel(label);
  await makeDirectory(dir);
  await writeFile(metaPath(dir, label), `${JSON.stringify(meta, null, 2)}\n`);
}

/** What an earlier run of `label` left in `dir`: its results and meta (both empty when there is none). */
export async function readBenchRun(
  dir: string,
  label: string,
): Promise<{ results: ProblemResult[]; meta: BenchRunMeta | undefined }> {
  const results = await readBenchResults(resultsPath(dir, label)).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return [];
    throw error;
  });
  return { results, meta: await readMeta(metaPath(dir, label)) };
}

/** Reads a results file back; a malformed line is named by file and line number. */
export async function readBenchResults(path: string): Promise<ProblemResult[]> {
  return parseBenchResults(await readFile(path, "utf8"), path);
}

/** A results file's text as problems; `path` names the file in the error for a malformed line. */
export function parseBenchResults(text: string, path: string): ProblemResult[] {
  const results: ProblemResult[] = [];
  for (const [i, line] of text.split("\n").entries()) {
    if (!line.trim()) continue;
    try {
      results.push(JSON.parse(line) as ProblemResult);
    } catch {
      throw new Error(`${path}:${i + 1}: not valid JSON`);
    }
  }
  return results;
}

async function readMeta(path: string): Promise<BenchRunMeta | undefined> {
  try {
    return JSON.parse(await readFile(path, "utf8")) as BenchRunMeta;
  } catch {
    return undefined;
  }
}

/**
 * Every run in `dir`, cheapest first (by mean tokens per problem), then by label; with `speeds`, each
 * run's mean modelled seconds too.
 */
export async function readBenchRuns(dir: string, speeds?: SpeedTable): Promise<BenchRun[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith(RESULTS_SUFFIX)).sort();
  const runs = await Promise.all(
    files.map(async (file): Promise<BenchRun> => {
      const label = file.slice(0, -RESULTS_SUFFIX.length);
      const results = await readBenchResults(join(dir, file));
      const meta = await readMeta(metaPath(dir, label));
      const byModel = meanByModel(results);
      const seconds = speeds && meanModelledSeconds(results, speeds, meta?.model);
      return {
        label,
        meta,
        summary: { ...summarize(results, meta && { model: meta.model }), strategy: label },
        ...(byModel && { byModel }),
        ...(seconds !== undefined && { meanModelledSeconds: seconds }),
      };
    }),
  );
  return runs.sort((a, b) => a.summary.meanTokens - b.summary.meanTokens || (a.label < b.label ? -1 : 1));
}

/** Mean per-model usage over a run's problems; undefined when its results did not record it. */
function meanByModel(results: ProblemResult[]): Record<string, ModelUsage> | undefined {
  if (results.length === 0 || results.some((r) => r.usage.byModel === undefined)) return undefined;
  const sums: Record<string, ModelUsage> = {};
  for (const r of results) {
    for (const [model, spent] of Object.entries(r.usage.byModel ?? {})) {
      const sum = sums[model] ?? { promptTokens: 0, completionTokens: 0, calls: 0 };
      sums[model] = {
        promptTokens: sum.promptTokens + spent.promptTokens / results.length,
        completionTokens: sum.completionTokens + spent.completionTokens / results.length,
        calls: sum.calls + spent.calls / results.length,
      };
    }
  }
  return sums;
}

/**
 * Mean modelled seconds per problem; results without per-model usage are charged to the run's model.
 * Undefined when a problem's model has no measured speed (or the run has no problems).
 */
function meanModelledSeconds(
  results: ProblemResult[],
  speeds: SpeedTable,
  runModel: string | undefined,
): number | undefined {
  let total = 0;
  for (const { usage } of results) {
    const byModel = usage.byModel ?? (runModel === undefined ? undefined : { [runModel]: usage });
    const seconds = byModel && modelledSeconds(byModel, speeds);
    if (seconds === undefined) return undefined;
    total += seconds;
  }
  return results.length === 0 ? undefined : total / results.length;
}

/** One line of a chart: the runs of one strategy that differ only in n (and the n of each). */
export interface Sweep {
  label: string;
  runs: Array<{ run: BenchRun; n: number | undefined }>;
}

// "sc-n8" and "sc-n8-t0.3" name n = 8 of the sweeps "sc" and "sc-t0.3".
const N_IN_LABEL = /-n(\d+)(?=$|-)/;

/**
 * Groups runs into sweeps: labels that differ only by their `-nN` part (or a bare label whose meta
 * gives n), on the same model. Sweeps keep the order of their first run.
 */
export function groupSweeps(runs: BenchRun[]): Sweep[] {
  const sweeps = new Map<string, Sweep>();
  for (const run of runs) {
    const match = N_IN_LABEL.exec(run.label);
    const base = match ? run.label.replace(N_IN_LABEL, "") : run.label;
    const n = match ? Number(match[1]) : run.meta?.n;
    const key = `${base}\u0000${run.meta?.model ?? ""}\u0000${run.meta?.largeModel ?? ""}`;
    const sweep = sweeps.get(key) ?? { label: base, runs: [] };
    sweep.runs.push({ run, n });
    sweeps.set(key, sweep);
  }
  return [...sweeps.values()];
}

/** A cost a run can be charted by: how to read it, and why a run has none. */
interface CostAxis {
  file: string;
  title: string;
  xLabel: string;
  /** The name the report uses, e.g. "mean wall seconds". */
  name: string;
  cost: (run: BenchRun) => number | undefined;
  /** Why runs without a cost are left out. */
  missing: string;
}

const SECONDS_AXIS: CostAxis = {
  file: SECONDS_CHART_FILE,
  title: "Accuracy vs wall seconds per problem",
  xLabel: "mean wall seconds per problem (log scale)",
  name: "mean wall seconds",
  // A replay's wall time is the replay's, not the model's: it would put a run near zero cost.
  cost: (run) =>
    run.meta?.replayOf || run.summary.meanWallMs <= 0 ? undefined : run.summary.meanWallMs / 1000,
  missing: "replayed, so no wall time of their own",
};

const MODELLED_SECONDS_AXIS: CostAxis = {
  file: MODELLED_SECONDS_CHART_FILE,
  title: "Accuracy vs modelled seconds per problem",
  xLabel: "mean modelled seconds per problem: tokens at measured speeds (log scale)",
  name: "mean modelled seconds",
  cost: (run) => run.meanModelledSeconds,
  missing: "no measured speed for a model they used",
};

const FLOP_AXIS: CostAxis = {
  file: FLOP_CHART_FILE,
  title: "Accuracy vs B-param tokens per problem",
  xLabel: "mean tokens × model parameters (billions) per problem (log scale)",
  name: "B-param tokens",
  cost: (run) =>
    run.summary.meanFlopTokens === undefined || run.summary.meanFlopTokens <= 0
      ? undefined
      : run.summary.meanFlopTokens,
  missing: "model size unknown",
};

/** What a chart of `runs` against one cost shows: the drawn runs, the Pareto front, and who is left out. */
interface CostChart {
  svg: string;
  front: BenchRun[];
  leftOut: BenchRun[];
}

/**
 * Accuracy (%) against a cost: each sweep one line (points labelled by n), a single run one labelled
 * marker, and the Pareto front (runs no other run beats on both accuracy and cost) as a dashed step
 * line. Runs without the cost are left out and named in a note.
 */
function renderCostChart(runs: BenchRun[], axis: CostAxis): CostChart {
  const placed = runs.flatMap((run) => {
    const cost = axis.cost(run);
    return cost === undefined ? [] : [{ run, cost, score: run.summary.accuracy }];
  });
  const shown = new Set(placed.map((p) => p.run));
  const leftOut = runs.filter((run) => !shown.has(run));
  const costOf = new Map(placed.map((p) => [p.run, p.cost]));
  const point = (run: BenchRun, label: string) => ({
    x: round(costOf.get(run) as number, 3),
    y: round(run.summary.accuracy * 100, 1),
    label,
  });
  const series: ChartSeries[] = groupSweeps(runs.filter((run) => shown.has(run))).map(({ label, runs }) => {
    const [only] = runs;
    return runs.length === 1 && only
      ? { label: only.run.label, points: [point(only.run, only.run.label)] }
      : {
          label: `${label} (by n)`,
          points: runs.map(({ run, n }) => point(run, n === undefined ? run.label : `n=${n}`)),
        };
  });
  const front = paretoFront(placed).map((p) => p.run);
  const models = distinct(runs.flatMap((r) => [r.meta?.model, r.meta?.largeModel]));
  const svg = renderLineChart({
    title: `${axis.title}${models.length === 1 ? `, ${models[0]}` : ""}`,
    xLabel: axis.xLabel,
    yLabel: "accuracy (%)",
    logX: true,
    xTicks: "round",
    yFromZero: false,
    height: 520,
    series,
    ...(front.length > 0 && { front: { label: "Pareto front", points: front.map((run) => point(run, "")) } }),
    ...(leftOut.length > 0 && {
      note: `Not shown (${axis.missing}): ${leftOut.map((run) => run.label).join(", ")}`,
    }),
  });
  return { svg, front, leftOut };
}

const round = (value: number, digits: number): number => Number(value.toFixed(digits));

const distinct = (values: Array<string | undefined>): string[] =>
  [...new Set(values.filter((v): v is string => v !== undefined))].sort();

const percent = (share: number): string => `${(share * 100).toFixed(1)}%`;

/** Table cells must not break the table: pipes escaped, newlines flattened. */
const cell = (text: string): string => text.replace(/\|/g, "\\|").replace(/\s*\n\s*/g, " ");

export interface BenchReportOptions {
  generatedAt?: Date;
  /** Charge tokens at these measured speeds: a modelled-seconds column, chart and Pareto front. */
  speeds?: ReportSpeeds;
}

/** The cost axes a report charts: wall seconds, modelled seconds where speeds were given, B-param tokens. */
const axesOf = (options: BenchReportOptions): CostAxis[] =>
  options.speeds ? [SECONDS_AXIS, MODELLED_SECONDS_AXIS, FLOP_AXIS] : [SECONDS_AXIS, FLOP_AXIS];

/** The markdown report of the runs in one directory. */
export function renderBenchReport(runs: BenchRun[], options: BenchReportOptions = {}): string {
  const metas = runs.map((r) => r.meta).filter((m): m is BenchRunMeta => m !== undefined);
  const datasets = distinct(metas.map((m) => m.dataset));
  const models = distinct(
    metas.map((m) => `${m.model} (${m.backend})${m.largeModel ? `, large tier ${m.largeModel}` : ""}`),
  );
  const formats = distinct(metas.map((m) => m.format));
  const dates = distinct(metas.flatMap((m) => [m.startedAt.slice(0, 10), m.finishedAt.slice(0, 10)]));
  const commands = [...new Set(metas.map((m) => m.command))];
  const problemCounts = new Set(runs.map((r) => r.summary.problems));
  const generatedAt = (options.generatedAt ?? new Date()).toISOString();

  const list = (values: string[]): string =>
    values.length === 0 ? "unknown" : values.map((v) => `\`${v}\``).join(", ");
  // Sandbox runs and repairs get columns only where some run made them (the code strategies).
  const withTools = runs.some((run) => run.summary.meanToolCalls > 0 || run.summary.meanRepairs > 0);
  const rows = runs.map((run) => {
    const s = run.summary;
    const correct = Math.round(s.accuracy * s.problems);
    const marks = `${run.meta?.replayOf ? " (replayed)" : ""}${run.meta?.partial ? " (partial)" : ""}`;
    const tools = withTools ? ` ${s.meanToolCalls.toFixed(2)} | ${s.meanRepairs.toFixed(2)} |` : "";
    const flop = s.meanFlopTokens === undefined ? "–" : s.meanFlopTokens.toFixed(0);
    const modelled = options.speeds ? ` ${run.meanModelledSeconds?.toFixed(2) ?? "–"} |` : "";
    return `| ${cell(run.label)}${marks} | ${s.problems} | ${percent(s.accuracy)} (${correct}/${s.problems}) | ${s.meanTokens.toFixed(0)} | ${s.meanCompletionTokens.toFixed(0)} | ${s.meanCalls.toFixed(2)} | ${(s.meanWallMs / 1000).toFixed(2)} |${modelled} ${flop} | ${s.errors} |${tools}`;
  });

  const lines = [
    "# Benchmark: accuracy vs compute",
    "",
    `- Dataset: ${list(datasets)}${formats.length > 0 ? ` (format ${formats.join(", ")})` : ""}`,
    `- Model: ${list(models)}`,
    `- Run on: ${dates.length === 0 ? "unknown" : dates.join(" to ")}; report generated ${generatedAt}`,
    "",
  ];
  if (datasets.length > 1 || problemCounts.size > 1) {
    lines.push("> Runs differ in dataset or number of problems, so rows are not strictly comparable.", "");
  }
  lines.push(
    `Command${commands.length === 1 ? "" : "s"}:`,
    "",
    "```",
    ...(commands.length === 0 ? ["(not recorded)"] : commands),
    "```",
    "",
    `| strategy | problems | accuracy | mean tokens | mean completion tokens | mean calls | mean wall s |${options.speeds ? " mean modelled s |" : ""} B-param tokens | errors |${withTools ? " mean tool calls | mean repairs |" : ""}`,
    `|---|---|---|---|---|---|---|${options.speeds ? "---|" : ""}---|---|${withTools ? "---|---|" : ""}`,
    ...rows,
    "",
    "Tokens are per problem, prompt plus completion. Wall time is per problem; with concurrency above 1",
    "problems overlap, so it includes time spent sharing the model. B-param tokens weigh tokens by the",
    "size of the model that spent them (tokens × parameters in billions, summed over the models a problem",
    "used), so tokens of a 0.5B and a 1.5B model compare; – where a model's size is unknown.",
    "",
  );
  if (options.speeds) {
    lines.push(
      `Modelled seconds charge each problem's tokens at the speeds measured in \`${options.speeds.path}\`: prompt`,
      "tokens / prefill speed + completion tokens / decode speed of the model that spent them, one stream",
      "at a time. They leave out sandbox and judge time and prefix-cache reuse, and they do not depend on",
      "what else the machine ran or on calls answered from a recording, which wall seconds do; – where a",
      "model has no measured speed.",
      "",
    );
  }
  const mixed = runs.filter((r) => Object.keys(r.byModel ?? {}).length > 1);
  if (mixed.length > 0) {
    lines.push(
      "Runs that used more than one model, mean tokens (calls) per problem by model:",
      "",
      ...mixed.map(
        (r) =>
          `- ${r.label}: ${Object.entries(r.byModel ?? {})
            .map(
              ([model, u]) =>
                `${model} ${(u.promptTokens + u.completionTokens).toFixed(0)} (${u.calls.toFixed(2)})`,
            )
            .join(", ")}`,
      ),
      "",
    );
  }
  const replayed = runs.filter((r) => r.meta?.replayOf);
  if (replayed.length > 0) {
    lines.push(
      "Replayed runs ran their strategy for real, but every model call was answered from a recording of",
      "another run's calls (same messages, parameters and seeds) instead of the model. Their tokens and calls",
      "are what those recorded calls cost; their wall time is the replay's, not the model's.",
      "",
      ...replayed.map((r) => `- ${r.label}: replayed from \`${r.meta?.replayOf}\``),
      "",
    );
  }
  if (runs.some((r) => r.meta?.partial)) {
    lines.push(
      "Partial runs were interrupted or are still going: they count only the problems they finished.",
      "",
    );
  }
  for (const axis of axesOf(options)) {
    if (runs.length === 0) break;
    const chart = renderCostChart(runs, axis);
    if (chart.front.length === 0) {
      lines.push(`No run has ${axis.name} (${axis.missing}), so there is no chart of them.`, "");
      continue;
    }
    lines.push(
      `![accuracy vs ${axis.name}](${axis.file})`,
      "",
      `Pareto front by ${axis.name} (no other run is both more accurate and cheaper): ${chart.front.map((r) => r.label).join(" → ")}.`,
      ...(chart.leftOut.length > 0
        ? [`Not in this chart (${axis.missing}): ${chart.leftOut.map((r) => r.label).join(", ")}.`]
        : []),
      "",
    );
  }
  return lines.join("\n");
}

/** Rebuilds report.md and the chart from every run in `dir`; returns the report's path. */
export async function writeBenchReport(dir: string, options: BenchReportOptions = {}): Promise<string> {
  const runs = await readBenchRuns(dir, options.speeds?.table);
  for (const axis of axesOf(options)) {
    const chart = runs.length > 0 ? renderCostChart(runs, axis) : undefined;
    if (chart && chart.front.length > 0) await writeFile(join(dir, axis.file), chart.svg);
  }
  const path = join(dir, REPORT_FILE);
  await writeFile(path, renderBenchReport(runs, options));
  return path;
}
