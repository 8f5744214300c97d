import { afterEach, describe, expect, it } from "vitest";
import { createScriptedBackend, type ScriptedResponder } from "../src/backends/scripted/scripted-backend.js";
import type { Backend } from "../src/core/backend.js";
import { gatedBackend } from "../test/gated-backend.js";
import type { AppConfig } from "./create-app.js";
import { sseData, startTestApp, type TestApp } from "./test-app.js";

/** 400 words: longer than any budget here, so every run is cut at its share of tokens. */
const LONG = Array.from({ length: 400 }, (_, i) => `word${i}`).join(" ");
/** Long answers, except to a prompt that asks for a short one. */
const respond: ScriptedResponder = ({ prompt }) => (prompt.includes("short") ? "Fine." : LONG);

interface Completion {
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
  deliberate: { calls: number; budget_exhausted: boolean };
}
interface ErrorBody {
  error: { message: string; type: string; code: string; param: string | null };
}
interface TaskObject {
  id: string;
  status: string;
  result: { usage: { prompt_tokens: number; completion_tokens: number } } | null;
  error: { code: string; message: string } | null;
}

/** `inner` with its first call held until `release()`; `reached` resolves once it is held. */
function holdFirstCall(inner: Backend) {
  let release = () => {};
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  let reach = () => {};
  const reached = new Promise<void>((resolve) => {
    reach = resolve;
  });
  let calls = 0;
  const backend: Backend = {
    kind: inner.kind,
    model: inner.model,
    capabilities: inner.capabilities,
    async generate(request) {
      if (calls++ === 0) {
        reach();
        await gate;
      }
      return inner.generate(request);
    },
    close: () => inner.close(),
  };
  return { backend, release, reached };
}

const apps: TestApp[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});
async function start(config: Partial<AppConfig> & Pick<AppConfig, "models">): Promise<TestApp> {
  const app = await startTestApp(config);
  apps.push(app);
  return app;
}

const key = (tokenBudget: number) => [{ key: "sk-k", name: "k", tokenBudget }];
const auth = { authorization: "Bearer sk-k" };
const ask = (content: string, extra: Record<string, unknown> = {}) => ({
  model: "default",
  messages: [{ role: "user", content }],
  ...extra,
});
const post = (app: TestApp, path: string, body: unknown, headers: Record<string, string> = auth) =>
  app.fetch(path, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
const complete = (app: TestApp, body: unknown, headers?: Record<string, string>) =>
  post(app, "/v1/chat/completions", body, headers);

async function expectError(response: Response, status: number, code: string): Promise<ErrorBody["error"]> {
  expect(response.status).toBe(status);
  const body = (await response.json()) as ErrorBody;
  expect(Object.keys(body)).toEqual(["error"]);
  expect(body.error).toMatchObject({ code, type: expect.any(String), message: expect.any(String) });
  return body.error;
}

/** Reads a task's event stream to its end, then the task. */
async function finished(app: TestApp, id: string): Promise<TaskObject> {
  await (await app.fetch(`/v1/tasks/${id}/events`, { headers: auth })).text();
  return (await (await app.fetch(`/v1/tasks/${id}`, { headers: auth })).json()) as TaskObject;
}

describe("a key's token budget under concurrent requests", () => {
  // The guarantee tested: the tokens held for a key's running requests never add up to more than it
  // has left, and a run stops only between model calls. So for runs of one call each, the key's
  // completion tokens stay within its budget; each run's prompt may push the total past it.
  it("10 requests at once on 300 tokens: one holds all that is left, nine get 429 insufficient_quota", async () => {
    // Slow tokens keep the first run going while the other nine arrive.
    const app = await start({
      models: { default: createScriptedBackend({ respond, tokenDelayMs: 2 }) },
      apiKeys: key(300),
    });
    const responses = await Promise.all(Array.from({ length: 10 }, () => complete(app, ask("Go."))));
    const ok = responses.filter((r) => r.status === 200);
    expect(ok).toHaveLength(1);
    for (const refused of responses.filter((r) => r.status !== 200)) {
      const error = await expectError(refused, 429, "insufficient_quota");
      expect(error.message).toMatch(/held by its requests still running|has used its token budget/);
    }
    const { usage } = (await (ok[0] as Response).json()) as Completion;
    expect(usage.completion_tokens).toBe(300);
    expect(usage.total_tokens).toBeLessThanOrEqual(300 + usage.prompt_tokens);
    // Spent: nothing more runs.
    const after = await expectError(await complete(app, ask("Go.")), 429, "insufficient_quota");
    expect(after.message).toMatch(/has used its token budget of 300 tokens/);
  });

  it("requests with their own token cap hold only that: three of ten run side by side on 300", async () => {
    const app = await start({
      models: { default: createScriptedBackend({ respond, tokenDelayMs: 2 }) },
      apiKeys: key(300),
    });
    const body = ask("Go.", { deliberate: { budget: { tokens: 100 } } });
    const responses = await Promise.all(Array.from({ length: 10 }, () => complete(app, body)));
    const ok = responses.filter((r) => r.status === 200);
    expect(ok).toHaveLength(3);
    for (const refused of responses.filter((r) => r.status !== 200)) {
      await expectError(refused, 429, "insufficient_quota");
    }
    const usages = await Promise.all(ok.map(async (r) => ((await r.json()) as Completion).usage));
    expect(usages.reduce((sum, u) => sum + u.completion_tokens, 0)).toBeLessThanOrEqual(300);
  });

  it("what a request held and did not spend is given back: after a 503, a stream and a short answer", async () => {
    const held = holdFirstCall(createScriptedBackend({ respond }));
    const app = await start({
      models: { default: held.backend },
      apiKeys: key(200),
      maxConcurrent: 1,
      maxQueue: 0,
    });
    const first = complete(app, ask("Go.", { deliberate: { budget: { tokens: 60 } } }));
    await held.reached;
    // Refused by the full server after holding its 30 tokens.
    await expectError(
      await complete(app, ask("Go.", { deliberate: { budget: { tokens: 30 } } })),
      503,
      "server_overloaded",
    );
    held.release();
    const a = ((await (await first).json()) as Completion).usage;
    // A streamed short answer holds 50 and spends a few.
    const streamed = await complete(
      app,
      ask("A short one.", {
        stream: true,
        stream_options: { include_usage: true },
        deliberate: { budget: { tokens: 50 } },
      }),
    );
    const chunks = sseData(await streamed.text()) as Array<{ usage?: Completion["usage"] | null }>;
    const s = chunks.find((chunk) => chunk.usage)?.usage as Completion["usage"];
    expect(s.total_tokens).toBeLessThan(50);
    // Everything else is free again: an uncapped request may generate all of it.
    const last = ((await (await complete(app, ask("Go."))).json()) as Completion).usage;
    expect(last.completion_tokens).toBe(200 - a.total_tokens - s.total_tokens);
  });

  it("a queued task holds the key's tokens when it starts: after the budget is spent it fails", async () => {
    const gated = gatedBackend(0, LONG);
    const app = await start({
      models: { default: gated.backend },
      apiKeys: key(120),
      tasks: { maxConcurrent: 1 },
    });
    const submit = async () => {
      const response = await post(app, "/v1/tasks", ask("Go."));
      expect(response.status).toBe(202);
      return ((await response.json()) as TaskObject).id;
    };
    const first = await submit();
    await gated.gateReached;
    // Nothing is spent yet, so the second is accepted; it waits behind the first.
    const second = await submit();
    gated.release();
    const a = await finished(app, first);
    expect(a.status).toBe("succeeded");
    expect(a.result?.usage.completion_tokens).toBe(120);
    const b = await finished(app, second);
    expect(b.status).toBe("failed");
    expect(b.error?.code).toBe("insufficient_quota");
    expect(b.error?.message).toMatch(/has used its token budget of 120 tokens/);
  });
});

describe("bounds on what one request or client can ask for", () => {
  it("maxCallsPerRequest (64): sc-64 with n = 8 is a 400; sc-16 with n = 4 runs its 64 calls", async () => {
    const app = await start({
      models: { default: createScriptedBackend({ respond: ["The answer is 4."] }) },
    });
    const error = await expectError(
      await complete(app, ask("What is 2 + 2?", { model: "sc-64/default", n: 8 }), {}),
      400,
      "invalid_value",
    );
    expect(error.param).toBe("n");
    expect(error.message).toMatch(/512 model calls, over this server's limit of 64/);
    const ok = await complete(app, ask("What is 2 + 2?", { model: "sc-16/default", n: 4 }), {});
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as Completion).deliberate.calls).toBe(64);
  });

  it("n choices share maxCallsPerRequest: a run needing more than its share stops at it", async () => {
    const app = await start({
      models: { default: createScriptedBackend({ respond: ["The answer is 4. Score: 8"] }) },
      maxCallsPerRequest: 6,
    });
    // best-of-n-2 makes 2 candidates and 2 judge calls: 4 per choice, over its share of 3.
    const response = await complete(app, ask("What is 2 + 2?", { model: "best-of-n-2/default", n: 2 }), {});
    expect(response.status).toBe(200);
    const { deliberate } = (await response.json()) as Completion;
    expect(deliberate.calls).toBe(6);
    expect(deliberate.budget_exhausted).toBe(true);
  });

  it("tasks.maxQueue: a submission beyond the queue is a 503 server_overloaded", async () => {
    const gated = gatedBackend(0, "The answer is 4.");
    const app = await start({ models: { default: gated.backend }, tasks: { maxConcurrent: 1, maxQueue: 2 } });
    for (let i = 0; i < 3; i++) expect((await post(app, "/v1/tasks", ask("Go."), {})).status).toBe(202);
    await gated.gateReached;
    const full = await post(app, "/v1/tasks", ask("Go."), {});
    expect(full.headers.get("retry-after")).toBe("1");
    const error = await expectError(full, 503, "server_overloaded");
    expect(error.message).toMatch(/task queue is full \(2 tasks waiting/);
    gated.release();
  });
});
