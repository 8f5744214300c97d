import { describe, expect, it } from "vitest";
import { createScriptedBackend } from "../backends/scripted/scripted-backend.js";
import { BackendError, BudgetExhaustedError } from "../core/errors.js";
import type { DeliberateEvent } from "../core/event.js";
import { userMessage } from "../core/message.js";
import type { Strategy } from "../core/strategy.js";
import { direct } from "../strategies/direct.js";
import { createFallbackBackend } from "./fallback-backend.js";
import { MemoryGenerationCache } from "./memory-cache.js";
import { createReliableBackend } from "./reliable-backend.js";
import { runStrategy } from "./task-context.js";

const input = { messages: [userMessage("What is 2 + 2?")] };

/** Calls the model until the budget says stop, keeping every finished answer. */
const untilExhausted: Strategy = async (ctx, { messages }) => {
  const answers: string[] = [];
  try {
    for (;;) answers.push((await ctx.generate({ messages, temperature: 0.5 })).completions[0]?.text ?? "");
  } catch (error) {
    if (!(error instanceof BudgetExhaustedError)) throw error;
    return { answer: answers.at(-1) ?? "", strategy: "loop", budgetExhausted: true, details: { answers } };
  }
};

describe("runStrategy", () => {
  it("frames a task with start and end events and reports usage", async () => {
    const events: DeliberateEvent[] = [];
    const backend = createScriptedBackend({ respond: ["four"] });
    const result = await runStrategy(direct, input, { backend, onEvent: (e) => events.push(e) });
    expect(result.answer).toBe("four");
    expect(result.strategy).toBe("direct");
    expect(result.usage.calls).toBe(1);
    expect(result.usage.completionTokens).toBe(1);
    expect(result.traceId).toMatch(/^task_/);
    expect(events[0]?.type).toBe("task.start");
    expect(events.at(-1)?.type).toBe("task.end");
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i));
    expect(new Set(events.map((e) => e.taskId))).toEqual(new Set([result.traceId]));
    const types = events.map((e) => e.type);
    expect(types).toEqual(["task.start", "step.start", "token", "budget", "step.end", "task.end"]);
  });

  it("stops a strategy at the call limit and keeps what finished", async () => {
    const backend = createScriptedBackend({ respond: ["a", "b", "c", "d", "e"] });
    const result = await runStrategy(untilExhausted, input, { backend, budget: { maxCalls: 3 } });
    expect(result.budgetExhausted).toBe(true);
    expect(result.details?.answers).toEqual(["a", "b", "c"]);
    expect(result.usage.calls).toBe(3);
    expect(backend.requests).toHaveLength(3);
  });

  it("admits no more concurrent calls than the call limit allows", async () => {
    const backend = createScriptedBackend({ respond: ["x"], tokenDelayMs: 5 });
    const burst: Strategy = async (ctx, { messages }) => {
      const outcomes = await Promise.allSettled(Array.from({ length: 5 }, () => ctx.generate({ messages })));
      const refused = outcomes.filter(
        (o) => o.status === "rejected" && o.reason instanceof BudgetExhaustedError,
      );
      return { answer: String(refused.length), strategy: "burst", budgetExhausted: refused.length > 0 };
    };
    const result = await runStrategy(burst, input, { backend, budget: { maxCalls: 3 } });
    expect(result.answer).toBe("2");
    expect(backend.requests).toHaveLength(3);
    expect(result.usage.calls).toBe(3);
  });

  it("caps each call's max tokens to what the token budget has left", async () => {
    const backend = createScriptedBackend({ respond: ["one two three four five six seven eight nine ten"] });
    const result = await runStrategy(untilExhausted, input, { backend, budget: { maxTokens: 30 } });
    expect(result.budgetExhausted).toBe(true);
    const used = result.usage.promptTokens + result.usage.completionTokens;
    // The call that crosses the limit may overshoot by its prompt, never by its completion.
    expect(result.usage.completionTokens).toBeLessThanOrEqual(30);
    expect(used).toBeGreaterThanOrEqual(30);
    expect(backend.requests.every((r) => (r.maxTokens ?? Infinity) <= 30)).toBe(true);
  });

  it("turns a deadline hit mid-generation into budget exhaustion", async () => {
    const backend = createScriptedBackend({ tokenDelayMs: 20 });
    const events: DeliberateEvent[] = [];
    const result = await runStrategy(direct, input, {
      backend,
      budget: { deadlineMs: 50 },
      onEvent: (e) => events.push(e),
    });
    expect(result.budgetExhausted).toBe(true);
    expect(result.answer).toBe("");
    const end = events.at(-1);
    expect(end?.type === "task.end" && end.budgetExhausted).toBe(true);
  });

  it("refuses new calls once the cost limit is reached", async () => {
    const backend = createScriptedBackend();
    const priced = {
      ...backend,
      kind: backend.kind,
      model: backend.model,
      capabilities: backend.capabilities,
      close: () => backend.close(),
      generate: async (req: Parameters<typeof backend.generate>[0]) => {
        const result = await backend.generate(req);
        return { ...result, usage: { ...result.usage, costUsd: 0.01 } };
      },
    };
    const result = await runStrategy(untilExhausted, input, {
      backend: priced,
      budget: { maxCostUsd: 0.025 },
    });
    expect(result.usage.calls).toBe(3);
    expect(result.usage.costUsd).toBeCloseTo(0.03);
  });

  it("serves deterministic repeats from the cache without charging the budget", async () => {
    const backend = createScriptedBackend();
    const cache = new MemoryGenerationCache();
    const twice: Strategy = async (ctx, { messages }) => {
      const a = await ctx.generate({ messages, temperature: 0 });
      const b = await ctx.generate({ messages, temperature: 0 });
      const c = await ctx.generate({ messages, temperature: 0.9 }); // sampled without seed: never cached
      return {
        answer: a.completions[0]?.text ?? "",
        strategy: "twice",
        budgetExhausted: false,
        details: { same: a.completions[0]?.text === b.completions[0]?.text, c: c.completions.length },
      };
    };
    const result = await runStrategy(twice, input, { backend, cache });
    expect(result.details?.same).toBe(true);
    expect(backend.requests).toHaveLength(2);
    expect(result.usage.calls).toBe(2);
  });

  it("streams which backend served each call, and caches no fallback's answer as the requested model's", async () => {
    let primaryDown = true;
    const outage = new BackendError("http", "503 busy", { status: 503, retryable: true });
    const primary = createScriptedBackend({ model: "big", respond: () => (primaryDown ? outage : "four") });
    const backup = createScriptedBackend({ model: "small", respond: ["4, says the backup"] });
    const chain = createFallbackBackend([
      createReliableBackend("big", primary, { retries: 1, breaker: false, sleep: async () => {} }),
      createReliableBackend("small", backup, { breaker: false }),
    ]);
    const greedyOnce: Strategy = async (ctx, { messages }) => ({
      answer: (await ctx.generate({ messages, temperature: 0 })).completions[0]?.text ?? "",
      strategy: "once",
      budgetExhausted: false,
    });
    const cache = new MemoryGenerationCache();
    const run = async () => {
      const events: DeliberateEvent[] = [];
      const result = await runStrategy(greedyOnce, input, {
        backend: chain,
        cache,
        onEvent: (e) => events.push(e),
      });
      const reliability = events.filter((e) => e.type === "incident" || e.type === "served");
      return { result, reliability };
    };

    const first = await run();
    expect(first.result.answer).toBe("4, says the backup");
    expect(first.reliability.map((e) => (e.type === "incident" ? e.incident.type : e.type))).toEqual([
      "retry",
      "fallback",
      "served",
    ]);
    // In the call's step, so a stored trace shows which model answered each call.
    expect(first.reliability.at(-1)).toMatchObject({
      type: "served",
      backend: "small",
      fallback: true,
      stepId: "s1",
    });

    // The primary is back: the repeat asks it rather than replaying the stand-in's answer.
    primaryDown = false;
    const second = await run();
    expect(second.result.answer).toBe("four");
    expect(second.reliability).toEqual([
      expect.objectContaining({ type: "served", backend: "big", fallback: false }),
    ]);
    // The primary's own answer is cached: a third run replays it without a call, so nothing is served.
    const third = await run();
    expect(third.result.answer).toBe("four");
    expect(third.result.usage.calls).toBe(0);
    expect(third.reliability).toEqual([]);
    expect(primary.requests).toHaveLength(3);
    expect(backup.requests).toHaveLength(1);
  });

  it("nests steps and attributes usage to each enclosing step", async () => {
    const backend = createScriptedBackend({ respond: ["x y"] });
    const events: DeliberateEvent[] = [];
    const nested: Strategy = async (ctx, { messages }) => {
      await ctx.step({ kind: "outer" }, async (outer) => {
        await outer.generate({ messages });
        await outer.step({ kind: "inner" }, (inner) => inner.generate({ messages }));
      });
      return { answer: "done", strategy: "nested", budgetExhausted: false };
    };
    await runStrategy(nested, input, { backend, onEvent: (e) => events.push(e) });
    const starts = events.filter((e) => e.type === "step.start");
    expect(starts.map((e) => (e.type === "step.start" ? [e.kind, e.parentStepId] : []))).toEqual([
      ["outer", undefined],
      ["generate", "s1"],
      ["inner", "s1"],
      ["generate", "s3"],
    ]);
    const outerEnd = events.find((e) => e.type === "step.end" && e.stepId === "s1");
    expect(outerEnd?.type === "step.end" && outerEnd.usage.completionTokens).toBe(4);
    const innerEnd = events.find((e) => e.type === "step.end" && e.stepId === "s3");
    expect(innerEnd?.type === "step.end" && innerEnd.usage.completionTokens).toBe(2);
  });

  it("reports a failure as an error event and rethrows it", async () => {
    const backend = createScriptedBackend({ respond: [new Error("model exploded")] });
    const events: DeliberateEvent[] = [];
    await expect(runStrategy(direct, input, { backend, onEvent: (e) => events.push(e) })).rejects.toThrow(
      "model exploded",
    );
    const last = events.at(-1);
    expect(last?.type).toBe("error");
    expect(last?.type === "error" && last.recovered).toBe(false);
  });

  it("keeps running when an event listener throws", async () => {
    const backend = createScriptedBackend({ respond: ["ok"] });
    const result = await runStrategy(direct, input, {
      backend,
      onEvent: () => {
        throw new Error("broken view");
      },
    });
    expect(result.answer).toBe("ok");
  });
});
