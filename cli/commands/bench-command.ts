import { stat } from "node:fs/promises";
import cliProgress from "cli-progress";
import type { Command } from "commander";
import type { AnswerFormat } from "../../src/answers/answer-format.js";
import { numericFormat } from "../../src/answers/numeric-format.js";
import type { BackendKind } from "../../src/backends/create-backend.js";
import { isValidLabel, writeBenchReport, writeBenchRun } from "../../src/bench/bench-report.js";
import { type BenchProblem, type ProblemResult, runBench, summarize } from "../../src/bench/bench-runner.js";
import { readGsm8k } from "../../src/bench/gsm8k-dataset.js";
import type { Backend } from "../../src/core/backend.js";
import { errorMessage, UsageError } from "../../src/core/errors.js";
import { createStrategy, strategyNames } from "../../src/strategies/registry.js";
import { addBackendOptions, type BackendFlags, backendKindOf, loadBackend } from "../backend-options.js";
import { parseInteger } from "../options.js";
import { formatDuration } from "../progress-bar.js";

/** A dataset format: how to read its file and how its answers are compared. */
interface DatasetFormat {
  answerFormat: AnswerFormat;
  read: (path: string, options: { limit?: number }) => Promise<BenchProblem[]>;
}

const DATASET_FORMATS: Readonly<Record<string, DatasetFormat>> = {
  gsm8k: { answerFormat: numericFormat, read: readGsm8k },
};

/** Flags as commander hands them over: numbers stay strings so that bad ones become UsageErrors. */
interface BenchFlags extends BackendFlags {
  dataset?: string;
  format: string;
  strategy?: string;
  n?: string;
  limit?: string;
  seed: string;
  concurrency: string;
  budgetTokens?: string;
  maxTokens: string;
  out?: string;
  label?: string;
}

const DEFAULT_MAX_TOKENS = "512";

/** Runs one of options.ts's parsers, turning its complaint into a one-line usage error. */
function parsed<T>(parse: (value: string) => T, value: string): T {
  try {
    return parse(value);
  } catch (error) {
    throw new UsageError(errorMessage(error));
  }
}

function optionalInteger(name: string, value: string | undefined, min: number): number | undefined {
  return value === undefined ? undefined : parsed(parseInteger(name, { min }), value);
}

/** Quotes an argument for a POSIX shell only when it needs it, so commands read naturally. */
const shellQuote = (arg: string): string =>
  /^[A-Za-z0-9_./:=,@%+-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;

/** The command line as typed, with any API key hidden: it is written into reports. */
function commandLine(args: readonly string[]): string {
  const shown = args.map((arg, i) =>
    args[i - 1] === "--api-key" ? "***" : arg.startsWith("--api-key=") ? "--api-key=***" : arg,
  );
  return ["deliberate", ...shown.map(shellQuote)].join(" ");
}

interface ValidatedBench {
  dataset: string;
  formatName: string;
  format: DatasetFormat;
  runs: Array<{ strategy: string; label: string }>;
  n: number | undefined;
  limit: number | undefined;
  seed: number;
  concurrency: number;
  budgetTokens: number | undefined;
  maxTokens: number;
  out: string;
  backend: BackendKind;
}

/** Checks every flag before any model is loaded, so mistakes cost nothing. */
async function validate(flags: BenchFlags): Promise<ValidatedBench> {
  if (flags.dataset === undefined) throw new UsageError("--dataset <file> is required");
  const format = DATASET_FORMATS[flags.format];
  if (!format) {
    throw new UsageError(
      `unknown --format "${flags.format}" (have: ${Object.keys(DATASET_FORMATS).join(", ")})`,
    );
  }
  if (flags.strategy === undefined) {
    throw new UsageError(`--strategy is required (have: ${strategyNames().join(", ")})`);
  }
  if (flags.out === undefined) throw new UsageError("--out <dir> is required");
  const strategies = flags.strategy.split(",").map((s) => s.trim());
  for (const strategy of strategies) {
    if (!strategyNames().includes(strategy)) {
      throw new UsageError(`unknown strategy "${strategy}" (have: ${strategyNames().join(", ")})`);
    }
  }
  const n = optionalInteger("--n", flags.n, 1);
  if (flags.label !== undefined && strategies.length > 1) {
    throw new UsageError("--label names a single run; leave it out when --strategy lists several");
  }
  const runs = strategies.map((strategy) => ({
    strategy,
    label: flags.label ?? (n === undefined ? strategy : `${strategy}-n${n}`),
  }));
  for (const { label } of runs) {
    if (!isValidLabel(label)) {
      throw new UsageError(`--label "${label}" must be letters, digits, ".", "_" or "-" (it names files)`);
    }
  }
  const labels = runs.map((r) => r.label);
  const repeated = labels.find((label, i) => labels.indexOf(label) !== i);
  if (repeated !== undefined) throw new UsageError(`--strategy lists "${repeated}" twice`);

  const backend = backendKindOf(flags);
  const validated: ValidatedBench = {
    dataset: flags.dataset,
    formatName: flags.format,
    format,
    runs,
    n,
    limit: optionalInteger("--limit", flags.limit, 1),
    seed: parsed(parseInteger("--seed", { min: 0 }), flags.seed),
    concurrency: parsed(parseInteger("--concurrency", { min: 1 }), flags.concurrency),
    budgetTokens: optionalInteger("--budget-tokens", flags.budgetTokens, 1),
    maxTokens: parsed(parseInteger("--max-tokens", { min: 1 }), flags.maxTokens),
    out: flags.out,
    backend,
  };
  const file = await stat(flags.dataset).catch(() => undefined);
  if (!file?.isFile()) throw new UsageError(`dataset file not found: ${flags.dataset}`);
  return validated;
}

/**
 * Notes the models that actually answered, for the report: an OpenAI-compatible server may answer with
 * another model than the id asked for (often just "default").
 */
function recordAnsweringModels(backend: Backend, seen: Set<string>): Backend {
  return {
    kind: backend.kind,
    model: backend.model,
    capabilities: backend.capabilities,
    generate: async (request) => {
      const result = await backend.generate(request);
      seen.add(result.model);
      return result;
    },
    close: () => backend.close(),
  };
}

interface BenchProgress {
  update(result: ProblemResult): void;
  stop(): void;
}

const NON_TTY_STEP_PERCENT = 10;

/**
 * Progress of one run on `stream`: a bar with running accuracy and tokens on a terminal, and a plain line
 * every 10% of problems otherwise, so logs stay readable.
 */
function createBenchProgress(stream: NodeJS.WriteStream, label: string, total: number): BenchProgress {
  let done = 0;
  let correct = 0;
  let tokens = 0;
  let errors = 0;
  const payload = () => ({
    label,
    accuracy: done === 0 ? "–" : `${((correct / done) * 100).toFixed(1)}%`,
    tokens: done === 0 ? "–" : (tokens / done).toFixed(0),
    errors,
  });
  const count = (result: ProblemResult): void => {
    done += 1;
    if (result.correct) correct += 1;
    if (result.error !== undefined) errors += 1;
    tokens += result.usage.promptTokens + result.usage.completionTokens;
  };

  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar({
      stream,
      format:
        "{label} {bar} {value}/{total} | accuracy {accuracy} | {tokens} tok/problem | {errors} errors | ETA {eta_formatted}",
      barsize: 24,
      hideCursor: true,
      fps: 5,
    });
    bar.start(total, 0, payload());
    return {
      update(result) {
        count(result);
        bar.update(done, payload());
      },
      stop: () => bar.stop(),
    };
  }

  stream.write(`${label}: ${total} problems\n`);
  let nextReport = 0;
  return {
    update(result) {
      count(result);
      const percent = (done / total) * 100;
      if (percent < nextReport && done < total) return;
      nextReport = (Math.floor(percent / NON_TTY_STEP_PERCENT) + 1) * NON_TTY_STEP_PERCENT;
      const p = payload();
      stream.write(
        `${label}: ${done}/${total} (${percent.toFixed(0)}%), accuracy ${p.accuracy}, ${p.tokens} tokens/problem, ${errors} errors\n`,
      );
    },
    stop: () => {},
  };
}

export function registerBenchCommand(program: Command): void {
  addBackendOptions(program.command("bench"))
    .description("measure accuracy and compute of strategies on a dataset; writes results and a report")
    .option("--dataset <file>", "dataset file (JSONL)")
    .option("--format <name>", `dataset format: ${Object.keys(DATASET_FORMATS).join(", ")}`, "gsm8k")
    .option("-s, --strategy <names>", `strategies, comma-separated: ${strategyNames().join(", ")}`)
    .option("--n <n>", "samples or candidates per problem, for strategies that draw several")
    .option("--limit <k>", "only the first k problems")
    .option("--seed <n>", "base seed; each problem's seed is derived from it and the problem's id", "0")
    .option("--concurrency <c>", "problems in flight at once (they share the model)", "1")
    .option("--budget-tokens <n>", "most tokens (prompt + completion) per problem")
    .option("--max-tokens <n>", "most tokens per generated completion", DEFAULT_MAX_TOKENS)
    .option("--out <dir>", "directory for results, report.md and the chart (shared by runs to compare)")
    .option("--label <label>", "name of the run in the report (default: strategy, or strategy-nN with --n)")
    .action(async (flags: BenchFlags) => {
      const bench = await validate(flags);
      // bin.ts hands main() exactly these arguments, so this is the command as typed.
      const invocation = commandLine(process.argv.slice(2));
      const problems = await bench.format.read(bench.dataset, {
        ...(bench.limit !== undefined && { limit: bench.limit }),
      });
      if (problems.length === 0) throw new UsageError(`no problems in ${bench.dataset}`);

      const loaded = await loadBackend({ ...flags, backend: bench.backend });
      const answeringModels = new Set<string>();
      const backend = recordAnsweringModels(loaded, answeringModels);

      // Ctrl-C stops the run; results of strategies that already finished stay in the report.
      const controller = new AbortController();
      const onInterrupt = (): void => controller.abort();
      process.once("SIGINT", onInterrupt);
      let reportPath: string | undefined;
      try {
        for (const run of bench.runs) {
          const strategy = createStrategy({
            name: run.strategy,
            format: bench.format.answerFormat,
            ...(bench.n !== undefined && { n: bench.n }),
          });
          const progress = createBenchProgress(process.stderr, run.label, problems.length);
          const startedAt = new Date();
          let results: ProblemResult[];
          try {
            results = await runBench({
              problems,
              strategy,
              strategyLabel: run.label,
              backend,
              format: bench.format.answerFormat,
              concurrency: bench.concurrency,
              seed: bench.seed,
              params: { maxTokens: bench.maxTokens },
              ...(bench.budgetTokens !== undefined && { budget: { maxTokens: bench.budgetTokens } }),
              onResult: progress.update,
              signal: controller.signal,
            });
          } finally {
            progress.stop();
          }
          const finishedAt = new Date();
          await writeBenchRun(bench.out, run.label, results, {
            label: run.label,
            strategy: run.strategy,
            ...(bench.n !== undefined && { n: bench.n }),
            dataset: bench.dataset,
            format: bench.formatName,
            model: answeringModels.size > 0 ? [...answeringModels].sort().join(", ") : backend.model,
            backend: backend.kind,
            command: invocation,
            seed: bench.seed,
            concurrency: bench.concurrency,
            ...(bench.limit !== undefined && { limit: bench.limit }),
            ...(bench.budgetTokens !== undefined && { budgetTokens: bench.budgetTokens }),
            maxTokens: bench.maxTokens,
            startedAt: startedAt.toISOString(),
            finishedAt: finishedAt.toISOString(),
            elapsedMs: finishedAt.getTime() - startedAt.getTime(),
          });
          // Rebuilt after every run, so a later failure still leaves a report of what finished.
          reportPath = await writeBenchReport(bench.out);
          const s = summarize(results);
          process.stderr.write(
            `${run.label}: accuracy ${(s.accuracy * 100).toFixed(1)}% (${results.filter((r) => r.correct).length}/${s.problems}), ` +
              `${s.meanTokens.toFixed(0)} tokens/problem, ${s.meanCalls.toFixed(2)} calls/problem, ` +
              `${s.errors} errors, ${formatDuration((finishedAt.getTime() - startedAt.getTime()) / 1000)}\n`,
          );
        }
      } finally {
        process.off("SIGINT", onInterrupt);
        await backend.close();
      }
      if (reportPath !== undefined) process.stdout.write(`${reportPath}\n`);
    });
}
