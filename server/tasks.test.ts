import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createScriptedBackend } from "../src/backends/scripted/scripted-backend.js";
import type { ServerSentEvent } from "../src/openai-wire/index.js";
import { gatedBackend } from "../test/gated-backend.js";
import type { AppConfig } from "./create-app.js";
import { parseEventStream, startTestApp, type TestApp } from "./test-app.js";

const REPLY = "Six times seven is 42. The answer is 42";
const question = [{ role: "user", content: "What is 6 * 7?" }];

interface TaskObject {
  id: string;
  object: string;
  status: string;
  model: string | null;
  strategy: string;
  result: { answer: string; trace_id: string; usage: { calls: number; total_tokens: number } } | null;
  usage: { calls: number } | null;
  error: { code: string; message: string } | null;
}
const eventTypes = (events: ServerSentEvent[]) =>
  events.filter((e) => e.event === undefined).map((e) => (JSON.parse(e.data) as { type: string }).type);

describe("the tasks API over loopback HTTP", () => {
  const apps: TestApp[] = [];
  let dir: string;
  const start = async (config: AppConfig) => {
    const app = await startTestApp(config);
    apps.push(app);
    return app;
  };
  const json = (body: unknown, headers: Record<string, string> = {}) => ({
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  const submit = async (app: TestApp, body: Record<string, unknown>, headers?: Record<string, string>) => {
    const response = await app.fetch("/v1/tasks", json({ messages: question, ...body }, headers));
    expect(response.status, await response.clone().text()).toBe(202);
    expect(response.headers.get("location")).toMatch(/^\/v1\/tasks\/task_/);
    return (await response.json()) as TaskObject;
  };
  const getTask = async (app: TestApp, id: string, headers?: Record<string, string>) =>
    (await (await app.fetch(`/v1/tasks/${id}`, { headers })).json()) as TaskObject;
  /** Reads the whole event stream (it ends with the task). */
  const readEvents = async (app: TestApp, id: string, init?: RequestInit, query = "") =>
    parseEventStream(await (await app.fetch(`/v1/tasks/${id}/events${query}`, init)).text());

  const alice = { authorization: "Bearer sk-alice" };
  const bob = { authorization: "Bearer sk-bob" };
  /** A server with two API keys, alice's and bob's. */
  const startWithKeys = () =>
    start({
      models: { default: createScriptedBackend({ respond: [REPLY] }) },
      apiKeys: [
        { key: "sk-alice", name: "alice" },
        { key: "sk-bob", name: "bob" },
      ],
    });
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "deliberate-server-tasks-"));
  });
  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close();
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("runs a submitted chat body in the background; its result, usage and trace are readable", async () => {
    const app = await start({ models: { default: createScriptedBackend({ respond: [REPLY] }) } });
    const created = await submit(app, { model: "sc-3/default" });
    expect(created).toMatchObject({ object: "task", model: "default", strategy: "sc", n: 3 });
    expect(created.status).toMatch(/queued|running/);

    const events = await readEvents(app, created.id);
    const end = events.at(-1);
    expect(end?.event).toBe("end");
    expect(JSON.parse(end?.data ?? "{}")).toMatchObject({ id: created.id, status: "succeeded" });
    const stored = events.filter((e) => e.event === undefined);
    expect(stored.map((e) => e.id)).toEqual(stored.map((_, i) => String(i)));
    expect(eventTypes(events)[0]).toBe("task.start");
    expect(eventTypes(events)).toContain("vote");
    expect(eventTypes(events).at(-1)).toBe("task.end");

    const done = await getTask(app, created.id);
    expect(done.status).toBe("succeeded");
    expect(done.result).toMatchObject({ answer: "42", trace_id: created.id, usage: { calls: 3 } });
    expect(done.error).toBeNull();
    // Replay from a seq, or after the Last-Event-ID a reconnecting EventSource sends.
    const fromFive = await readEvents(app, created.id, undefined, "?from=5");
    expect(fromFive[0]?.id).toBe("5");
    const resumed = await readEvents(app, created.id, { headers: { "last-event-id": "5" } });
    expect(resumed[0]?.id).toBe("6");
    expect(resumed.length).toBe(stored.length - 6 + 1);
  });

  it("streams a running task's events live after the stored ones, and cancels it on DELETE", async () => {
    const gated = gatedBackend(1, REPLY);
    const app = await start({ models: { default: gated.backend } });
    const created = await submit(app, { model: "sc-3/default" });
    await gated.gateReached;

    const response = await app.fetch(`/v1/tasks/${created.id}/events`);
    expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let text = "";
    // The stored part arrives at once: at least the first sample.
    while (!text.includes('"type":"sample"')) {
      const { value } = await reader.read();
      text += decoder.decode(value, { stream: true });
    }
    expect((await getTask(app, created.id)).status).toBe("running");

    const cancelled = await app.fetch(`/v1/tasks/${created.id}`, { method: "DELETE" });
    expect(cancelled.status).toBe(200);
    expect(((await cancelled.json()) as TaskObject).status).toBe("cancelled");
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    const events = parseEventStream(text);
    expect(JSON.parse(events.at(-1)?.data ?? "{}")).toMatchObject({ status: "cancelled" });
    expect(eventTypes(events).at(-1)).toBe("error");
    // A finished task cannot be cancelled again.
    const again = await app.fetch(`/v1/tasks/${created.id}`, { method: "DELETE" });
    expect(again.status).toBe(409);
    expect(((await again.json()) as { error: { code: string } }).error.code).toBe("task_finished");
  });

  it("answers 404 in the OpenAI shape for unknown ids, 400 for what a task cannot do", async () => {
    const app = await start({ models: { default: createScriptedBackend() } });
    for (const [path, method] of [
      ["/v1/tasks/task_nope", "GET"],
      ["/v1/tasks/task_nope", "DELETE"],
      ["/v1/tasks/task_nope/events", "GET"],
    ] as const) {
      const response = await app.fetch(path, { method });
      expect(response.status).toBe(404);
      expect(await response.json()).toMatchObject({
        error: { code: "task_not_found", type: "not_found_error", param: "id" },
      });
    }
    const refused: Array<[Record<string, unknown>, string]> = [
      [{ model: "default", stream: true }, "stream"],
      [{ model: "default", n: 2 }, "n"],
      [{ model: "magic-4/default" }, "model"],
      [{ model: "default", deliberate: { strategy: "nope" } }, "deliberate.strategy"],
      [{ model: "default", messages: [] }, "messages"],
    ];
    for (const [body, param] of refused) {
      const response = await app.fetch("/v1/tasks", json({ messages: question, ...body }));
      expect(response.status, JSON.stringify(body)).toBeGreaterThanOrEqual(400);
      expect(response.status, JSON.stringify(body)).toBeLessThan(500);
      const error = ((await response.json()) as { error: { param: string | null } }).error;
      if (response.status === 400) expect(error.param, JSON.stringify(body)).toBe(param);
    }
    expect((await app.fetch("/v1/tasks/x/events?from=-1")).status).toBe(404);
    const finished = await submit(app, { model: "default" });
    await readEvents(app, finished.id);
    const badFrom = await app.fetch(`/v1/tasks/${finished.id}/events?from=abc`);
    expect(badFrom.status).toBe(400);
    expect((await app.fetch("/v1/tasks", { method: "PUT" })).status).toBe(405);
    for (const query of ["status=done", "limit=0", "limit=101", "limit=2.5"]) {
      const response = await app.fetch(`/v1/tasks?${query}`);
      expect(response.status, query).toBe(400);
      expect(await response.json()).toMatchObject({ error: { code: "invalid_value" } });
    }
  });

  it("lists tasks newest first, by status, a page at a time, and only the caller's own with keys on", async () => {
    const app = await startWithKeys();
    const mine: string[] = [];
    for (let i = 0; i < 3; i++) {
      const created = await submit(app, { model: "default" }, alice);
      await readEvents(app, created.id, { headers: alice });
      mine.push(created.id);
    }
    const bobs = await submit(app, { model: "default" }, bob);
    await readEvents(app, bobs.id, { headers: bob });
    const list = async (query: string, headers: Record<string, string>) => {
      const response = await app.fetch(`/v1/tasks${query}`, { headers });
      expect(response.status).toBe(200);
      return (await response.json()) as { object: string; data: TaskObject[]; has_more: boolean };
    };
    const all = await list("", alice);
    expect(all.object).toBe("list");
    expect(all.data.map((t) => t.id)).toEqual([...mine].reverse());
    expect(all.has_more).toBe(false);
    const page = await list("?limit=2", alice);
    expect(page.data.map((t) => t.id)).toEqual([mine[2], mine[1]]);
    expect(page.has_more).toBe(true);
    expect((await list("?status=succeeded", bob)).data.map((t) => t.id)).toEqual([bobs.id]);
    expect((await list("?status=running", bob)).data).toEqual([]);
    expect((await app.fetch("/v1/tasks")).status).toBe(401);
  });

  it("shows a task only to the key that submitted it", async () => {
    const app = await startWithKeys();
    const created = await submit(app, { model: "cot/default" }, alice);
    expect((await app.fetch(`/v1/tasks/${created.id}`)).status).toBe(401);
    const asBob = await app.fetch(`/v1/tasks/${created.id}`, { headers: bob });
    expect(asBob.status).toBe(404);
    await readEvents(app, created.id, { headers: alice });
    expect((await getTask(app, created.id, alice)).result?.answer).toBe("42");
  });

  it("survives a restart: the running task fails as interrupted with its partial trace, the queued one runs", async () => {
    const file = join(dir, "restart.db");
    const gated = gatedBackend(1, REPLY);
    const serverA = await startTestApp({
      models: { default: gated.backend },
      db: file,
      tasks: { maxConcurrent: 1 },
    });
    let closedA = false;
    try {
      const running = await submit(serverA, { model: "sc-3/default" });
      const queued = await submit(serverA, { model: "cot/default", temperature: 0 });
      await gated.gateReached;
      expect((await getTask(serverA, running.id)).status).toBe("running");
      expect((await getTask(serverA, queued.id)).status).toBe("queued");
      await serverA.close();
      closedA = true;

      const fresh = createScriptedBackend({ respond: [REPLY] });
      const serverB = await start({ models: { default: fresh }, db: file, tasks: { maxConcurrent: 1 } });
      const interrupted = await getTask(serverB, running.id);
      expect(interrupted.status).toBe("failed");
      expect(interrupted.error?.code).toBe("interrupted");
      expect(interrupted.usage?.calls).toBe(1);
      const trace = await readEvents(serverB, running.id);
      const types = eventTypes(trace);
      expect(types[0]).toBe("task.start");
      expect(types).toContain("sample");
      expect(JSON.parse(trace.filter((e) => e.event === undefined).at(-1)?.data ?? "{}")).toMatchObject({
        type: "error",
        code: "interrupted",
      });
      expect(JSON.parse(trace.at(-1)?.data ?? "{}")).toMatchObject({ status: "failed" });

      await readEvents(serverB, queued.id);
      const rerun = await getTask(serverB, queued.id);
      expect(rerun.status).toBe("succeeded");
      expect(rerun.result?.answer).toBe("42");
      expect(fresh.requests).toHaveLength(1);
    } finally {
      if (!closedA) await serverA.close();
    }
  });
});
