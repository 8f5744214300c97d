import { randomUUID } from "node:crypto";
import { afterEachCall } from "../src/backends/after-each-call.js";
import type { Backend, FinishReason, GenerateResult } from "../src/core/backend.js";
import type { Budget } from "../src/core/budget.js";
import type { GenerationCache } from "../src/core/cache.js";
import type { DeliberateEvent } from "../src/core/event.js";
import type { ToolCall } from "../src/core/message.js";
import type { NoAnswer } from "../src/core/strategy.js";
import { emptyUsage, totalTokens, type Usage } from "../src/core/usage.js";
import {
  type ChatCompletion,
  type ChatCompletionChunk,
  type ChunkDelta,
  OPENING_DELTA,
  toAssistantMessage,
  toChunkChoice,
  toToolCallDelta,
  toWireUsage,
  type WireUsage,
} from "../src/openai-wire/index.js";
import { answerConfidenceOf } from "../src/runtime/answer-confidence.js";
import { noAnswerOf } from "../src/runtime/no-answer.js";
import { runStrategy, type TaskResult } from "../src/runtime/task-context.js";
import type { TraceSink } from "../src/store/trace-sink.js";
import { isSingleCallStrategy } from "../src/strategies/catalog.js";
import type { DirectResult } from "../src/strategies/direct.js";
import { AnswerStream } from "./answer-stream.js";
import type { ApiKeyStore, KeyAccount, TokenReservation } from "./api-key-store.js";
import { type CompletionPlan, planCompletion } from "./completion-plan.js";
import type { ConcurrencyGate } from "./concurrency-gate.js";
import { parseChatRequest } from "./openai-types.js";
import { readJsonBody } from "./read-body.js";
import { incidentOf, ReliabilityReport } from "./reliability-report.js";
import { boundCalls, tokensToHold, withinReservation } from "./request-budget.js";
import type { ServerSettings } from "./server-config.js";
import type { ServerTools } from "./server-tools.js";
import { type SseSink, sseResponse } from "./sse.js";
import { StepBreakdown, type StepUsage } from "./step-breakdown.js";

/** What the chat completions endpoint needs from its app: all per-app state, nothing global. */
export interface CompletionDeps {
  settings: ServerSettings;
  /** Served models by name, each behind its reliability layer and fallback chain. */
  backends: Readonly<Record<string, Backend>>;
  tools: ServerTools;
  keys: ApiKeyStore;
  gate: ConcurrencyGate;
  cache: GenerationCache | undefined;
  /** Where every run's events are stored (in batches); none when tracing is off. */
  traces: TraceSink | undefined;
  /** Runs still going, so closing the app can let them record their end before the trace store closes. */
  inflight: Set<Promise<unknown>>;
}

/** Choice i of a seeded request runs with seed + i × this, clear of the seed + j each sampler uses. */
const CHOICE_SEED_STRIDE = 1_000;

/** One run of the strategy, for one choice. */
interface ChoiceRun {
  result: TaskResult;
  steps: StepUsage[];
  finishReason: FinishReason;
  /** The client's functions the model called (pass-through only). */
  toolCalls: ToolCall[];
  /** Why the run has no answer; unset when it answered (or only called the client's functions). */
  noAnswer: NoAnswer | undefined;
}

/** Everything a request's runs report as they go, beside their results. */
interface RunListeners {
  onEvent(choice: number, event: DeliberateEvent): void;
  onDone(choice: number, run: ChoiceRun): void;
}

const quiet: RunListeners = { onEvent: () => {}, onDone: () => {} };

const nowSeconds = (): number => Math.floor(Date.now() / 1000);
const completionId = (): string => `chatcmpl-${randomUUID().replaceAll("-", "")}`;

/**
 * Runs the plan once per choice, all at once. Each run's tokens are charged to the key as they are
 * spent, also when a run fails or the client leaves; one failing run cancels the others.
 */
async function runChoices(
  plan: CompletionPlan,
  deps: CompletionDeps,
  tokens: TokenReservation,
  signal: AbortSignal,
  budget: Budget,
  report: ReliabilityReport,
  listeners: RunListeners,
): Promise<ChoiceRun[]> {
  // Only sibling runs need cancelling; one run skips the controller and the (not free) combined signal.
  const cancel = plan.choices > 1 ? new AbortController() : undefined;
  const runSignal = cancel ? AbortSignal.any([signal, cancel.signal]) : signal;
  const single = isSingleCallStrategy(plan.strategyName);
  const shared = plan.useCache ? deps.cache : undefined;
  const traces = deps.traces;
  const runOne = async (choice: number): Promise<ChoiceRun> => {
    const steps = new StepBreakdown(choice);
    let used: Usage = emptyUsage();
    let charged = false;
    // How the run's calls ended, live or replayed from the cache: the last one, and whether any was cut.
    const ends: { last: FinishReason; cut: boolean } = { last: "stop", cut: false };
    const noteEnd = (result: GenerateResult) => {
      ends.last = result.completions[0]?.finishReason ?? "stop";
      ends.cut ||= result.completions.some((completion) => completion.finishReason === "length");
    };
    const backend = afterEachCall(plan.backend, (_request, result) => noteEnd(result));
    const tiers = Object.fromEntries(
      Object.entries(plan.tiers).map(([tier, b]) => [
        tier,
        afterEachCall(b, (_r, result) => noteEnd(result)),
      ]),
    );
    const cache: GenerationCache | undefined = shared && {
      get: async (key) => {
        const hit = await shared.get(key);
        if (hit) noteEnd(hit);
        return hit;
      },
      set: (key, value) => shared.set(key, value),
    };
    const seed = plan.input.params?.seed;
    const params =
      seed !== undefined && choice > 0
        ? { ...plan.input.params, seed: seed + choice * CHOICE_SEED_STRIDE }
        : plan.input.params;
    try {
      const running = runStrategy(
        plan.strategy,
        { ...plan.input, ...(params && { params }) },
        {
          backend,
          backends: tiers,
          budget,
          signal: runSignal,
          strategyName: plan.strategyName,
          ...(plan.owner !== undefined && { owner: plan.owner }),
          ...(cache && { cache }),
          onEvent: (event) => {
            traces?.write(event);
            steps.observe(event);
            if (event.type === "budget") used = event.used;
            report.observe(event);
            listeners.onEvent(choice, event);
          },
        },
      );
      const forget = () => deps.inflight.delete(running);
      deps.inflight.add(running);
      running.then(forget, forget);
      const result = await running;
      tokens.charge(totalTokens(result.usage));
      charged = true;
      const passed = plan.passThrough ? (result as TaskResult & DirectResult).details : undefined;
      const toolCalls = passed?.toolCalls ?? [];
      // A turn that only calls the client's functions answers with them, not with text.
      const noAnswer = toolCalls.length > 0 ? undefined : noAnswerOf(result);
      // Only a single call's own end says how an answer ended (the pass-through reads it off the
      // result); a run cut by the budget, or left without an answer by a cut call, ended at its length.
      const finishReason: FinishReason =
        result.budgetExhausted || noAnswer?.reason === "truncated" || (noAnswer && ends.cut)
          ? "length"
          : (passed?.finishReason ?? (single && ends.last === "length" ? "length" : "stop"));
      const run = { result, steps: steps.steps, finishReason, toolCalls, noAnswer };
      listeners.onDone(choice, run);
      return run;
    } catch (error) {
      if (!charged) tokens.charge(totalTokens(used));
      cancel?.abort();
      throw error;
    }
  };
  return Promise.all(Array.from({ length: plan.choices }, (_, choice) => runOne(choice)));
}

function usageOf(runs: readonly ChoiceRun[]): WireUsage {
  const prompt = runs.reduce((sum, run) => sum + run.result.usage.promptTokens, 0);
  const completion = runs.reduce((sum, run) => sum + run.result.usage.completionTokens, 0);
  return toWireUsage(prompt, completion);
}

/** The `deliberate` extension of a finished response: what the strategy spent and where. */
function summaryOf(
  plan: CompletionPlan,
  runs: readonly ChoiceRun[],
  report: ReliabilityReport,
  traced: boolean,
) {
  return {
    strategy: plan.strategyName,
    n: plan.strategyN ?? null,
    calls: runs.reduce((sum, run) => sum + run.result.usage.calls, 0),
    wall_ms: Math.max(0, ...runs.map((run) => run.result.usage.wallMs)),
    budget_exhausted: runs.some((run) => run.result.budgetExhausted),
    // An id is printed only where it resolves: with tracing off, nothing was stored under it.
    trace_id: (traced && runs[0]?.result.traceId) || null,
    trace_ids: traced ? runs.map((run) => run.result.traceId) : [],
    // Why a choice has no answer ({reason, message}), null where it has one: choice 0, then each.
    no_answer: noAnswerJson(runs[0]?.noAnswer),
    no_answers: runs.map((run) => noAnswerJson(run.noAnswer)),
    // How sure the strategy is of choice 0's answer, where it says (auto), and whether that is calibrated.
    confidence: answerConfidenceOf(runs[0]?.result)?.confidence ?? null,
    calibrated: answerConfidenceOf(runs[0]?.result)?.calibrated ?? null,
    steps: runs.flatMap((run) => run.steps),
    reliability: report.toJSON(),
  };
}

const noAnswerJson = (noAnswer: NoAnswer | undefined) =>
  noAnswer ? { reason: noAnswer.reason, message: noAnswer.message } : null;

/**
 * POST /v1/chat/completions: reads and checks the request, waits for a slot, runs the strategy once per
 * choice and answers with a `chat.completion` or, with `stream: true`, a stream of chunks.
 */
export async function handleChatCompletion(
  request: Request,
  account: KeyAccount | undefined,
  deps: CompletionDeps,
): Promise<Response> {
  if (account) await deps.keys.check(account);
  const body = await readJsonBody(request, deps.settings.bodyLimitBytes);
  const plan = { ...planCompletion(parseChatRequest(body), deps), ...(account && { owner: account.id }) };
  const calls = boundCalls(plan, deps.settings.maxCallsPerRequest);
  // Held until the request ends, so concurrent requests cannot all spend the balance each one saw.
  const tokens = await deps.keys.hold(account, tokensToHold(plan), plan.choices);
  const budget = withinReservation(calls, plan.choices, tokens);
  let release: () => void;
  try {
    release = await deps.gate.acquire(request.signal);
  } catch (error) {
    tokens.settle();
    throw error;
  }
  if (plan.stream) {
    return sseResponse(async (sink, gone) => {
      try {
        await streamCompletion(plan, deps, tokens, budget, sink, AbortSignal.any([request.signal, gone]));
      } finally {
        release();
        tokens.settle();
      }
    });
  }
  const report = new ReliabilityReport();
  let runs: ChoiceRun[];
  try {
    runs = await runChoices(plan, deps, tokens, request.signal, budget, report, quiet);
  } finally {
    release();
    tokens.settle();
  }
  const completion: ChatCompletion = {
    id: completionId(),
    object: "chat.completion",
    created: nowSeconds(),
    model: plan.requestedModel,
    system_fingerprint: null,
    choices: runs.map((run, index) => ({
      index,
      message: toAssistantMessage(run.result.answer, run.toolCalls),
      logprobs: null,
      finish_reason: run.finishReason,
    })),
    usage: usageOf(runs),
  };
  return Response.json({
    ...completion,
    deliberate: summaryOf(plan, runs, report, deps.traces !== undefined),
  });
}

/**
 * The chunks of a streamed completion. Content deltas build the answer; every event of the run goes out
 * as an extra chunk with `choices: []` and `deliberate: {choice, event}`, which OpenAI clients skip.
 */
async function streamCompletion(
  plan: CompletionPlan,
  deps: CompletionDeps,
  tokens: TokenReservation,
  budget: Budget,
  sink: SseSink,
  signal: AbortSignal,
): Promise<void> {
  const id = completionId();
  const created = nowSeconds();
  /** A chunk; `deliberate` carries what OpenAI clients skip (events, the summary). */
  const chunk = (
    fields: Pick<ChatCompletionChunk, "choices"> & Partial<ChatCompletionChunk> & { deliberate?: unknown },
  ): ChatCompletionChunk => ({
    id,
    object: "chat.completion.chunk",
    created,
    model: plan.requestedModel,
    system_fingerprint: null,
    ...(plan.includeUsage && { usage: null }),
    ...fields,
  });
  const delta = (index: number, content: ChunkDelta) =>
    sink.send(chunk({ choices: [toChunkChoice(index, content)] }));

  const answers = Array.from({ length: plan.choices }, () => new AnswerStream());
  for (let index = 0; index < plan.choices; index++) delta(index, OPENING_DELTA);

  const report = new ReliabilityReport();
  const runs = await runChoices(plan, deps, tokens, signal, budget, report, {
    onEvent: (choice, event) => {
      if (event.type === "token" && plan.liveText === "content") {
        const text = answers[choice]?.push(event.text);
        if (text) delta(choice, { content: text });
        return;
      }
      if (event.type === "token" && plan.liveText === "reasoning") {
        if (event.text) delta(choice, { reasoning_content: event.text });
        return;
      }
      // Retries and fallbacks as they happen, in the response's own terms (model names), not as events.
      if (event.type === "incident") {
        sink.send(chunk({ choices: [], deliberate: { choice, reliability: incidentOf(event.incident) } }));
        return;
      }
      sink.send(chunk({ choices: [], deliberate: { choice, event } }));
    },
    onDone: (choice, run) => {
      const rest = answers[choice]?.finish(run.result.answer);
      if (rest) delta(choice, { content: rest });
      if (run.toolCalls.length > 0) {
        delta(choice, { tool_calls: run.toolCalls.map((call, index) => toToolCallDelta(call, index)) });
      }
      sink.send(
        chunk({
          choices: [toChunkChoice(choice, {}, run.finishReason)],
          // Said where the choice ends, so a client reading only choice chunks still learns why it is empty.
          ...(run.noAnswer && { deliberate: { choice, no_answer: noAnswerJson(run.noAnswer) } }),
        }),
      );
    },
  });
  sink.send(
    chunk({ choices: [], deliberate: { result: summaryOf(plan, runs, report, deps.traces !== undefined) } }),
  );
  if (plan.includeUsage) sink.send(chunk({ choices: [], usage: usageOf(runs) }));
}
