import { appendFileSync } from "node:fs";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { UsageError } from "../core/errors.js";
import { makeDirectory } from "../core/make-directory.js";
import { type BenchSummary, type ProblemResult, summarize } from "./bench-runner.js";
import { renderLineChart } from "./svg-line-chart.js";

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
}

export const REPORT_FILE = "report.md";
export const CHART_FILE = "accuracy-vs-tokens.svg";
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
  const text = await readFile(path, "utf8");
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

/** Every run in `dir`, cheapest first (by mean tokens per problem), then by label. */
export async function readBenchRuns(dir: string): Promise<BenchRun[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith(RESULTS_SUFFIX)).sort();
  const runs = await Promise.all(
    files.map(async (file): Promise<BenchRun> => {
      const label = file.slice(0, -RESULTS_SUFFIX.length);
      const results = await readBenchResults(join(dir, file));
      return {
        label,
        meta: await readMeta(metaPath(dir, label)),
        summary: { ...summarize(results), strategy: label },
      };
    }),
  );
  return runs.sort((a, b) => a.summary.meanTokens - b.summary.meanTokens || (a.label < b.label ? -1 : 1));
}

/** Accuracy (%) against mean tokens per problem: one point, and one legend entry, per run. */
export function renderAccuracyChart(runs: BenchRun[]): string {
  const models = distinct(runs.map((r) => r.meta?.model));
  return renderLineChart({
    title: `Accuracy vs tokens per problem${models.length === 1 ? `, ${models[0]}` : ""}`,
    xLabel: "mean tokens per problem (prompt + completion)",
    yLabel: "accuracy (%)",
    series: runs.map((run) => ({
      label: run.label,
      points: [{ x: round(run.summary.meanTokens, 1), y: round(run.summary.accuracy * 100, 1) }],
    })),
  });
}

const round = (value: number, digits: number): number => Number(value.toFixed(digits));

const distinct = (values: Array<string | undefined>): string[] =>
  [...new Set(values.filter((v): v is string => v !== undefined))].sort();

const percent = (share: number): string => `${(share * 100).toFixed(1)}%`;

/** Table cells must not break the table: pipes escaped, newlines flattened. */
const cell = (text: string): string => text.replace(/\|/g, "\\|").replace(/\s*\n\s*/g, " ");

/** The markdown report of the runs in one directory. */
export function renderBenchReport(runs: BenchRun[], options: { generatedAt?: Date } = {}): string {
  const metas = runs.map((r) => r.meta).filter((m): m is BenchRunMeta => m !== undefined);
  const datasets = distinct(metas.map((m) => m.dataset));
  const models = distinct(metas.map((m) => `${m.model} (${m.backend})`));
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
    return `| ${cell(run.label)}${marks} | ${s.problems} | ${percent(s.accuracy)} (${correct}/${s.problems}) | ${s.meanTokens.toFixed(0)} | ${s.meanCompletionTokens.toFixed(0)} | ${s.meanCalls.toFixed(2)} | ${(s.meanWallMs / 1000).toFixed(2)} | ${s.errors} |${tools}`;
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
    `| strategy | problems | accuracy | mean tokens | mean completion tokens | mean calls | mean wall s | errors |${withTools ? " mean tool calls | mean repairs |" : ""}`,
    `|---|---|---|---|---|---|---|---|${withTools ? "---|---|" : ""}`,
    ...rows,
    "",
    "Tokens are per problem, prompt plus completion. Wall time is per problem; with concurrency above 1",
    "problems overlap, so it includes time spent sharing the model.",
    "",
  );
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
  if (runs.length > 0) lines.push(`![accuracy vs tokens](${CHART_FILE})`, "");
  return lines.join("\n");
}

/** Rebuilds report.md and the chart from every run in `dir`; returns the report's path. */
export async function writeBenchReport(dir: string, options: { generatedAt?: Date } = {}): Promise<string> {
  const runs = await readBenchRuns(dir);
  if (runs.length > 0) await writeFile(join(dir, CHART_FILE), renderAccuracyChart(runs));
  const path = join(dir, REPORT_FILE);
  await writeFile(path, renderBenchReport(runs, options));
  return path;
}
