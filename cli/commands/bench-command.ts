import { existsSync } from "node:fs";
import { open, stat } from "node:fs/promises";
import { join } from "node:path";
import cliProgress from "cli-progress";
import type { Command } from "commander";
import type { AnswerFormat } from "../../src/answers/answer-format.js";
import { game24Format } from "../../src/answers/game24-format.js";
import { numericFormat } from "../../src/answers/numeric-format.js";
import { pythonCodeFormat } from "../../src/answers/python-code.js";
import { afterEachCall } from "../../src/backends/after-each-call.js";
import type { BackendKind } from "../../src/backends/create-backend.js";
import { recordBackend } from "../../src/backends/replay/record-backend.js";
import { readRecording } from "../../src/backends/replay/recording.js";
import { createReplayBackend } from "../../src/backends/replay/replay-backend.js";
import {
  type BenchRunMeta,
  isValidLabel,
  RESULTS_SUFFIX,
  type ReportSpeeds,
  readBenchRun,
  readBenchRuns,
  resultsPath,
  startBenchResults,
  writeBenchMeta,
  writeBenchReport,
  writeBenchRun,
} from "../../src/bench/bench-report.js";
import {
  type BenchJudge,
  type BenchProblem,
  type ProblemResult,
  runBench,
  summarize,
} from "../../src/bench/bench-runner.js";
import { readGame24 } from "../../src/bench/game24-dataset.js";
import { readGsm8k } from "../../src/bench/gsm8k-dataset.js";
import { checkHumanEval, type HumanEvalProblem, readHumanEval } from "../../src/bench/humaneval-dataset.js";
import { readSpeedTable } from "../../src/bench/model-speeds.js";
import type { Backend } from "../../src/core/backend.js";
import { errorMessage, UsageError } from "../../src/core/errors.js";
import { BackgroundTraceWriter } from "../../src/store/background-trace-writer.js";
import {
  createStrategy,
  strategyNames,
  strategyUsesN,
  unknownStrategyError,
} from "../../src/strategies/catalog.js";
import { addBackendOptions, type BackendFlags, backendKindOf, loadBackend } from "../backend-options.js";
import { integerFlag, parseNumber, requireDirectory, requireFile } from "../options.js";
import { formatDuration } from "../progress-bar.js";
import { onStopSignal } from "../stop-signal.js";
import { addTraceOptions, openTraceDatabase, type TraceFlags } from "../trace-options.js";
import {
  holdsJsonSchemaBenchRun,
  type JsonSchemaBenchFlags,
  runJsonSchemaBenchCommand,
} from "./bench-jsonschema.js";

/** A dataset format: how to read its file and how its answers are compared. */
interface DatasetFormat {
  answerFormat: AnswerFormat;
  read: (path: string, options: { limit?: number }) => Promise<BenchProblem[]>;
  /** Scores by running the answer, when comparing it with a gold answer cannot. */
  judge?: BenchJudge;
}

const DATASET_FORMATS: Readonly<Record<string, DatasetFormat>> = {
  gsm8k: { answerFormat: numericFormat, read: readGsm8k },
  // A CSV of puzzles (ToT's 24.csv); an answer is right when it is an expression over the four
  // numbers, each once, equal to 24 in exact arithmetic.
  game24: { answerFormat: game24Format, read: readGame24 },
  // HumanEval's layout: a program is right when the problem's own check(candidate) passes in the
  // Python sandbox. The test is never shown to the model.
  humaneval: {
    answerFormat: pythonCodeFormat,
    read: readHumanEval,
    judge: async (problem, answer, signal) =>
      (await checkHumanEval(problem as HumanEvalProblem, answer, signal)).passed,
  },
};
/** Every --format: the answer-checking ones above, plus jsonschemabench (bench-jsonschema.ts). */
const BENCH_FORMATS = [...Object.keys(DATASET_FORMATS), "jsonschemabench"];

/** Flags as commander hands them over: numbers stay strings so that bad ones become UsageErrors. */
interface BenchFlags extends BackendFlags, JsonSchemaBenchFlags, TraceFlags {
  dataset?: string;
  format: string;
  strategy?: string;
  n?: string;
  limit?: string;
  offset?: string;
  largeModel?: string;
  largeRecord?: string;
  largeReplay?: string;
  seed: string;
  concurrency: string;
  budgetTokens?: string;
  maxTokens: string;
  temperature?: number;
  out?: string;
  label?: string;
  resume?: boolean;
  force?: boolean;
  record?: string;
  replay?: string;
  speeds?: string;
  reportOnly?: boolean;
}

const DEFAULT_MAX_TOKENS = "512";

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
  offset: number | undefined;
  /** The large tier (`ctx.backends.large`): a model to load, and/or a recording to write or answer from. */
  large: { model?: string; record?: string; replay?: string } | undefined;
  seed: number;
  concurrency: number;
  budgetTokens: number | undefined;
  maxTokens: number;
  temperature: number | undefined;
  out: string;
  backend: BackendKind;
  resume: boolean;
  record: string | undefined;
  replay: string | undefined;
}

/**
 * Checks that `--record` names a file the run can append to: otherwise every model call would fail
 * and the run would end with every problem an error.
 */
async function checkRecordingFile(path: string): Promise<void> {
  const existing = await stat(path).catch(() => undefined);
  if (existing?.isDirectory()) {
    throw new UsageError(`--record ${path} is a directory; name a file, e.g. ${join(path, "calls.jsonl")}`);
  }
  if (existing && !existing.isFile()) throw new UsageError(`--record ${path} is not a regular file`);
  try {
    await (await open(path, "a")).close();
  } catch (error) {
    throw new UsageError(`cannot write the --record file: ${errorMessage(error)}`);
  }
}

/** Opens the large tier: its model (recorded when asked) or a recording of it. */
async function openLargeTier(
  large: NonNullable<ValidatedBench["large"]>,
  flags: BenchFlags,
  resume: boolean,
): Promise<{ backend: Backend }> {
  if (large.replay !== undefined) return { backend: await createReplayBackend({ path: large.replay }) };
  const loaded = await loadBackend({ ...flags, model: large.model });
  if (large.record === undefined) return { backend: loaded };
  const reuse = resume && existsSync(large.record) ? await readRecording(large.record) : [];
  return { backend: recordBackend(loaded, large.record, { reuse }) };
}

/** `--report-only`: the report of the runs already in --out, with no model and no dataset. */
async function rebuildReport(flags: BenchFlags, speeds: ReportSpeeds | undefined): Promise<string> {
  if (flags.out === undefined) throw new UsageError("--report-only needs --out <dir>, the runs to report");
  if (flags.dataset !== undefined || flags.strategy !== undefined) {
    throw new UsageError("--report-only runs nothing: leave out --dataset and --strategy");
  }
  const runs = existsSync(flags.out) ? await readBenchRuns(flags.out) : [];
  if (runs.length === 0) throw new UsageError(`${flags.out} has no results (*${RESULTS_SUFFIX}) to report`);
  return writeBenchReport(flags.out, { ...(speeds && { speeds }) });
}

/** Checks every flag before any model is loaded, so mistakes cost nothing. */
async function validate(flags: BenchFlags): Promise<ValidatedBench> {
  if (flags.dataset === undefined) throw new UsageError("--dataset <file> is required");
  const format = DATASET_FORMATS[flags.format];
  if (!format) {
    throw new UsageError(`unknown --format "${flags.format}" (have: ${BENCH_FORMATS.join(", ")})`);
  }
  if (flags.strategy === undefined) {
    throw new UsageError(`--strategy is required (have: ${strategyNames().join(", ")})`);
  }
  if (flags.out === undefined) throw new UsageError("--out <dir> is required");
  const strategies = flags.strategy.split(",").map((s) => s.trim());
  for (const strategy of strategies) {
    if (!strategyNames().includes(strategy)) throw unknownStrategyError(strategy);
  }
  const n = integerFlag("--n", flags.n, 1);
  if (flags.label !== undefined && strategies.length > 1) {
    throw new UsageError("--label names a single run; leave it out when --strategy lists several");
  }
  const runs = strategies.map((strategy) => ({
    strategy,
    label:
      flags.label ??
      `${n === undefined || !strategyUsesN(strategy) ? strategy : `${strategy}-n${n}`}${flags.temperature === undefined ? "" : `-t${flags.temperature}`}`,
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
  if (flags.record !== undefined && flags.replay !== undefined) {
    throw new UsageError(
      "--record and --replay exclude each other: a replayed run makes no model calls to record",
    );
  }
  if (flags.replay !== undefined && (flags.model !== undefined || flags.baseUrl !== undefined)) {
    throw new UsageError("--replay answers from the recording's model; leave out --model and --base-url");
  }
  if (flags.replay !== undefined) await requireFile(flags.replay, "recording");
  if (flags.largeRecord !== undefined && flags.largeReplay !== undefined) {
    throw new UsageError("--large-record and --large-replay exclude each other");
  }
  if (flags.largeReplay !== undefined && flags.largeModel !== undefined) {
    throw new UsageError("--large-replay answers from the recording's model; leave out --large-model");
  }
  if (flags.largeRecord !== undefined && flags.largeModel === undefined) {
    throw new UsageError("--large-record needs --large-model (the model whose calls it records)");
  }
  if (flags.largeReplay !== undefined) await requireFile(flags.largeReplay, "recording");
  if (flags.resume && flags.force) {
    throw new UsageError("--resume keeps an earlier run's results and --force replaces them: give one");
  }
  const validated: ValidatedBench = {
    dataset: flags.dataset,
    formatName: flags.format,
    format,
    runs,
    n,
    limit: integerFlag("--limit", flags.limit, 1),
    offset: integerFlag("--offset", flags.offset, 0),
    large:
      flags.largeModel === undefined && flags.largeReplay === undefined
        ? undefined
        : {
            ...(flags.largeModel !== undefined && { model: flags.largeModel }),
            ...(flags.largeRecord !== undefined && { record: flags.largeRecord }),
            ...(flags.largeReplay !== undefined && { replay: flags.largeReplay }),
          },
    seed: integerFlag("--seed", flags.seed, 0),
    concurrency: integerFlag("--concurrency", flags.concurrency, 1),
    budgetTokens: integerFlag("--budget-tokens", flags.budgetTokens, 1),
    maxTokens: integerFlag("--max-tokens", flags.maxTokens, 1),
    temperature: flags.temperature,
    out: flags.out,
    backend,
    resume: flags.resume === true,
    record: flags.record,
    replay: flags.replay,
  };
  await requireFile(flags.dataset, "dataset file");
  // Results of an earlier run are a measurement: replacing them takes --force, continuing them --resume.
  if (!validated.resume && flags.force !== true) {
    const earlier = runs.find(({ label }) => existsSync(resultsPath(validated.out, label)));
    if (earlier) {
      throw new UsageError(
        `${validated.out} already has results for ${earlier.label}: pass --resume to go on with that run, or --force to replace it`,
      );
    }
  }
  if (validated.record !== undefined) await checkRecordingFile(validated.record);
  if (validated.large?.record !== undefined) await checkRecordingFile(validated.large.record);
  await requireDirectory(validated.out, "--out");
  return validated;
}

/** Settings that change what a problem's result would be: a resumed run must keep them all. */
const RESUME_KEYS = [
  "strategy",
  "n",
  "dataset",
  "format",
  "backend",
  "requestedModel",
  "seed",
  "maxTokens",
  "temperature",
  "budgetTokens",
  "replayOf",
  "offset",
  "largeModel",
] as const;

/**
 * The results an earlier run of the same label left that a resumed run keeps: problems of this
 * dataset that finished without an error (failed ones run again). Refuses when the earlier run was
 * made with other settings, since mixing them would make the run measure two things.
 */
async function resumableResults(
  dir: string,
  meta: BenchRunMeta,
  problems: BenchProblem[],
): Promise<{ results: ProblemResult[]; meta: BenchRunMeta } | undefined> {
  const earlier = await readBenchRun(dir, meta.label);
  if (!earlier.meta) {
    if (earlier.results.length > 0) {
      throw new UsageError(
        `cannot resume ${meta.label}: its results have no meta file saying how they were made`,
      );
    }
    return undefined;
  }
  for (const key of RESUME_KEYS) {
    // Older runs recorded n for strategies that ignore it.
    if (key === "n" && !strategyUsesN(meta.strategy)) continue;
    if (earlier.meta[key] !== meta[key]) {
      throw new UsageError(
        `cannot resume ${meta.label}: it ran with ${key} ${JSON.stringify(earlier.meta[key])}, not ${JSON.stringify(meta[key])}`,
      );
    }
  }
  const ids = new Set(problems.map((p) => p.id));
  return {
    results: earlier.results.filter((r) => r.error === undefined && ids.has(r.id)),
    meta: earlier.meta,
  };
}

interface BenchProgress {
  /** Counts the results a resumed run keeps, without reporting each. */
  keep(results: ProblemResult[]): void;
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
      keep(results) {
        for (const result of results) count(result);
        bar.update(done, payload());
      },
      update(result) {
        count(result);
        bar.update(done, payload());
      },
      stop: () => bar.stop(),
    };
  }

  stream.write(`${label}: ${total} problems\n`);
  let nextReport = 0;
  const report = (note = "") => {
    const percent = (done / total) * 100;
    nextReport = (Math.floor(percent / NON_TTY_STEP_PERCENT) + 1) * NON_TTY_STEP_PERCENT;
    const p = payload();
    stream.write(
      `${label}: ${done}/${total} (${percent.toFixed(0)}%)${note}, accuracy ${p.accuracy}, ${p.tokens} tokens/problem, ${errors} errors\n`,
    );
  };
  return {
    keep(results) {
      if (results.length === 0) return;
      for (const result of results) count(result);
      report(" kept from the earlier run");
    },
    update(result) {
      count(result);
      if ((done / total) * 100 < nextReport && done < total) return;
      report();
    },
    stop: () => {},
  };
}

export function registerBenchCommand(program: Command): void {
  addTraceOptions(addBackendOptions(program.command("bench")))
    .description("measure accuracy and compute of strategies on a dataset; writes results and a report")
    .option("--dataset <file>", "dataset file (JSONL; CSV for game24)")
    .option("--format <name>", `dataset format: ${BENCH_FORMATS.join(", ")}`, "gsm8k")
    .option("--max-attempts <k>", "jsonschemabench: most generations per schema (first try plus repairs)")
    .option("--no-compare", "jsonschemabench: skip the unconstrained comparison run")
    .option(
      "--coverage-only",
      "jsonschemabench: only build each schema's constraint on the backend (coverage), generating nothing",
    )
    .option("-s, --strategy <names>", `strategies, comma-separated: ${strategyNames().join(", ")}`)
    .option("--n <n>", "samples or candidates per problem, for strategies that draw several")
    .option("--limit <k>", "only the first k problems (after --offset)")
    .option("--offset <k>", "skip the first k problems (ids stay the file's line numbers, so seeds match)")
    .option(
      "--large-model <name|path>",
      "a large tier for strategies that escalate (auto): loaded beside --model, addressed as backends.large",
    )
    .option("--large-record <file>", "append the large tier's model calls to this JSONL recording")
    .option("--large-replay <file>", "answer the large tier's calls from a recording (no --large-model)")
    .option("--seed <n>", "base seed; each problem's seed is derived from it and the problem's id", "0")
    .option("--concurrency <c>", "problems in flight at once (they share the model)", "1")
    .option("--budget-tokens <n>", "most tokens (prompt + completion) per problem")
    .option("--max-tokens <n>", "most tokens per generated completion", DEFAULT_MAX_TOKENS)
    .option("--out <dir>", "directory for results, report.md and the chart (shared by runs to compare)")
    .option(
      "--temperature <t>",
      "sampling temperature for every call (default: each strategy's own; sc samples at the model's measured temperature, else 0.7)",
      parseNumber("--temperature", { min: 0, max: 5 }),
    )
    .option("--label <label>", "name of the run in the report (default: strategy, or strategy-nN with --n)")
    .option(
      "--resume",
      "keep the problems an earlier, interrupted run of the same label finished; run the rest",
    )
    .option("--force", "replace the results an earlier run of the same label left in --out")
    .option(
      "--record <file>",
      "append every model call (request key and full result) to this JSONL recording",
    )
    .option(
      "--replay <file>",
      "answer model calls from a recording instead of the model (a call it lacks fails that problem)",
    )
    .option(
      "--speeds <file>",
      "also chart accuracy against modelled seconds: tokens at these measured speeds (bench/measure-speeds.ts)",
    )
    .option("--report-only", "rebuild report.md and the charts from the results in --out; run nothing")
    .action(async (flags: BenchFlags) => {
      // Structured output has its own metrics (coverage, compliance, speed) and report.
      if (
        flags.format === "jsonschemabench" ||
        (flags.reportOnly === true && flags.out !== undefined && holdsJsonSchemaBenchRun(flags.out))
      ) {
        await runJsonSchemaBenchCommand(flags, commandLine(process.argv.slice(2)));
        return;
      }
      const speeds =
        flags.speeds === undefined
          ? undefined
          : { path: flags.speeds, table: await readSpeedTable(flags.speeds) };
      if (flags.reportOnly) {
        process.stdout.write(`${await rebuildReport(flags, speeds)}\n`);
        return;
      }
      const bench = await validate(flags);
      // bin.ts hands main() exactly these arguments, so this is the command as typed.
      const invocation = commandLine(process.argv.slice(2));
      const offset = bench.offset ?? 0;
      const problems = (
        await bench.format.read(bench.dataset, {
          ...(bench.limit !== undefined && { limit: offset + bench.limit }),
        })
      ).slice(offset);
      if (problems.length === 0) throw new UsageError(`no problems in ${bench.dataset}`);
      // Checked before the model loads, so a bad path fails fast; the worker opens its own connection.
      const traceDb = openTraceDatabase(flags);
      traceDb?.close();

      const loaded =
        bench.replay !== undefined
          ? await createReplayBackend({ path: bench.replay })
          : await loadBackend({ ...flags, backend: bench.backend });
      const answeringModels = new Set<string>();
      // The report names the models that actually answered: an OpenAI-compatible server may answer
      // under another id than the one asked for (often just "default").
      // A resumed run answers calls its interrupted predecessor already recorded from the recording.
      const reuse =
        bench.record !== undefined && bench.resume && existsSync(bench.record)
          ? await readRecording(bench.record)
          : [];
      const backend = afterEachCall(
        bench.record !== undefined ? recordBackend(loaded, bench.record, { reuse }) : loaded,
        (_request, result) => answeringModels.add(result.model),
      );
      const large = bench.large && (await openLargeTier(bench.large, flags, bench.resume));

      // Every problem's trace is stored, so each traceId in the results resolves. From a worker
      // thread, so storing costs the problems in flight nothing.
      let traceError: unknown;
      const traces = traceDb
        ? new BackgroundTraceWriter(traceDb.name, { onError: (error) => (traceError ??= error) })
        : undefined;
      // Ctrl-C or a `kill` stops the run; what finished stays, and the meta says how long it ran (so
      // a resumed run's seconds add up).
      const controller = new AbortController();
      const stopListening = onStopSignal(() => controller.abort());
      let reportPath: string | undefined;
      try {
        for (const run of bench.runs) {
          const strategy = createStrategy({
            name: run.strategy,
            format: bench.format.answerFormat,
            ...(bench.n !== undefined && { n: bench.n }),
          });
          const startedAt = new Date();
          const meta: BenchRunMeta = {
            label: run.label,
            strategy: run.strategy,
            // Only where it changes the run: cot with --n 8 is cot.
            ...(bench.n !== undefined && strategyUsesN(run.strategy) && { n: bench.n }),
            dataset: bench.dataset,
            format: bench.formatName,
            model: backend.model,
            requestedModel: backend.model,
            backend: backend.kind,
            command: invocation,
            seed: bench.seed,
            concurrency: bench.concurrency,
            ...(bench.limit !== undefined && { limit: bench.limit }),
            ...(bench.offset !== undefined && bench.offset > 0 && { offset: bench.offset }),
            ...(large && { largeModel: large.backend.model }),
            ...(bench.budgetTokens !== undefined && { budgetTokens: bench.budgetTokens }),
            maxTokens: bench.maxTokens,
            ...(bench.temperature !== undefined && { temperature: bench.temperature }),
            startedAt: startedAt.toISOString(),
            finishedAt: startedAt.toISOString(),
            elapsedMs: 0,
            partial: true,
            ...(bench.replay !== undefined && { replayOf: bench.replay }),
            ...(bench.record !== undefined && { recordedTo: bench.record }),
          };
          const earlier = bench.resume ? await resumableResults(bench.out, meta, problems) : undefined;
          if (earlier) {
            meta.startedAt = earlier.meta.startedAt;
            meta.elapsedMs = earlier.meta.elapsedMs;
            meta.command = earlier.meta.command;
          }
          const kept = earlier?.results ?? [];
          const done = new Set(kept.map((r) => r.id));
          const todo = problems.filter((p) => !done.has(p.id));
          const file = await startBenchResults(bench.out, run.label, kept);
          await writeBenchMeta(bench.out, run.label, meta);

          const progress = createBenchProgress(process.stderr, run.label, problems.length);
          progress.keep(kept);
          let fresh: ProblemResult[];
          try {
            fresh = await runBench({
              problems: todo,
              strategy,
              strategyLabel: run.label,
              backend,
              ...(large && { backends: { large: large.backend } }),
              format: bench.format.answerFormat,
              ...(bench.format.judge && { judge: bench.format.judge }),
              concurrency: bench.concurrency,
              seed: bench.seed,
              params: {
                maxTokens: bench.maxTokens,
                ...(bench.temperature !== undefined && { temperature: bench.temperature }),
              },
              ...(bench.budgetTokens !== undefined && { budget: { maxTokens: bench.budgetTokens } }),
              onResult: (result) => {
                file.append(result);
                progress.update(result);
              },
              ...(traces && { traces }),
              signal: controller.signal,
            });
          } catch (error) {
            // Whatever finished is already on disk; the meta says how long it ran, so --resume can go on.
            meta.elapsedMs += Date.now() - startedAt.getTime();
            meta.finishedAt = new Date().toISOString();
            await writeBenchMeta(bench.out, run.label, meta);
            await writeBenchReport(bench.out, { ...(speeds && { speeds }) });
            throw error;
          } finally {
            progress.stop();
          }
          const finishedAt = new Date();
          const order = new Map(problems.map((p, i) => [p.id, i]));
          const results = [...kept, ...fresh].sort((a, b) => (order.get(a.id) ?? 0) - (order.get(b.id) ?? 0));
          const { partial: _partial, ...finished } = meta;
          await writeBenchRun(bench.out, run.label, results, {
            ...finished,
            model: answeringModels.size > 0 ? [...answeringModels].sort().join(", ") : backend.model,
            finishedAt: finishedAt.toISOString(),
            elapsedMs: meta.elapsedMs + (finishedAt.getTime() - startedAt.getTime()),
          });
          // Rebuilt after every run, so a later failure still leaves a report of what finished.
          reportPath = await writeBenchReport(bench.out, { ...(speeds && { speeds }) });
          const s = summarize(results);
          process.stderr.write(
            `${run.label}: accuracy ${(s.accuracy * 100).toFixed(1)}% (${results.filter((r) => r.correct).length}/${s.problems}), ` +
              `${s.meanTokens.toFixed(0)} tokens/problem, ${s.meanCalls.toFixed(2)} calls/problem, ` +
              `${s.errors} errors, ${formatDuration((finishedAt.getTime() - startedAt.getTime()) / 1000)}` +
              `${kept.length > 0 ? ` (${kept.length} problems kept from the earlier run)` : ""}\n`,
          );
        }
      } finally {
        stopListening();
        await traces?.close();
        await backend.close();
        await large?.backend.close();
      }
      if (reportPath !== undefined) process.stdout.write(`${reportPath}\n`);
      if (traceError !== undefined) throw new Error(`storing traces failed: ${errorMessage(traceError)}`);
    });
}
