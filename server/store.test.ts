import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createScriptedBackend, type ScriptedBackend } from "../src/backends/scripted/scripted-backend.js";
import { openDatabase } from "../src/store/sqlite-database.js";
import { TraceStore } from "../src/store/trace-store.js";
import { gatedBackend } from "../test/gated-backend.js";
import { startTestApp, type TestApp, testBackendOptions } from "./test-app.js";

type Summary = { trace_id: string; calls: number };
const messages = [{ role: "user" as const, content: "What is the capital of France?" }];

async function complete(client: OpenAI, body: Record<string, unknown>) {
  return (await client.chat.completions.create({
    model: "default",
    messages,
    ...body,
  } as OpenAI.Chat.ChatCompletionCreateParamsNonStreaming)) as OpenAI.Chat.ChatCompletion & {
    deliberate: Summary;
  };
}

describe("the server's database: traces and the generation cache", () => {
  let dir: string;
  let file: string;
  let backend: ScriptedBackend;
  let app: TestApp;
  let client: OpenAI;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "deliberate-server-store-"));
    file = join(dir, "deliberate.db");
    backend = createScriptedBackend(testBackendOptions);
    app = await startTestApp({ models: { default: backend }, db: file, cache: { maxEntries: 100 } });
    client = app.client();
  });
  afterAll(async () => {
    await app?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("stores every completion's events under the response's trace id, streamed or not", async () => {
    const answer = await complete(client, { model: "sc-3/default" });
    const stream = await client.chat.completions.create({ model: "default", messages, stream: true });
    let streamedTrace: string | undefined;
    for await (const chunk of stream) {
      const result = (chunk as unknown as { deliberate?: { result?: Summary } }).deliberate?.result;
      if (result) streamedTrace = result.trace_id;
    }
    // Another connection, as `deliberate trace --db FILE` opens it. Traces are written from a worker
    // within traceFlushMs of the response, so wait for the streamed one to have ended.
    const db = openDatabase(file);
    try {
      const traces = new TraceStore(db);
      await vi.waitFor(() => expect(traces.get(streamedTrace as string)?.state).toBe("ended"), {
        timeout: 5_000,
      });
      const voted = traces.get(answer.deliberate.trace_id);
      expect(voted).toMatchObject({
        state: "ended",
        strategy: "sc",
        answer: answer.choices[0]?.message.content,
      });
      const events = traces.events(answer.deliberate.trace_id);
      expect(events.filter((e) => e.type === "sample")).toHaveLength(3);
      expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i));
      const streamed = traces.events(streamedTrace as string);
      expect(streamed.some((e) => e.type === "token")).toBe(true);
      expect(streamed.at(-1)?.type).toBe("task.end");
    } finally {
      db.close();
    }
  });

  it("still records how a run ended when the server shuts down in the middle of it", async () => {
    const own = join(dir, "shutdown.db");
    const gated = gatedBackend(0, "Paris. The answer is Paris");
    const server = await startTestApp({ models: { default: gated.backend }, db: own });
    const stream = server.fetch("/v1/chat/completions", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "default", messages, stream: true }),
    });
    const reading = stream.then((r) => r.text()).catch((e: unknown) => e);
    await gated.gateReached;
    await server.close();
    await reading;
    const db = openDatabase(own);
    try {
      const [trace] = new TraceStore(db).list({ limit: 1 });
      expect(trace).toMatchObject({ state: "failed", error: { code: "aborted" } });
    } finally {
      db.close();
    }
  });

  it("answers a repeated deterministic request from the cache, unless the request opts out", async () => {
    const body = { temperature: 0, messages: [{ role: "user", content: "Cache me if you can." }] };
    const before = backend.requests.length;
    const first = await complete(client, body);
    expect(backend.requests.length).toBe(before + 1);
    const second = await complete(client, body);
    expect(backend.requests.length).toBe(before + 1);
    expect(second.choices[0]?.message.content).toBe(first.choices[0]?.message.content);
    // A fixed seed is deterministic too.
    await complete(client, { ...body, temperature: 0.8, seed: 7 });
    await complete(client, { ...body, temperature: 0.8, seed: 7 });
    expect(backend.requests.length).toBe(before + 2);
    await complete(client, { ...body, deliberate: { cache: false } });
    expect(backend.requests.length).toBe(before + 3);
    // Sampling without a seed is never replayed.
    await complete(client, { ...body, temperature: 0.8 });
    await complete(client, { ...body, temperature: 0.8 });
    expect(backend.requests.length).toBe(before + 5);
  });

  it("keeps the cache across a restart on the same file", async () => {
    const body = { temperature: 0, messages: [{ role: "user", content: "Remember me after a restart." }] };
    await complete(client, body);
    const fresh = createScriptedBackend(testBackendOptions);
    const restarted = await startTestApp({ models: { default: fresh }, db: file });
    try {
      await complete(restarted.client(), body);
      expect(fresh.requests).toHaveLength(0);
    } finally {
      await restarted.close();
    }
  });
});

describe("a server with tracing off", () => {
  it("prints no trace id, since nothing was stored under it", async () => {
    const app = await startTestApp({
      models: { default: createScriptedBackend(testBackendOptions) },
      trace: false,
      cache: false,
    });
    try {
      const answer = (await complete(app.client(), {})) as unknown as {
        deliberate: { trace_id: string | null; trace_ids: string[] };
      };
      expect(answer.deliberate.trace_id).toBeNull();
      expect(answer.deliberate.trace_ids).toEqual([]);
    } finally {
      await app.close();
    }
  });
});
