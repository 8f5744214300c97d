import type { AnswerFormat } from "../answers/answer-format.js";
import type { Backend, GenerationParams } from "../core/backend.js";
import type { Budget } from "../core/budget.js";
import { AbortedError, errorMessage } from "../core/errors.js";
import type { DeliberateEvent } from "../core/event.js";
import { userMessage } from "../core/message.js";
import type { Strategy } from "../core/strategy.js";
import { emptyUsage, type Usage } from "../core/usage.js";
import { newTaskId, runStrategy } from "../runtime/task-context.js";
import type { TraceSink } from "../store/trace-sink.js";

/** One question with a known answer, in any dataset's format. */
export interface BenchProblem {
  id: number | string;
  question: string;
  gold: string;
}

export interface ProblemUsage {
  promptTokens: number;
  completionTokens: number;
  calls: number;
  wallMs: number;
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
    usage: usageOf(outcome.usage),
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
        backend: options.backend,
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

/** Accuracy and mean cost per problem of one run. */
export function summarize(results: ProblemResult[]): BenchSummary {
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
  };
}
