import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createScriptedBackend } from "../src/backends/scripted/scripted-backend.js";
import { startTestRedis, type TestRedis } from "../test/redis-server.js";
import { startTestApp, type TestApp } from "./test-app.js";

const REPLY = "Six times seven is 42. The answer is 42";

describe("the generation cache shared by two servers on one Redis", () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startTestRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it("answers a deterministic request on one server from the completion the other paid for", async () => {
    const prefix = `cache-${Date.now()}`;
    const a = createScriptedBackend({ respond: [REPLY] });
    const b = createScriptedBackend({ respond: ["a different model would say 7"] });
    const apps: TestApp[] = [];
    try {
      for (const backend of [a, b]) {
        apps.push(
          await startTestApp({
            models: { default: backend },
            cache: true,
            sharedCache: { redis: redis.url, prefix },
          }),
        );
      }
      const ask = (app: TestApp) =>
        app.client().chat.completions.create({
          model: "cot/default",
          temperature: 0,
          messages: [{ role: "user", content: "What is six times seven?" }],
        });
      const first = await ask(apps[0] as TestApp);
      const second = await ask(apps[1] as TestApp);
      expect(first.choices[0]?.message.content).toBe("42");
      expect(second.choices[0]?.message.content).toBe("42");
      expect(a.requests).toHaveLength(1);
      expect(b.requests).toHaveLength(0);
    } finally {
      for (const app of apps) await app.close();
    }
  });

  it("treats an unreachable Redis as a miss: the request is answered by the model", async () => {
    const backend = createScriptedBackend({ respond: [REPLY] });
    // A port nothing listens on.
    const app = await startTestApp({
      models: { default: backend },
      cache: true,
      sharedCache: { redis: "redis://127.0.0.1:1" },
    });
    try {
      const reply = await app.client().chat.completions.create({
        model: "cot/default",
        temperature: 0,
        messages: [{ role: "user", content: "What is six times seven?" }],
      });
      expect(reply.choices[0]?.message.content).toBe("42");
      expect(backend.requests).toHaveLength(1);
    } finally {
      await app.close();
    }
  });
});
