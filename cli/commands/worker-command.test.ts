import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createScriptedBackend } from "../../src/backends/scripted/scripted-backend.js";
import {
  type OpenAICompatibleServer,
  startOpenAICompatibleServer,
} from "../../src/testing/openai-compatible-server.js";
import { startTestRedis, type TestRedis } from "../../test/redis-server.js";
import { runCliInProcess } from "../../test/run-cli-in-process.js";
import { startServe } from "./serve-command.js";
import { startWorker } from "./worker-command.js";

describe("deliberate worker and serve --redis", () => {
  let upstream: OpenAICompatibleServer;
  let redis: TestRedis;
  beforeAll(async () => {
    // A fake OpenAI-compatible endpoint stands in for the model: no real model is loaded.
    upstream = await startOpenAICompatibleServer({
      backend: createScriptedBackend({ respond: ["Two and two make four. The answer is 4."] }),
    });
    redis = await startTestRedis();
  });
  afterAll(async () => {
    await upstream?.close();
    await redis?.stop();
  });

  it("exits 2 with one line without --redis, for a URL that is not redis://, or a bad --concurrency", async () => {
    for (const args of [
      ["worker"],
      ["worker", "--redis", "http://127.0.0.1:6379"],
      ["worker", "--redis", "not a url"],
      ["worker", "--redis", redis.url, "--concurrency", "0"],
      ["worker", "--redis", redis.url, "--metrics-port", "70000"],
      ["serve", "--redis", "localhost:6379"],
    ]) {
      const run = await runCliInProcess(args);
      expect(run.code, args.join(" ")).toBe(2);
      expect(run.stderr.trim().split("\n"), args.join(" ")).toHaveLength(1);
      expect(run.stderr).toMatch(/redis|concurrency|metrics-port/i);
    }
  });

  it("a task posted to `serve --redis` is run by a `worker` on the same Redis", async () => {
    const flags = { backend: "openai", baseUrl: upstream.url, model: "upstream-m" };
    const worker = await startWorker({
      ...flags,
      redis: redis.url,
      concurrency: 1,
      traceDb: ":memory:",
      metricsPort: 0,
    });
    const serve = await startServe({ ...flags, port: 0, db: ":memory:", redis: redis.url });
    try {
      await worker.worker.ready();
      const posted = await fetch(`${serve.server.url}/v1/tasks`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          model: "cot/default",
          messages: [{ role: "user", content: "What is 2 + 2?" }],
        }),
      });
      expect(posted.status).toBe(202);
      const { id } = (await posted.json()) as { id: string };
      // The event stream ends when the task does.
      await (await fetch(`${serve.server.url}/v1/tasks/${id}/events`)).text();
      const task = (await (await fetch(`${serve.server.url}/v1/tasks/${id}`)).json()) as {
        status: string;
        result: { answer: string };
      };
      expect(task).toMatchObject({ status: "succeeded", result: { answer: "4" } });
      expect(worker.app.store.traces.get(id)?.state).toBe("ended");
      // The serving process ran nothing: no trace of the task there.
      expect(serve.app.store.traces.get(id)).toBeUndefined();
      // The worker's own /metrics counts the model calls it made; the rest of its API is closed.
      const metricsUrl = worker.metrics?.url;
      const metrics = await (await fetch(`${metricsUrl}/metrics`)).text();
      expect(metrics).toMatch(/^deliberate_model_calls_total\{model="upstream-m",strategy="cot"\} 1$/m);
      expect((await fetch(`${metricsUrl}/v1/models`)).status).toBe(404);
    } finally {
      await serve.close();
      await worker.close();
    }
  });
});
