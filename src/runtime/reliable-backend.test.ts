import { describe, expect, it } from "vitest";
import type { Backend, BackendIncident, GenerateRequest, GenerateResult, ServedBy } from "../core/backend.js";
import { AbortedError, BackendError } from "../core/errors.js";
import { userMessage } from "../core/message.js";
import { emptyUsage } from "../core/usage.js";
import { CircuitOpenError } from "./circuit-breaker.js";
import { createFallbackBackend } from "./fallback-backend.js";
import { createReliableBackend } from "./reliable-backend.js";

type Step = "ok" | "hang" | Error | { stream: string; after: Error };

/** A backend that plays `steps` in order, one per call (the last repeats), counting calls. */
function stepBackend(steps: Step[], model = "m"): Backend & { calls: number } {
  const backend = {
    kind: "fake",
    model,
    capabilities: { confidence: false, jsonSchema: false, grammar: false, rawPrompt: false, tools: false },
    calls: 0,
    async generate(request: GenerateRequest): Promise<GenerateResult> {
      const step = steps[Math.min(backend.calls++, steps.length - 1)] as Step;
      if (step === "hang") {
        await new Promise((_resolve, reject) => {
          request.signal?.addEventListener("abort", () => reject(new AbortedError()), { once: true });
        });
      }
      if (step instanceof Error) throw step;
      if (typeof step === "object" && "stream" in step) {
        request.onDelta?.({ index: 0, text: step.stream });
        throw step.after;
      }
      return {
        completions: [
          {
            index: 0,
            text: `answer from ${model}`,
            finishReason: "stop",
            promptTokens: 1,
            completionTokens: 1,
          },
        ],
        usage: { ...emptyUsage(), calls: 1 },
        model,
      };
    },
    close: async () => {},
  };
  return backend;
}

const outage = () => new BackendError("http", "503 busy", { status: 503, retryable: true });
const request: GenerateRequest = { messages: [userMessage("hi")] };
const noSleep = { sleep: async () => {}, random: () => 0.5 };

/** What a reliability layer reports on one call, in order: its incidents, then who served it. */
type ReliabilityEvent = BackendIncident | ({ type: "served" } & ServedBy);
const watched = (events: ReliabilityEvent[]): GenerateRequest => ({
  ...request,
  onIncident: (incident) => events.push(incident),
  onServed: (served) => events.push({ type: "served", ...served }),
});

describe("createReliableBackend", () => {
  it("retries outages with jittered backoff and reports each retry", async () => {
    const inner = stepBackend([outage(), outage(), "ok"]);
    const slept: number[] = [];
    const reliable = createReliableBackend("m", inner, {
      retries: 3,
      retryBaseDelayMs: 100,
      random: () => 0.5,
      sleep: async (ms) => void slept.push(ms),
    });
    const events: ReliabilityEvent[] = [];
    const result = await reliable.generate(watched(events));
    expect(result.completions[0]?.text).toBe("answer from m");
    expect(inner.calls).toBe(3);
    expect(slept).toEqual([50, 100]);
    expect(events.map((e) => e.type)).toEqual(["retry", "retry", "served"]);
    expect(events[0]).toMatchObject({ backend: "m", attempt: 0, code: "backend_http" });
  });

  it("turns a slow attempt into a retryable timeout and tries again", async () => {
    const inner = stepBackend(["hang", "ok"]);
    const reliable = createReliableBackend("m", inner, { timeoutMs: 20, ...noSleep });
    const events: ReliabilityEvent[] = [];
    await reliable.generate(watched(events));
    expect(inner.calls).toBe(2);
    expect(events[0]).toMatchObject({ type: "retry", code: "backend_timeout" });
  });

  it("does not retry client errors, or anything after text reached the caller", async () => {
    const rejected = stepBackend([new BackendError("http", "400 bad", { status: 400 }), "ok"]);
    await expect(createReliableBackend("m", rejected, noSleep).generate(request)).rejects.toThrow(/400/);
    expect(rejected.calls).toBe(1);

    const streamed = stepBackend([{ stream: "Hel", after: outage() }, "ok"]);
    const deltas: string[] = [];
    await expect(
      createReliableBackend("m", streamed, noSleep).generate({
        ...request,
        onDelta: (d) => deltas.push(d.text),
      }),
    ).rejects.toThrow(/503/);
    expect(streamed.calls).toBe(1);
    expect(deltas).toEqual(["Hel"]);
  });

  it("stops at once when the caller aborts, without counting it against the circuit", async () => {
    const inner = stepBackend(["hang"]);
    const reliable = createReliableBackend("m", inner, {
      breaker: { failureThreshold: 1, cooldownMs: 1000 },
    });
    const controller = new AbortController();
    const call = reliable.generate({ ...request, signal: controller.signal });
    setTimeout(() => controller.abort(), 5);
    await expect(call).rejects.toBeInstanceOf(AbortedError);
    expect(reliable.breaker?.state).toBe("closed");
  });

  it("opens the circuit after K failed attempts; later calls fail fast without reaching the backend", async () => {
    let now = 0;
    const inner = stepBackend([outage(), outage(), outage(), "ok"]);
    const reliable = createReliableBackend("m", inner, {
      retries: 5,
      breaker: { failureThreshold: 3, cooldownMs: 1000 },
      now: () => now,
      ...noSleep,
    });
    // The retry loop ends as soon as the circuit opens, with the breaker's error.
    await expect(reliable.generate(request)).rejects.toBeInstanceOf(CircuitOpenError);
    expect(inner.calls).toBe(3);
    await expect(reliable.generate(request)).rejects.toMatchObject({ code: "circuit_open" });
    expect(inner.calls).toBe(3);
    now += 1000;
    // Half-open: the probe goes through, succeeds, and the circuit closes.
    await expect(reliable.generate(request)).resolves.toBeDefined();
    expect(inner.calls).toBe(4);
    expect(reliable.breaker?.state).toBe("closed");
  });
});

describe("createFallbackBackend", () => {
  it("hands an outage to the next backend once the first has spent its retries", async () => {
    const primary = stepBackend([outage()], "big");
    const backup = stepBackend(["ok"], "small");
    const chain = createFallbackBackend([
      createReliableBackend("big", primary, { retries: 1, ...noSleep }),
      createReliableBackend("small", backup, noSleep),
    ]);
    const events: ReliabilityEvent[] = [];
    const result = await chain.generate(watched(events));
    expect(result.model).toBe("small");
    expect(primary.calls).toBe(2);
    expect(events.map((e) => e.type)).toEqual(["retry", "fallback", "served"]);
    expect(events[1]).toMatchObject({ from: "big", to: "small", code: "backend_http" });
    expect(events[2]).toMatchObject({ backend: "small", fallback: true });
    expect(chain.model).toBe("big");
  });

  it("skips a backend whose circuit is open, and does not fall back on client errors", async () => {
    const primary = stepBackend([outage()], "big");
    const backup = stepBackend(["ok"], "small");
    const big = createReliableBackend("big", primary, {
      retries: 0,
      breaker: { failureThreshold: 1, cooldownMs: 60_000 },
    });
    const chain = createFallbackBackend([big, createReliableBackend("small", backup)]);
    await chain.generate(request);
    await chain.generate(request);
    expect(primary.calls).toBe(1);
    expect(backup.calls).toBe(2);

    const bad = stepBackend([new BackendError("http", "400 bad", { status: 400 })], "big");
    const strict = createFallbackBackend([
      createReliableBackend("big", bad),
      createReliableBackend("small", stepBackend(["ok"])),
    ]);
    await expect(strict.generate(request)).rejects.toThrow(/400/);
  });

  it("never falls back once text was streamed", async () => {
    const primary = stepBackend([{ stream: "Hel", after: outage() }], "big");
    const backup = stepBackend(["ok"], "small");
    const chain = createFallbackBackend([
      createReliableBackend("big", primary, noSleep),
      createReliableBackend("small", backup),
    ]);
    await expect(chain.generate({ ...request, onDelta: () => {} })).rejects.toThrow(/503/);
    expect(backup.calls).toBe(0);
  });
});
