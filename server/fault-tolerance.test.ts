import OpenAI from "openai";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createOpenAIBackend } from "../src/backends/openai/openai-backend.js";
import { createScriptedBackend } from "../src/backends/scripted/scripted-backend.js";
import {
  type FaultPlan,
  type OpenAICompatibleServer,
  startOpenAICompatibleServer,
} from "../src/testing/openai-compatible-server.js";
import { ReliabilityReport } from "./reliability-report.js";
import type { ReliabilityOverride } from "./server-config.js";
import { startTestApp, type TestApp } from "./test-app.js";

const ANSWER = "Paris is the capital of France.";
const messages = [{ role: "user" as const, content: "What is the capital of France?" }];

interface Reliability {
  retries: number;
  fallbacks: number;
  models: string[];
  incidents: Array<{ type: string; model: string; to?: string; code: string }>;
}
type Completion = OpenAI.Chat.ChatCompletion & { deliberate: { reliability: Reliability } };

/**
 * The server's models are openai backends in front of fake upstreams that fail on purpose. Each
 * backend makes one attempt per call: retries, timeouts and breakers are the server's.
 */
describe("fault tolerance against a faulty OpenAI-compatible upstream", () => {
  const open: Array<{ close(): Promise<void> }> = [];
  afterEach(async () => {
    for (const thing of open.splice(0).reverse()) await thing.close();
  });

  const upstream = async (faults?: FaultPlan, answer = ANSWER): Promise<OpenAICompatibleServer> => {
    const server = await startOpenAICompatibleServer({
      backend: createScriptedBackend({ model: "upstream", respond: [answer] }),
      ...(faults && { faults }),
    });
    open.push(server);
    return server;
  };
  const backendFor = (server: OpenAICompatibleServer) =>
    // A long own timeout: the server's reliability layer decides when an attempt took too long.
    createOpenAIBackend({ baseUrl: server.url, model: "upstream", maxRetries: 0, timeoutMs: 30_000 });
  /** Small, jitter-free backoff so the tests stay quick. */
  const quick: ReliabilityOverride = { retries: 3, retryBaseDelayMs: 5, retryMaxDelayMs: 20 };
  const serve = async (
    models: Record<
      string,
      { server: OpenAICompatibleServer; fallback?: string[]; reliability?: ReliabilityOverride }
    >,
  ): Promise<{ app: TestApp; client: OpenAI }> => {
    const app = await startTestApp({
      models: Object.fromEntries(
        Object.entries(models).map(([name, model]) => [
          name,
          {
            backend: backendFor(model.server),
            ...(model.fallback && { fallback: model.fallback }),
            reliability: { ...quick, ...model.reliability },
          },
        ]),
      ),
      cache: false,
    });
    open.push(app);
    return { app, client: app.client() };
  };
  const complete = async (client: OpenAI, model = "default", extra: Record<string, unknown> = {}) =>
    (await client.chat.completions.create({ model, messages, ...extra })) as Completion;

  it("(a) retries an upstream that times out, then succeeds", async () => {
    const server = await upstream({ first: { count: 2, fault: { type: "delay", ms: 5_000 } } });
    const { client } = await serve({ default: { server, reliability: { timeoutMs: 150 } } });
    const started = Date.now();
    const answer = await complete(client);
    expect(answer.choices[0]?.message.content).toBe(ANSWER);
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(server.requests).toBe(3);
    expect(answer.deliberate.reliability).toMatchObject({ retries: 2, fallbacks: 0, models: ["default"] });
    expect(answer.deliberate.reliability.incidents.map((i) => i.code)).toEqual([
      "backend_timeout",
      "backend_timeout",
    ]);
  });

  it("(a') answers 504 when every attempt times out", async () => {
    const server = await upstream({ first: { count: 100, fault: { type: "delay", ms: 5_000 } } });
    const { client } = await serve({ default: { server, reliability: { timeoutMs: 100, retries: 1 } } });
    const error = await complete(client).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect(error).toMatchObject({ status: 504, code: "backend_timeout" });
    expect(server.requests).toBe(2);
  });

  it("(b) 5xx twice then OK: success, with the retries in the response and in the stream", async () => {
    const server = await upstream({
      byRequest: {
        1: { type: "status", status: 503 },
        2: { type: "status", status: 500 },
        4: { type: "status", status: 502 },
      },
    });
    const { app, client } = await serve({ default: { server } });
    const answer = await complete(client);
    expect(answer.choices[0]?.message.content).toBe(ANSWER);
    expect(answer.deliberate.reliability.retries).toBe(2);
    expect(answer.deliberate.reliability.incidents).toEqual([
      expect.objectContaining({ type: "retry", model: "default", code: "backend_http" }),
      expect.objectContaining({ type: "retry", model: "default", code: "backend_http" }),
    ]);
    // The retries are events of the run too, so its stored trace shows them.
    const traceId = (answer as unknown as { deliberate: { trace_id: string } }).deliberate.trace_id;
    await vi.waitFor(() => expect(app.app.store.traces.get(traceId)?.state).toBe("ended"));
    const incidents = app.app.store.traces.events(traceId).filter((e) => e.type === "incident");
    expect(incidents.map((e) => e.type === "incident" && [e.incident.type, e.incident.code])).toEqual([
      ["retry", "backend_http"],
      ["retry", "backend_http"],
    ]);

    // Streamed: a retry before any token arrives is invisible in the content, reported in a chunk.
    const stream = await client.chat.completions.create({ model: "default", messages, stream: true });
    let content = "";
    const extras: Array<Record<string, unknown>> = [];
    for await (const chunk of stream) {
      content += chunk.choices[0]?.delta.content ?? "";
      const extension = (chunk as unknown as { deliberate?: Record<string, unknown> }).deliberate;
      if (extension) extras.push(extension);
    }
    expect(content).toBe(ANSWER);
    expect(extras.find((e) => e.reliability)).toMatchObject({ choice: 0, reliability: { type: "retry" } });
    expect(extras.at(-1)).toMatchObject({ result: { reliability: { retries: 1 } } });
    expect(server.requests).toBe(5);
  });

  it("(c) retries a malformed answer, and fails cleanly with 502 when it stays malformed", async () => {
    const flaky = await upstream({ byRequest: { 1: { type: "malformed" } } });
    const first = await serve({ default: { server: flaky } });
    const answer = await complete(first.client);
    expect(answer.choices[0]?.message.content).toBe(ANSWER);
    expect(answer.deliberate.reliability.incidents[0]?.code).toBe("backend_invalid_response");

    const broken = await upstream({ first: { count: 100, fault: { type: "malformed" } } });
    const second = await serve({ default: { server: broken, reliability: { retries: 2 } } });
    const error = await complete(second.client).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect(error).toMatchObject({ status: 502, code: "backend_invalid_response" });
    expect((error as Error).message).toMatch(/malformed JSON/);
    expect(broken.requests).toBe(3);
    expect((await second.app.fetch("/health")).status).toBe(200);
  });

  it("(d) a stream dropped mid-way ends in one clean error chunk, is not retried, and the server lives on", async () => {
    const server = await upstream(
      { byRequest: { 1: { type: "drop", afterChunks: 2 } } },
      "Paris is the capital of France, and it sits on the Seine.",
    );
    const { app, client } = await serve({ default: { server } });
    const stream = await client.chat.completions.create({ model: "default", messages, stream: true });
    let content = "";
    const failure = await (async () => {
      for await (const chunk of stream) content += chunk.choices[0]?.delta.content ?? "";
    })().catch((e: unknown) => e);
    // Tokens had reached the client, so the server did not try again: it reported the break.
    expect(content.length).toBeGreaterThan(0);
    expect(failure).toBeInstanceOf(OpenAI.APIError);
    expect((failure as Error).message).toMatch(/broke off|ended before/);
    expect(server.requests).toBe(1);

    expect((await app.fetch("/health")).status).toBe(200);
    const next = await complete(client);
    expect(next.choices[0]?.message.content).toMatch(/^Paris/);
  });

  it("(e) a primary that always fails hands the call to its fallback model", async () => {
    const primary = await upstream({ first: { count: 1_000, fault: { type: "status", status: 503 } } });
    const backup = await upstream(undefined, "Backup says: Paris.");
    const { client } = await serve({
      primary: { server: primary, fallback: ["backup"], reliability: { retries: 1, breaker: false } },
      backup: { server: backup },
    });
    const answer = await complete(client, "primary", { temperature: 0 });
    expect(answer.choices[0]?.message.content).toBe("Backup says: Paris.");
    expect(answer.model).toBe("primary");
    expect(answer.deliberate.reliability).toMatchObject({ retries: 1, fallbacks: 1, models: ["backup"] });
    expect(answer.deliberate.reliability.incidents.at(-1)).toMatchObject({
      type: "fallback",
      model: "primary",
      to: "backup",
    });
    expect(primary.requests).toBe(2);
    // Strategies work through the chain too.
    const cot = await complete(client, "cot/primary");
    expect(cot.deliberate.reliability.fallbacks).toBe(1);
  });

  it("(e') a stand-in's answer is not cached as the primary's", async () => {
    const primary = await upstream({ first: { count: 1, fault: { type: "status", status: 503 } } });
    const backup = await upstream(undefined, "Backup says: Paris.");
    const app = await startTestApp({
      models: {
        primary: { backend: backendFor(primary), fallback: ["backup"], reliability: { retries: 0 } },
        backup: { backend: backendFor(backup) },
      },
    });
    open.push(app);
    const client = app.client();
    const first = await complete(client, "primary", { temperature: 0 });
    expect(first.choices[0]?.message.content).toBe("Backup says: Paris.");
    // The primary is back: a deterministic repeat asks it rather than replaying the stand-in's answer.
    const second = await complete(client, "primary", { temperature: 0 });
    expect(second.choices[0]?.message.content).toBe(ANSWER);
    const third = await complete(client, "primary", { temperature: 0 });
    expect(third.choices[0]?.message.content).toBe(ANSWER);
    expect(primary.requests).toBe(2);
  });

  it("(e'') a retry then a fallback: the report is read from the run's events, which name the model that served", async () => {
    const primary = await upstream({ first: { count: 1_000, fault: { type: "status", status: 503 } } });
    const backup = await upstream(undefined, "Backup says: Paris.");
    const { app, client } = await serve({
      primary: { server: primary, fallback: ["backup"], reliability: { retries: 1, breaker: false } },
      backup: { server: backup },
    });
    const answer = await complete(client, "primary");
    const traceId = (answer as unknown as { deliberate: { trace_id: string } }).deliberate.trace_id;
    await vi.waitFor(() => expect(app.app.store.traces.get(traceId)?.state).toBe("ended"));
    const stored = app.app.store.traces.events(traceId);
    // The stored trace holds which model served the call, in the call's step.
    const served = stored.filter((e) => e.type === "served");
    expect(served).toEqual([expect.objectContaining({ backend: "backup", fallback: true, stepId: "s1" })]);
    // Read back from the stored events, the report is the response's own, incident for incident.
    const fromEvents = new ReliabilityReport();
    for (const event of stored) fromEvents.observe(event);
    expect(answer.deliberate.reliability).toEqual(fromEvents.toJSON());
    expect(fromEvents.toJSON()).toMatchObject({ retries: 1, fallbacks: 1, models: ["backup"] });

    // Streamed: the served event goes out like any event, retries and fallbacks as reliability chunks.
    const stream = await client.chat.completions.create({ model: "primary", messages, stream: true });
    const extras: Array<Record<string, unknown>> = [];
    for await (const chunk of stream) {
      const extension = (chunk as unknown as { deliberate?: Record<string, unknown> }).deliberate;
      if (extension) extras.push(extension);
    }
    expect(extras.filter((e) => e.reliability).map((e) => (e.reliability as { type: string }).type)).toEqual([
      "retry",
      "fallback",
    ]);
    expect(extras.find((e) => (e.event as { type?: string } | undefined)?.type === "served")).toMatchObject({
      choice: 0,
      event: { type: "served", backend: "backup", fallback: true },
    });
    expect(extras.at(-1)).toMatchObject({
      result: { reliability: { retries: 1, fallbacks: 1, models: ["backup"] } },
    });
  });

  it("(f) the breaker opens after K failures: later calls fail fast without reaching the upstream", async () => {
    const server = await upstream({ first: { count: 3, fault: { type: "status", status: 500 } } });
    const { app, client } = await serve({
      default: { server, reliability: { retries: 0, breaker: { failureThreshold: 3, cooldownMs: 400 } } },
    });
    for (let i = 0; i < 3; i++) {
      await expect(complete(client)).rejects.toMatchObject({ status: 502, code: "backend_http" });
    }
    expect(server.requests).toBe(3);
    expect(app.app.backends.default?.breaker?.state).toBe("open");

    const timings: number[] = [];
    for (let i = 0; i < 5; i++) {
      const started = performance.now();
      const response = await app.fetch("/v1/chat/completions", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "default", messages }),
      });
      timings.push(performance.now() - started);
      expect(response.status).toBe(503);
      expect(response.headers.get("retry-after")).toBe("1");
      expect(await response.json()).toMatchObject({ error: { code: "circuit_open", type: "server_error" } });
    }
    // Not one of them reached the upstream.
    expect(server.requests).toBe(3);
    expect(Math.max(...timings)).toBeLessThan(250);

    // After the cool-down one probe goes through; the upstream has recovered, so the circuit closes.
    await new Promise((resolve) => setTimeout(resolve, 450));
    expect(app.app.backends.default?.breaker?.state).toBe("half-open");
    expect((await complete(client)).choices[0]?.message.content).toBe(ANSWER);
    expect(app.app.backends.default?.breaker?.state).toBe("closed");
    expect(server.requests).toBe(4);
  });
});
