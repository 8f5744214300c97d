import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { numericFormat } from "../answers/numeric-format.js";
import { createScriptedBackend, type ScriptedResponder } from "../backends/scripted/scripted-backend.js";
import type { Backend, GenerateRequest } from "../core/backend.js";
import { AbortedError } from "../core/errors.js";
import type { Strategy } from "../core/strategy.js";
import { openStore } from "../store/open-store.js";
import { TraceWriter } from "../store/trace-writer.js";
import { cot } from "../strategies/cot.js";
import { direct } from "../strategies/direct.js";
import { selfConsistency } from "../strategies/self-consistency.js";
import {
  type BenchProblem,
  flopTokensOf,
  type ProblemResult,
  problemSeed,
  runBench,
  summarize,
} from "./bench-runner.js";

const problems: BenchProblem[] = [
  { id: 0, question: "Tom has 2 apples and gets 3 more. How many?", gold: "5" },
  { id: 1, question: "A week has how many days?", gold: "7" },
  { id: 2, question: "How many metres in a kilometre?", gold: "1,000" },
  { id: 3, question: "What is half of 8?", gold: "4" },
];

/** Answers by question: right for 0 and 2 (2 in another notation), wrong for 1, no answer for 3. */
const replies: ScriptedResponder = ({ prompt }) => {
  if (prompt.startsWith("Tom")) return "2 + 3 = 5. The answer is 5";
  if (prompt.startsWith("A week")) return "The answer is 8";
  if (prompt.startsWith("How many metres")) return "The answer is $1000";
  return "I am not sure.";
};

const base = { strategyLabel: "cot", format: numericFormat, concurrency: 1 };

/** Wraps a backend to hold each call for `delayMs(request)` and record the most calls in flight at once. */
function trackConcurrency(inner: Backend, delayMs: (request: GenerateRequest) => number) {
  const stats = { inFlight: 0, maxInFlight: 0, started: 0 };
  const backend: Backend = {
    kind: inner.kind,
    model: inner.model,
    capabilities: inner.capabilities,
    async generate(request) {
      stats.started++;
      stats.inFlight++;
      stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
      try {
        await sleep(delayMs(request));
        return await inner.generate(request);
      } finally {
        stats.inFlight--;
      }
    },
    close: () => inner.close(),
  };
  return { backend, stats };
}

describe("runBench", () => {
  it("scores answers by canonical form and summarises accuracy and cost", async () => {
    const backend = createScriptedBackend({ respond: replies });
    const seen: ProblemResult[] = [];
    const store = openStore(":memory:");
    const traces = new TraceWriter(store.traces);
    const results = await runBench({
      ...base,
      problems,
      strategy: cot({ format: numericFormat }),
      backend,
      onResult: (r) => seen.push(r),
      traces,
    });
    await traces.close();
    expect(results.map((r) => r.id)).toEqual([0, 1, 2, 3]);
    expect(results.map((r) => r.correct)).toEqual([true, false, true, false]);
    expect(results.map((r) => r.answer)).toEqual(["5", "8", "1000", "I am not sure."]);
    expect(results.every((r) => r.strategy === "cot" && r.error === undefined)).toBe(true);
    expect(new Set(results.map((r) => r.traceId)).size).toBe(4);
    expect(results[0]?.traceId).toMatch(/^task_/);
    // Each id names its problem's stored trace.
    expect(results.map((r) => store.traces.get(r.traceId ?? "")?.input)).toEqual(
      problems.map((p) => p.question),
    );
    expect(results.every((r) => store.traces.get(r.traceId ?? "")?.state === "ended")).toBe(true);
    store.close();
    expect(results.every((r) => r.usage.calls === 1 && r.usage.completionTokens > 0)).toBe(true);
    expect(seen).toHaveLength(4);

    const summary = summarize(results);
    const tokens = results.map((r) => r.usage.promptTokens + r.usage.completionTokens);
    expect(summary).toMatchObject({ strategy: "cot", problems: 4, accuracy: 0.5, meanCalls: 1, errors: 0 });
    expect(summary.meanTokens).toBeCloseTo(tokens.reduce((a, b) => a + b, 0) / 4);
    expect(summary.meanCompletionTokens).toBeLessThan(summary.meanTokens);
  });

  it("extracts the answer from free text, keeping the text beside it", async () => {
    const backend = createScriptedBackend({ respond: ["She ends up with 1,000 beads in all."] });
    const [result] = await runBench({
      ...base,
      problems: [{ id: "beads", question: "How many beads?", gold: "1000" }],
      strategy: direct,
      strategyLabel: "direct",
      backend,
    });
    expect(result).toMatchObject({
      answer: "1000",
      correct: true,
      rawAnswer: "She ends up with 1,000 beads in all.",
    });
  });

  it("records each problem's tokens by the model that spent them, and weighs them by its size", async () => {
    const small = createScriptedBackend({
      model: "qwen2.5-coder-0.5b-instruct",
      respond: ["The answer is 5"],
    });
    const large = createScriptedBackend({
      model: "qwen2.5-coder-1.5b-instruct",
      respond: ["It is 5. The answer is 5"],
    });
    // Asks the small model, then checks with the large one on every second problem: an escalation.
    const escalating: Strategy = async (ctx, input) => {
      const first = await ctx.generate({ messages: input.messages });
      if (input.params?.seed !== undefined && input.params.seed % 2000 === 0) {
        await ctx.generate({ messages: input.messages }, { backend: "large" });
      }
      return { answer: first.completions[0]?.text ?? "", strategy: "escalating", budgetExhausted: false };
    };
    const results = await runBench({
      ...base,
      problems: problems.slice(0, 2),
      strategy: escalating,
      strategyLabel: "escalating",
      backend: small,
      backends: { large },
    });
    expect(results.map((r) => r.error)).toEqual([undefined, undefined]);
    const [escalated, alone] = results as [ProblemResult, ProblemResult];
    const byModel = escalated.usage.byModel ?? {};
    expect(Object.keys(byModel).sort()).toEqual([
      "qwen2.5-coder-0.5b-instruct",
      "qwen2.5-coder-1.5b-instruct",
    ]);
    expect(byModel["qwen2.5-coder-1.5b-instruct"]?.calls).toBe(1);
    // The parts add up to the problem's usage.
    const parts = Object.values(byModel);
    expect(parts.reduce((sum, u) => sum + u.promptTokens, 0)).toBe(escalated.usage.promptTokens);
    expect(parts.reduce((sum, u) => sum + u.completionTokens, 0)).toBe(escalated.usage.completionTokens);
    expect(Object.keys(alone.usage.byModel ?? {})).toEqual(["qwen2.5-coder-0.5b-instruct"]);

    const tokens = (u: { promptTokens: number; completionTokens: number } | undefined) =>
      (u?.promptTokens ?? 0) + (u?.completionTokens ?? 0);
    const escalatedFlop =
      tokens(byModel["qwen2.5-coder-0.5b-instruct"]) * 0.49 +
      tokens(byModel["qwen2.5-coder-1.5b-instruct"]) * 1.54;
    expect(tokens(byModel["qwen2.5-coder-1.5b-instruct"])).toBeGreaterThan(0);
    expect(flopTokensOf(escalated)).toBeCloseTo(escalatedFlop);
    expect(summarize(results).meanFlopTokens).toBeCloseTo((escalatedFlop + tokens(alone.usage) * 0.49) / 2);
    // Results written before usage by model: all on the run's model, and unknown without one.
    const old = results.map(({ usage: { byModel: _byModel, ...usage }, ...rest }) => ({ ...rest, usage }));
    expect(summarize(old).meanFlopTokens).toBeUndefined();
    expect(summarize(old, { model: "qwen2.5-coder-1.5b-instruct" }).meanFlopTokens).toBeCloseTo(
      ((tokens(escalated.usage) + tokens(alone.usage)) * 1.54) / 2,
    );
    // A model of unknown size (an endpoint's) leaves the weighed cost unknown rather than wrong.
    const endpoint = createScriptedBackend({ model: "gpt-4o-mini", respond: ["The answer is 5"] });
    const viaEndpoint = await runBench({ ...base, problems, strategy: direct, backend: endpoint });
    expect(summarize(viaEndpoint, { model: "qwen2.5-coder-0.5b-instruct" }).meanFlopTokens).toBeUndefined();
  });

  it("gives no traceId when no trace is stored, since it would name nothing", async () => {
    const results = await runBench({
      ...base,
      problems: problems.slice(0, 2),
      strategy: cot({ format: numericFormat }),
      backend: createScriptedBackend({ respond: replies }),
    });
    expect(results).toHaveLength(2);
    expect(results.some((r) => "traceId" in r)).toBe(false);
  });

  it("records a failing problem as an incorrect error and carries on", async () => {
    const backend = createScriptedBackend({
      respond: (turn) => (turn.prompt.startsWith("A week") ? new Error("model fell over") : replies(turn)),
    });
    const seen: ProblemResult[] = [];
    const store = openStore(":memory:");
    const traces = new TraceWriter(store.traces);
    const results = await runBench({
      ...base,
      problems,
      strategy: cot({ format: numericFormat }),
      backend,
      concurrency: 2,
      onResult: (r) => seen.push(r),
      traces,
    });
    await traces.close();
    expect(results.map((r) => r.correct)).toEqual([true, false, true, false]);
    expect(results[1]).toMatchObject({ answer: "", correct: false, error: "model fell over" });
    // A failed problem's trace is stored too, with its error.
    expect(store.traces.get(results[1]?.traceId ?? "")?.error?.message).toBe("model fell over");
    store.close();
    expect(results.filter((r) => r.error !== undefined)).toHaveLength(1);
    expect(seen).toHaveLength(4);
    expect(summarize(results).errors).toBe(1);
  });

  it("keeps at most `concurrency` problems in flight and returns results in problem order", async () => {
    const many = Array.from({ length: 9 }, (_, id) => ({
      id,
      question: `Q${id}: what is ${id}?`,
      gold: String(id),
    }));
    for (const concurrency of [1, 3]) {
      const { backend, stats } = trackConcurrency(
        createScriptedBackend({ respond: ({ prompt }) => `The answer is ${prompt.match(/\d+/)?.[0]}` }),
        // Later problems finish sooner, so completion order differs from problem order.
        (request) => 5 + 4 * (9 - Number(request.messages?.[0]?.content.match(/\d+/)?.[0] ?? 0)),
      );
      const finished: Array<number | string> = [];
      const results = await runBench({
        ...base,
        problems: many,
        strategy: cot({ format: numericFormat }),
        backend,
        concurrency,
        onResult: (r) => finished.push(r.id),
      });
      expect(stats.maxInFlight).toBe(concurrency);
      expect(stats.started).toBe(9);
      expect(results.map((r) => r.id)).toEqual(many.map((p) => p.id));
      expect(results.every((r) => r.correct)).toBe(true);
      if (concurrency > 1) expect(finished).not.toEqual(many.map((p) => p.id));
    }
  });

  it("derives each problem's seed from the run's seed and the problem's id, reproducibly", async () => {
    // Each sample's answer depends only on its seed, so equal seeds give equal answers.
    const bySeed: ScriptedResponder = ({ request }) => `The answer is ${(request.seed ?? 0) % 5}`;
    const run = async (seed: number) => {
      const backend = createScriptedBackend({ respond: bySeed });
      const results = await runBench({
        ...base,
        problems,
        strategy: selfConsistency({ format: numericFormat, n: 3 }),
        strategyLabel: "sc-n3",
        backend,
        concurrency: 2,
        seed,
      });
      const seedsByQuestion = new Map<string, number[]>();
      for (const request of backend.requests) {
        const question = request.messages?.[0]?.content.split("\n")[0] ?? "";
        seedsByQuestion.set(
          question,
          [...(seedsByQuestion.get(question) ?? []), request.seed ?? -1].sort((a, b) => a - b),
        );
      }
      return { results, seedsByQuestion };
    };
    const first = await run(7);
    const again = await run(7);
    const other = await run(8);
    const strip = (rs: ProblemResult[]) => rs.map(({ answer, correct, seed }) => ({ answer, correct, seed }));
    expect(strip(again.results)).toEqual(strip(first.results));
    expect(again.seedsByQuestion).toEqual(first.seedsByQuestion);
    expect(other.seedsByQuestion).not.toEqual(first.seedsByQuestion);

    expect(first.results.map((r) => r.seed)).toEqual(problems.map((p) => problemSeed(7, p.id)));
    expect(new Set(first.results.map((r) => r.seed)).size).toBe(problems.length);
    // Sample i of a problem is seeded with the problem's seed + i.
    const seed0 = problemSeed(7, 0);
    expect(first.seedsByQuestion.get(problems[0]?.question ?? "")).toEqual([seed0, seed0 + 1, seed0 + 2]);
  });

  it("gives string ids stable, distinct seeds", () => {
    expect(problemSeed(0, "gsm-17")).toBe(problemSeed(0, "gsm-17"));
    expect(problemSeed(0, "gsm-17")).not.toBe(problemSeed(0, "gsm-18"));
    expect(problemSeed(3, 2)).toBe(2003);
    expect(Number.isSafeInteger(problemSeed(2 ** 31 - 1, "x"))).toBe(true);
  });

  it("applies the budget per problem", async () => {
    const backend = createScriptedBackend({ respond: ["The answer is 5"] });
    const results = await runBench({
      ...base,
      problems: problems.slice(0, 2),
      strategy: selfConsistency({ format: numericFormat, n: 4, roundSize: 1 }),
      strategyLabel: "sc-n4",
      backend,
      budget: { maxCalls: 2 },
    });
    expect(results.map((r) => r.budgetExhausted)).toEqual([true, true]);
    expect(results.map((r) => r.usage.calls)).toEqual([2, 2]);
    expect(results.map((r) => r.correct)).toEqual([true, false]);
  });

  it("stops taking problems when aborted and rejects", async () => {
    const controller = new AbortController();
    const backend = createScriptedBackend({ respond: replies });
    const run = runBench({
      ...base,
      problems,
      strategy: cot({ format: numericFormat }),
      backend,
      signal: controller.signal,
      onResult: () => controller.abort(),
    });
    await expect(run).rejects.toBeInstanceOf(AbortedError);
    expect(backend.requests).toHaveLength(1);
  });
});
