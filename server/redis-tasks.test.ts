import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createScriptedBackend } from "../src/backends/scripted/scripted-backend.js";
import type { Backend } from "../src/core/backend.js";
import type { DeliberateEvent } from "../src/core/event.js";
import type { RedisTaskWorker } from "../src/tasks/redis/redis-task-worker.js";
import { gatedBackend } from "../test/gated-backend.js";
import { startTestRedis, type TestRedis } from "../test/redis-server.js";
import { type AppConfig, createApp, type DeliberateApp } from "./create-app.js";
import { redisTaskQueue, redisTaskWorker } from "./redis-task-service.js";
import { parseEventStream, startTestApp, type TestApp } from "./test-app.js";
import { derivedWebhookSecret, signWebhook } from "./webhooks.js";

const REPLY = "Six times seven is 42. The answer is 42";
const body = (model: string) => ({ model, messages: [{ role: "user", content: "What is 6 * 7?" }] });
const post = (app: TestApp, path: string, payload: unknown) =>
  app.fetch(path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(payload),
  });
const dataEvents = (text: string) =>
  parseEventStream(text)
    .filter((e) => e.event === undefined)
    .map((e) => ({ id: e.id, event: JSON.parse(e.data) as DeliberateEvent }));

describe("serve --redis: tasks on a shared queue, run by workers", () => {
  let redis: TestRedis;
  const closers: (() => Promise<void>)[] = [];
  beforeAll(async () => {
    redis = await startTestRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
  });
  const server = async (prefix: string, url = redis.url, extra: Partial<AppConfig> = {}) => {
    const app = await startTestApp({
      models: { default: createScriptedBackend({ respond: [REPLY] }) },
      taskService: redisTaskQueue({ url, prefix }),
      ...extra,
    });
    closers.push(() => app.close());
    return app;
  };
  /** A worker app: the server's resolver and store, no HTTP. */
  const worker = async (prefix: string, backend: Backend, extra: Partial<AppConfig> = {}) => {
    let started: RedisTaskWorker | undefined;
    const app: DeliberateApp = createApp({
      ...extra,
      models: { default: backend },
      taskService: redisTaskWorker({
        url: redis.url,
        prefix,
        onWorker: (w) => {
          started = w;
        },
      }),
    });
    closers.push(() => app.close());
    await started?.ready();
    return app;
  };

  it("a task submitted to one server runs on a worker; a second server replays its events after Last-Event-ID", async () => {
    const prefix = `s${randomUUID().slice(0, 8)}`;
    const gated = gatedBackend(1, REPLY);
    const workerApp = await worker(prefix, gated.backend);
    const a = await server(prefix);
    const b = await server(prefix);
    const submitted = await post(a, "/v1/tasks", body("sc-3/default"));
    expect(submitted.status, await submitted.clone().text()).toBe(202);
    const { id } = (await submitted.json()) as { id: string };
    await gated.gateReached;
    // B sees it running (its record is in Redis), follows it live, then the worker finishes it.
    expect(((await (await b.fetch(`/v1/tasks/${id}`)).json()) as { status: string }).status).toBe("running");
    const following = b.fetch(`/v1/tasks/${id}/events`).then((r) => r.text());
    await new Promise((resolve) => setTimeout(resolve, 100));
    gated.release();
    const full = parseEventStream(await following);
    const events = dataEvents(await following);
    expect(events.map((e) => e.id)).toEqual(events.map((_, i) => String(i)));
    expect(events.at(-1)?.event.type).toBe("task.end");
    expect(JSON.parse(full.at(-1)?.data ?? "{}")).toMatchObject({ id, status: "succeeded", error: null });

    const resumed = await b.fetch(`/v1/tasks/${id}/events`, { headers: { "last-event-id": "3" } });
    expect(dataEvents(await resumed.text())).toEqual(events.slice(4));
    const task = (await (await a.fetch(`/v1/tasks/${id}`)).json()) as {
      status: string;
      result: { answer: string; usage: { calls: number } };
    };
    expect(task.status).toBe("succeeded");
    expect(task.result.answer).toBe("42");
    expect(task.result.usage.calls).toBe(3);
    // The worker stored the trace in its own database.
    expect(workerApp.store.traces.events(id, { limit: 1000 }).map((e) => e.seq)).toEqual(
      events.map((e) => e.event.seq),
    );
  });

  it("the worker that ran a task sends its webhook, signed with the submitting key's secret", async () => {
    const prefix = `w${randomUUID().slice(0, 8)}`;
    const received: { body: string; signature: string }[] = [];
    const receiver = createServer((req, res) => {
      let text = "";
      req.on("data", (chunk) => {
        text += chunk;
      });
      req.on("end", () => {
        received.push({ body: text, signature: String(req.headers["deliberate-signature"]) });
        res.end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    closers.push(() => new Promise((resolve) => receiver.close(() => resolve())));
    // Servers and workers share one config: keys and the webhook allow-list.
    const shared = { apiKeys: [{ key: "sk-w", name: "w" }], webhooks: { allowHosts: ["127.0.0.1"] } };
    await worker(prefix, createScriptedBackend({ respond: [REPLY] }), shared);
    const app = await server(prefix, redis.url, shared);
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/done`;
    const submitted = await app.fetch("/v1/tasks", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer sk-w" },
      body: JSON.stringify({ ...body("default"), webhook_url: url }),
    });
    expect(submitted.status, await submitted.clone().text()).toBe(202);
    const { id } = (await submitted.json()) as { id: string };
    const deadline = Date.now() + 5000;
    while (received.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(received).toHaveLength(1);
    expect(JSON.parse(received[0]?.body ?? "{}")).toMatchObject({ id, status: "succeeded" });
    const [, t, v1] = /^t=(\d+),v1=(\w+)$/.exec(received[0]?.signature ?? "") ?? [];
    expect(v1).toBe(
      signWebhook(derivedWebhookSecret("sk-w"), Number(t), received[0]?.body ?? "").split("v1=")[1],
    );
  });

  it("Redis unreachable: task submission is a 503 task_queue_unavailable; chat completions still answer", async () => {
    const app = await server("gone", "redis://127.0.0.1:1");
    const submitted = await post(app, "/v1/tasks", body("default"));
    expect(submitted.status).toBe(503);
    expect(submitted.headers.get("retry-after")).toBe("1");
    const error = ((await submitted.json()) as { error: { code: string; type: string; message: string } })
      .error;
    expect(error.code).toBe("task_queue_unavailable");
    expect(error.message).toMatch(/Redis/);
    expect((await app.fetch("/v1/tasks/task_x")).status).toBe(503);
    const chat = await post(app, "/v1/chat/completions", body("default"));
    expect(chat.status).toBe(200);
    expect(
      ((await chat.json()) as { choices: { message: { content: string } }[] }).choices[0]?.message.content,
    ).toBe(REPLY);
  });
});
