import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createScriptedBackend } from "../src/backends/scripted/scripted-backend.js";
import type { Backend } from "../src/core/backend.js";
import { gatedBackend } from "../test/gated-backend.js";
import { startTestRedis, type TestRedis } from "../test/redis-server.js";
import { accountIdOf } from "./api-key-store.js";
import type { AppConfig } from "./create-app.js";
import { RedisKeyLedger } from "./redis-key-ledger.js";
import { startTestApp, type TestApp } from "./test-app.js";

const REPLY = "Six times seven is 42. The answer is 42";
const KEY = "sk-shared";
let prefixCount = 0;

describe("API keys shared by two servers on one Redis", () => {
  let redis: TestRedis;
  const apps: TestApp[] = [];
  beforeAll(async () => {
    redis = await startTestRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });
  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close();
  });
  /** Two servers behind one load balancer: same keys, same Redis (or, for the control, none). */
  const pair = async (
    key: Partial<AppConfig["apiKeys"] extends (infer K)[] | undefined ? K : never>,
    backendA: Backend,
    shared = true,
  ) => {
    const prefix = `k${prefixCount++}-${Date.now()}`;
    const start = async (backend: Backend) => {
      const app = await startTestApp({
        models: { default: backend },
        apiKeys: [{ key: KEY, name: "shared", ...key }],
        ...(shared && { sharedKeys: { redis: redis.url, prefix } }),
      });
      apps.push(app);
      return app;
    };
    return [await start(backendA), await start(createScriptedBackend({ respond: [REPLY] }))] as const;
  };
  const chat = (app: TestApp, extra: Record<string, unknown> = {}) =>
    app.fetch("/v1/chat/completions", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${KEY}` },
      body: JSON.stringify({ model: "default", messages: [{ role: "user", content: "6 * 7?" }], ...extra }),
    });
  const errorOf = async (response: Response) =>
    ((await response.json()) as { error: { code: string; message: string } }).error;

  it("a token budget holds across both: tokens held on one server are not free on the other", async () => {
    const gated = gatedBackend(0, REPLY);
    const [a, b] = await pair({ tokenBudget: 100 }, gated.backend);
    // A's request holds all 100 tokens while its call waits; B must not spend them too.
    const first = chat(a);
    await gated.gateReached;
    const refused = await chat(b);
    expect(refused.status).toBe(429);
    expect(await errorOf(refused)).toMatchObject({ code: "insufficient_quota" });
    expect((await errorOf(await chat(b))).message).toMatch(/held by its requests still running/);
    gated.release();
    expect((await first).status).toBe(200);
    // What A did not spend is free again, on B as well.
    const second = await chat(b, { deliberate: { budget: { tokens: 10 } } });
    expect(second.status, await second.clone().text()).toBe(200);
  });

  it("a spent budget refuses on both, and the rate limit counts both servers' requests", async () => {
    const [a, b] = await pair({ tokenBudget: 12 }, createScriptedBackend({ respond: [REPLY] }));
    expect((await chat(a)).status).toBe(200);
    // The first request spent its 12 tokens (prompt and answer): B knows it.
    const refused = await chat(b);
    expect(refused.status).toBe(429);
    expect((await errorOf(refused)).message).toMatch(/has used its token budget of 12/);

    const [c, d] = await pair({ rateLimitPerMinute: 2 }, createScriptedBackend({ respond: [REPLY] }));
    expect((await chat(c)).status).toBe(200);
    expect((await chat(d)).status).toBe(200);
    const limited = await chat(c);
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toMatch(/^\d+$/);
    expect(await errorOf(limited)).toMatchObject({ code: "rate_limit_exceeded" });
  });

  it("tokens held by a server that died lapse after the hold's time to live", async () => {
    const prefix = `lapse-${Date.now()}`;
    const app = await startTestApp({
      models: { default: createScriptedBackend({ respond: [REPLY] }) },
      apiKeys: [{ key: KEY, name: "shared", tokenBudget: 100 }],
      sharedKeys: { redis: redis.url, prefix, holdTtlMs: 300 },
    });
    apps.push(app);
    // Another server holds every token, then dies without giving them back.
    const crashed = new RedisKeyLedger(redis.url, { prefix, holdTtlMs: 300 });
    expect(await crashed.available()).toBe(true);
    const { held } = await crashed.reserve(accountIdOf(KEY), 100, undefined, 1);
    await crashed.close();
    expect(held).toBe(100);
    expect((await errorOf(await chat(app))).message).toMatch(/held by its requests still running/);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect((await chat(app)).status).toBe(200);
  });

  it("without a shared Redis each server counts alone (the overspend this prevents)", async () => {
    const gated = gatedBackend(0, REPLY);
    const [a, b] = await pair({ tokenBudget: 100 }, gated.backend, false);
    const first = chat(a);
    await gated.gateReached;
    expect((await chat(b)).status).toBe(200);
    gated.release();
    await first;
  });
});
