import type { AnswerFormat } from "../answers/answer-format.js";
import { afterEachCall } from "../backends/after-each-call.js";
import type { Backend, GenerationParams } from "../core/backend.js";
import type { Budget } from "../core/budget.js";
import { AbortedError, errorMessage } from "../core/errors.js";
import type { DeliberateEvent } from "../core/event.js";
import { userMessage } from "../core/message.js";
import type { Strategy } from "../core/strategy.js";
import { emptyUsage, type Usage } from "../core/usage.js";
import { parameterBillionsOf } from "../models/catalog.js";
import { newTaskId, runStrategy } from "../runtime/task-context.js";
import type { TraceSink } from "../store/trace-sink.js";

/** One question with a known answer, in any dataset's format. */
export interface BenchProblem {
  id: number | string;
  question: string;
  gold: string;
}

/** What one model spent on a problem. */
export interface ModelUsage {
  promptTokens: number;
  completionTokens: number;
  calls: number;
}

export interface ProblemUsage {
  promptTokens: number;
  completionTokens: number;
  calls: number;
  wallMs: number;
  /**
   * The same tokens and calls by the model that answered them, since a run may escalate to a larger
   * model. Absent in results written before it was recorded: those read as all on the run's model.
   */
  byModel?: Record<string, ModelUsage>;
}

export interface ProblemResult {
  id: number | string;
  question: string;
  /** The answer as scored: extracted from the strategy's output by the answer format. */
  answer: string;
  gold: string;
  correct: boolean;
  usage: ProblemUsage;
  /** The stored trace of the problem (`deliberate trace ID`); absent when traces were not stored. */
  traceId?: string;
  /** The run's label, e.g. "sc-n8". */
  strategy: string;
  budgetExhausted: boolean;
  /** The seed this problem ran with, so a single problem can be replayed. */
  seed: number;
  /** The strategy's output when it differs from `answer` (free text that an answer was extracted from). */
  rawAnswer?: string;
  /** Why the problem failed; a failed problem counts as incorrect. */
  error?: string;
  /** Tool calls the strategy made (sandbox runs, for the code strategies); absent when none. */
  toolCalls?: number;
  /** Repair rounds: programs rewritten after their tests or runs failed; absent when none. */
  repairs?: number;
}

/**
 * Scores an answer by running something (a program against hidden tests) instead of comparing it with
 * the gold answer; the answer is then the strategy's output as it is.
 */
export type BenchJudge = (problem: BenchProblem, answer: string, signal?: AbortSignal) => Promise<boolean>;

export interface RunBenchOptions {
  problems: BenchProblem[];
  strategy: Strategy;
  /** Names the run in results and reports, e.g. "sc-n8". */
  strategyLabel: string;
  backend: Backend;
  /** Further named backends strategies may address, e.g. `{ large }` for auto's large tier. */
  backends?: Record<string, Backend>;
  format: AnswerFormat;
  /** Scores answers by running them; without it an answer is right when it equals the gold one. */
  judge?: BenchJudge;
  /** Problems in flight at once; they share the backend, which batches their sequences where it can. */
  concurrency: number;
  /** Base seed of the run (default 0); each problem gets its own seed derived from it and its id. */
  seed?: number;
  /** Generation parameters given to every problem (max tokens, temperature); the seed is set per problem. */
  params?: GenerationParams;
  /** Limits per problem. */
  budget?: Budget;
  /** Called as each problem finishes, in completion order. */
  onResult?: (result: ProblemResult) => void;
  /** Where each problem's events are stored; without it results carry no traceId, which would dangle. */
  traces?: TraceSink;
  signal?: AbortSignal;
}

export interface BenchSummary {
  strategy: string;
  problems: number;
  /** Share of problems answered correctly, 0 to 1. */
  accuracy: number;
  /** Prompt plus completion tokens per problem. */
  meanTokens: number;
  meanCompletionTokens: number;
  meanCalls: number;
  meanWallMs: number;
  /** Tool calls (sandbox runs) and repair rounds per problem; 0 for strategies that make none. */
  meanToolCalls: number;
  meanRepairs: number;
  errors: number;
  /**
   * Tokens weighted by model size: tokens × parameters in billions, summed over the models a problem
   * used ("B-param tokens"), so a 0.5B and a 1.5B model's tokens compare. Undefined when a model's
   * size is unknown (an OpenAI-compatible endpoint).
   */
  meanFlopTokens: number | undefined;
}

/**
 * Problems' seeds are this far apart. Strategies seed sample i with seed + i, so a wide stride keeps
 * the samples of neighbouring problems from sharing seeds (for fewer than this many samples).
 */
const SEED_STRIDE = 1000;
const SEED_MODULUS = 2 ** 31;

/** FNV-1a: a stable number for a string id, so string-keyed datasets get reproducible seeds too. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/** The seed of one problem: the run's base seed plus an offset that depends only on the problem's id. */
export function problemSeed(baseSeed: number, id: number | string): number {
  const key = typeof id === "number" && Number.isSafeInteger(id) && id >= 0 ? id : fnv1a(String(id));
  return (baseSeed + ((key * SEED_STRIDE) % SEED_MODULUS)) % SEED_MODULUS;
}

const usageOf = (usage: Usage): ProblemUsage => ({
  promptTokens: usage.promptTokens,
  completionTokens: usage.completionTokens,
  calls: usage.calls,
  wallMs: usage.wallMs,
});

async function runProblem(problem: BenchProblem, options: RunBenchOptions): Promise<ProblemResult> {
  const { format, strategyLabel } = options;
  const seed = problemSeed(options.seed ?? 0, problem.id);
  const taskId = newTaskId();
  // Tallied at the backends, per problem, under the model each call's result names: the one that answered.
  const byModel: Record<string, ModelUsage> = {};
  const tallied = (backend: Backend): Backend =>
    afterEachCall(backend, (_request, result) => {
      const spent = byModel[result.model] ?? { promptTokens: 0, completionTokens: 0, calls: 0 };
      byModel[result.model] = {
        promptTokens: spent.promptTokens + result.usage.promptTokens,
        completionTokens: spent.completionTokens + result.usage.completionTokens,
        calls: spent.calls + result.usage.calls,
      };
    });
  // What the problem had spent when it failed: the runtime reports usage only on success.
  let lastUsed: Usage = emptyUsage();
  let toolCalls = 0;
  let repairs = 0;
  const started = Date.now();
  // Fields in a fixed order, so each JSONL line reads question, answer, gold, verdict, cost.
  const record = (outcome: {
    answer: string;
    usage: Usage;
    budgetExhausted: boolean;
    rawAnswer?: string;
    error?: string;
    /** The judge's verdict, when a judge scores this dataset. */
    judged?: boolean;
  }): ProblemResult => ({
    id: problem.id,
    question: problem.question,
    answer: outcome.answer,
    gold: problem.gold,
    correct:
      outcome.error === undefined &&
      (outcome.judged ?? format.canonical(outcome.answer) === format.canonical(problem.gold)),
    usage: { ...usageOf(outcome.usage), ...(Object.keys(byModel).length > 0 && { byModel }) },
    ...(options.traces && { traceId: taskId }),
    strategy: strategyLabel,
    budgetExhausted: outcome.budgetExhausted,
    seed,
    ...(outcome.rawAnswer !== undefined && { rawAnswer: outcome.rawAnswer }),
    ...(outcome.error !== undefined && { error: outcome.error }),
    ...(toolCalls > 0 && { toolCalls }),
    ...(repairs > 0 && { repairs }),
  });
  try {
    const result = await runStrategy(
      options.strategy,
      { messages: [userMessage(problem.question)], params: { ...options.params, seed } },
      {
        backend: tallied(options.backend),
        ...(options.backends && {
          backends: Object.fromEntries(
            Object.entries(options.backends).map(([name, backend]) => [name, tallied(backend)]),
          ),
        }),
        taskId,
        strategyName: strategyLabel,
        ...(options.budget && { budget: options.budget }),
        ...(options.signal && { signal: options.signal }),
        onEvent: (event: DeliberateEvent) => {
          options.traces?.write(event);
          if (event.type === "budget") lastUsed = event.used;
          else if (event.type === "tool.call") toolCalls++;
          else if (event.type === "step.start" && event.kind === "repair") repairs++;
        },
      },
    );
    if (options.judge) {
      const answer = result.answer.trim();
      const judged = answer !== "" && (await options.judge(problem, answer, options.signal));
      return record({ answer, usage: result.usage, budgetExhausted: result.budgetExhausted, judged });
    }
    // Strategies that already extract return the bare answer, which extracts to itself; `direct`
    // returns free text, scored the way GSM8K harnesses do: by the answer found in it.
    const answer = format.extract(result.answer) ?? result.answer.trim();
    return record({
      answer,
      usage: result.usage,
      budgetExhausted: result.budgetExhausted,
      ...(result.answer !== answer && { rawAnswer: result.answer }),
    });
  } catch (error) {
    if (options.signal?.aborted) throw error;
    return record({
      answer: "",
      usage: { ...lastUsed, wallMs: Date.now() - started },
      budgetExhausted: false,
      error: errorMessage(error),
    });
  }
}

/**
 * Runs every problem through a strategy, at most `concurrency` at a time, and scores the answers.
 * A failing problem is recorded with its error and counted as incorrect; only an abort stops the run.
 * Results come back in the problems' order.
 */
export async function runBench(options: RunBenchOptions): Promise<ProblemResult[]> {
  const { problems, signal } = options;
  const concurrency = Math.max(1, Math.floor(options.concurrency));
  const results = new Array<ProblemResult | undefined>(problems.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < problems.length && !signal?.aborted) {
      const index = next++;
      const problem = problems[index] as BenchProblem;
      const result = await runProblem(problem, options);
      results[index] = result;
      options.onResult?.(result);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, problems.length) }, worker));
  if (signal?.aborted) throw new AbortedError("benchmark aborted");
  return results as ProblemResult[];
}

const mean = (values: number[]): number =>
  values.length === 0 ? 0 : values.reduce((sum, v) => sum + v, 0) / values.length;

/**
 * A problem's tokens × parameters (billions) over the models it used; `runModel` stands for results
 * without per-model usage. Undefined when a model that spent tokens has no known size.
 */
export function flopTokensOf(result: ProblemResult, runModel?: string): number | undefined {
  const { usage } = result;
  const byModel =
    usage.byModel ?? (runModel === undefined ? undefined : { [runModel]: usage satisfies ModelUsage });
  if (!byModel) return undefined;
  let total = 0;
  for (const [model, spent] of Object.entries(byModel)) {
    const tokens = spent.promptTokens + spent.completionTokens;
    if (tokens === 0) continue;
    const billions = parameterBillionsOf(model);
    if (billions === undefined) return undefined;
    total += tokens * billions;
  }
  return total;
}

/**
 * Accuracy and mean cost per problem of one run. `model` is the run's model, which results written
 * without per-model usage are charged to.
 */
export function summarize(results: ProblemResult[], options: { model?: string } = {}): BenchSummary {
  const flopTokens = results.map((r) => flopTokensOf(r, options.model));
  return {
    strategy: results[0]?.strategy ?? "",
    problems: results.length,
    accuracy: mean(results.map((r) => (r.correct ? 1 : 0))),
    meanTokens: mean(results.map((r) => r.usage.promptTokens + r.usage.completionTokens)),
    meanCompletionTokens: mean(results.map((r) => r.usage.completionTokens)),
    meanCalls: mean(results.map((r) => r.usage.calls)),
    meanWallMs: mean(results.map((r) => r.usage.wallMs)),
    meanToolCalls: mean(results.map((r) => r.toolCalls ?? 0)),
    meanRepairs: mean(results.map((r) => r.repairs ?? 0)),
    errors: results.filter((r) => r.error !== undefined).length,
    meanFlopTokens: flopTokens.every((t) => t !== undefined) ? mean(flopTokens as number[]) : undefined,
  };
}
