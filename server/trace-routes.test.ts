import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { createScriptedBackend } from "../src/backends/scripted/scripted-backend.js";
import { gatedBackend } from "../test/gated-backend.js";
import type { AppConfig } from "./create-app.js";
import { startTestApp, type TestApp, testBackendOptions } from "./test-app.js";
import type { TraceObject } from "./trace-routes.js";
import { VIEWER_NOT_BUILT } from "./web-viewer.js";

type TraceList = { object: "list"; data: TraceObject[]; has_more: boolean; facets: unknown };
type TraceWithEvents = TraceObject & { events: { type: string; seq: number }[]; next_from: number | null };

const question = [{ role: "user", content: "What is 2 + 2?" }];
const post = (body: unknown, headers: Record<string, string> = {}) => ({
  method: "POST",
  headers: { "content-type": "application/json", ...headers },
  body: JSON.stringify({ messages: question, ...(body as object) }),
});

describe("the traces API (/v1/traces)", () => {
  const apps: TestApp[] = [];
  const start = async (config: Partial<AppConfig> = {}) => {
    const app = await startTestApp({
      models: { default: createScriptedBackend(testBackendOptions) },
      viewerAssets: null,
      ...config,
    });
    apps.push(app);
    return app;
  };
  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close();
  });
  const list = async (app: TestApp, query = "", headers?: Record<string, string>) => {
    const response = await app.fetch(`/v1/traces${query}`, { headers });
    expect(response.status, await response.clone().text()).toBe(200);
    return (await response.json()) as TraceList;
  };
  /** Runs a chat completion and a task, and waits until both traces have ended. */
  const twoRuns = async (app: TestApp, headers: Record<string, string> = {}) => {
    const completion = await app.fetch("/v1/chat/completions", post({ model: "sc-3/default" }, headers));
    expect(completion.status).toBe(200);
    const runId = ((await completion.json()) as { deliberate: { trace_id: string } }).deliberate.trace_id;
    const task = await app.fetch("/v1/tasks", post({ model: "cot/default" }, headers));
    expect(task.status).toBe(202);
    const taskId = ((await task.json()) as { id: string }).id;
    await vi.waitFor(
      async () => {
        const { data } = await list(app, "", headers);
        expect(data.filter((trace) => trace.state === "ended").map((trace) => trace.id)).toEqual([
          taskId,
          runId,
        ]);
      },
      { timeout: 5_000 },
    );
    return { runId, taskId };
  };

  it("lists runs and tasks newest first, with filters, paging and the filter menus", async () => {
    const app = await start();
    const { runId, taskId } = await twoRuns(app);
    const all = await list(app);
    expect(all.has_more).toBe(false);
    expect(all.facets).toEqual({ strategies: ["cot", "sc"], models: ["scripted"] });
    expect(all.data[0]).toMatchObject({ id: taskId, object: "trace", kind: "task", strategy: "cot" });
    expect(all.data[1]).toMatchObject({
      id: runId,
      kind: "run",
      state: "ended",
      strategy: "sc",
      model: "scripted",
      input: "What is 2 + 2?",
      answer: "4",
      usage: { calls: 3 },
      budget_exhausted: false,
      error: null,
    });
    expect((await list(app, "?strategy=sc")).data.map((t) => t.id)).toEqual([runId]);
    expect((await list(app, "?state=failed")).data).toEqual([]);
    expect((await list(app, "?model=other")).data).toEqual([]);
    const first = await list(app, "?limit=1");
    expect([first.data.map((t) => t.id), first.has_more]).toEqual([[taskId], true]);
    const second = await list(app, `?limit=1&before=${taskId}`);
    expect([second.data.map((t) => t.id), second.has_more]).toEqual([[runId], false]);
  });

  it("gives one run with its events in seq order, a page at a time from ?from=", async () => {
    const app = await start();
    const { runId } = await twoRuns(app);
    const trace = (await (await app.fetch(`/v1/traces/${runId}`)).json()) as TraceWithEvents;
    expect(trace).toMatchObject({ id: runId, state: "ended", next_from: null });
    expect(trace.events.map((e) => e.seq)).toEqual(trace.events.map((_, i) => i));
    expect(trace.events[0]?.type).toBe("task.start");
    expect(trace.events.map((e) => e.type)).toContain("vote");
    expect(trace.events.at(-1)?.type).toBe("task.end");
    const rest = (await (await app.fetch(`/v1/traces/${runId}?from=3`)).json()) as TraceWithEvents;
    expect(rest.events[0]?.seq).toBe(3);
    const missing = await app.fetch("/v1/traces/task_nope");
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { code: "trace_not_found", param: "id" } });
  });

  it("gives a task still queued as an open run with no events yet, so its page can wait for them", async () => {
    const gated = gatedBackend(0, "The answer is 4.");
    const app = await start({ models: { default: gated.backend }, tasks: { maxConcurrent: 1 } });
    const submit = async () => {
      const response = await app.fetch("/v1/tasks", post({ model: "cot/default" }));
      return ((await response.json()) as { id: string }).id;
    };
    await submit();
    await gated.gateReached;
    const queued = await submit();
    const trace = (await (await app.fetch(`/v1/traces/${queued}`)).json()) as TraceWithEvents;
    expect(trace).toMatchObject({ id: queued, kind: "task", state: "open", strategy: "cot", events: [] });
    gated.release();
  });

  it("answers bad query parameters with a 400 OpenAI-style error naming the parameter", async () => {
    const app = await start();
    for (const [query, param] of [
      ["?state=done", "state"],
      ["?limit=0", "limit"],
      ["?limit=101", "limit"],
      ["?limit=1e3", "limit"],
      ["?before=../x", "before"],
      [`?strategy=${"s".repeat(201)}`, "strategy"],
      ["?model=", "model"],
    ] as const) {
      const response = await app.fetch(`/v1/traces${query}`);
      expect(response.status, query).toBe(400);
      const body = (await response.json()) as { error: { type: string; code: string; param: string } };
      expect(body.error, query).toMatchObject({
        type: "invalid_request_error",
        code: "invalid_value",
        param,
      });
    }
    const trace = await app.fetch("/v1/traces/task_x?from=-1");
    expect(trace.status).toBe(400);
    expect((await app.fetch("/v1/traces", { method: "POST" })).status).toBe(405);
  });

  it("with API keys on, shows a key only the runs it started", async () => {
    const alice = { authorization: "Bearer sk-alice" };
    const bob = { authorization: "Bearer sk-bob" };
    const app = await start({
      apiKeys: [
        { key: "sk-alice", name: "alice" },
        { key: "sk-bob", name: "bob" },
      ],
    });
    const { runId, taskId } = await twoRuns(app, alice);
    expect((await list(app, "", alice)).data.map((t) => t.id)).toEqual([taskId, runId]);
    const others = await list(app, "", bob);
    expect([others.data, others.facets]).toEqual([[], { strategies: [], models: [] }]);
    for (const id of [runId, taskId]) {
      expect((await app.fetch(`/v1/traces/${id}`, { headers: alice })).status).toBe(200);
      const hidden = await app.fetch(`/v1/traces/${id}`, { headers: bob });
      expect(hidden.status).toBe(404);
    }
    expect((await app.fetch("/v1/traces")).status).toBe(401);
  });
});

describe("the web viewer's pages (/, /runs/:id, /assets/*)", () => {
  let dir: string;
  const apps: TestApp[] = [];
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "deliberate-viewer-assets-"));
    mkdirSync(join(dir, "assets"));
    writeFileSync(join(dir, "viewer-manifest.json"), "{}");
    writeFileSync(
      join(dir, "index.html"),
      '<!doctype html><script type="module" src="/assets/main-abc.js"></script>',
    );
    writeFileSync(join(dir, "assets", "main-abc.js"), "console.log(1)");
  });
  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const start = async (viewerAssets: string | null, apiKeys: AppConfig["apiKeys"] = []) => {
    const app = await startTestApp({
      models: { default: createScriptedBackend(testBackendOptions) },
      viewerAssets,
      apiKeys,
    });
    apps.push(app);
    return app;
  };

  it("serves the page at / and at a run's path, uncached, with nothing allowed off this server", async () => {
    // The page itself needs no key: it asks for one, and the API behind it checks it.
    const app = await start(dir, [{ key: "sk-a", name: "a" }]);
    for (const path of ["/", "/runs/task_0123"]) {
      const response = await app.fetch(path);
      expect(response.status, path).toBe(200);
      expect(response.headers.get("content-type")).toBe("text/html; charset=utf-8");
      expect(response.headers.get("cache-control")).toBe("no-cache");
      expect(response.headers.get("content-security-policy")).toMatch(
        /default-src 'self'.*connect-src 'self'/,
      );
      expect(await response.text()).toContain("/assets/main-abc.js");
    }
    expect(await (await app.fetch("/viewer.json")).json()).toEqual({ api_keys: true });
    const asset = await app.fetch("/assets/main-abc.js");
    expect(asset.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(asset.headers.get("cache-control")).toMatch(/immutable/);
    expect((await app.fetch("/assets/missing.js")).status).toBe(404);
    expect((await app.fetch("/assets/..%2Findex.html")).status).toBe(404);
  });

  it("without a build, answers 404 with one line saying how to build it", async () => {
    const app = await start(null);
    const response = await app.fetch("/");
    expect(response.status).toBe(404);
    expect(await response.text()).toBe(`${VIEWER_NOT_BUILT}\n`);
  });
});
