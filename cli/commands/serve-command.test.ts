import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createScriptedBackend } from "../../src/backends/scripted/scripted-backend.js";
import { openDatabase } from "../../src/store/sqlite-database.js";
import { liveViewerUrl } from "../../src/store/viewer-registry.js";
import {
  type OpenAICompatibleServer,
  startOpenAICompatibleServer,
} from "../../src/testing/openai-compatible-server.js";
import { runCliInProcess } from "../../test/run-cli-in-process.js";
import { startServe } from "./serve-command.js";

const messages = [{ role: "user" as const, content: "What is 2 + 2?" }];

describe("deliberate serve", () => {
  let upstream: OpenAICompatibleServer;
  let dir: string;
  beforeAll(async () => {
    // A fake OpenAI-compatible endpoint stands in for the model: no real model is loaded.
    upstream = await startOpenAICompatibleServer({
      backend: createScriptedBackend({ respond: ["Two and two make four. The answer is 4."] }),
    });
    dir = await mkdtemp(join(tmpdir(), "deliberate-serve-"));
  });
  afterAll(async () => {
    await upstream?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("exits 2 with one line for a bad config, a bad port, or models given twice", async () => {
    const bad = join(dir, "bad.json");
    await writeFile(bad, JSON.stringify({ maxConcurrent: 0 }));
    const badConfig = await runCliInProcess(["serve", "--config", bad]);
    expect(badConfig.code).toBe(2);
    expect(badConfig.stderr).toMatch(/^deliberate: .*bad\.json: maxConcurrent: /);
    expect(badConfig.stderr.trim().split("\n")).toHaveLength(1);

    const notJson = join(dir, "not-json.json");
    await writeFile(notJson, "{ nope");
    expect((await runCliInProcess(["serve", "--config", notJson])).code).toBe(2);
    expect((await runCliInProcess(["serve", "--config", join(dir, "missing.json")])).stderr).toMatch(
      /config file not found/,
    );
    expect((await runCliInProcess(["serve", "--port", "99999"])).code).toBe(2);
    expect((await runCliInProcess(["serve", "--backend", "gpt"])).code).toBe(2);

    const withModels = join(dir, "with-models.json");
    await writeFile(
      withModels,
      JSON.stringify({ models: { m: { backend: "openai", baseUrl: upstream.url, model: "x" } } }),
    );
    const twice = await runCliInProcess(["serve", "--config", withModels, "--model", "other"]);
    expect(twice.code).toBe(2);
    expect(twice.stderr).toMatch(/not both/);
  });

  it("serves a backend from flags as `default` and under its own name", async () => {
    const handle = await startServe({
      backend: "openai",
      baseUrl: upstream.url,
      model: "upstream-m",
      port: 0,
      db: ":memory:",
    });
    try {
      expect(handle.server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(handle.models).toEqual(["default", "upstream-m"]);
      const client = new OpenAI({ baseURL: `${handle.server.url}/v1`, apiKey: "none", maxRetries: 0 });
      // A bare name runs auto, the server's default strategy, which extracts the answer.
      const bare = await client.chat.completions.create({ model: "upstream-m", messages });
      expect(bare.choices[0]?.message.content).toBe("4");
      expect((bare as unknown as { deliberate: { strategy: string } }).deliberate.strategy).toBe("auto");
      const direct = await client.chat.completions.create({ model: "direct/upstream-m", messages });
      expect(direct.choices[0]?.message.content).toBe("Two and two make four. The answer is 4.");
      const voted = await client.chat.completions.create({ model: "sc-4/default", messages });
      expect(voted.choices[0]?.message.content).toBe("4");
    } finally {
      await handle.close();
    }
    // Closed means closed: the port no longer answers.
    await expect(fetch(`${handle.server.url}/health`)).rejects.toThrow();
  });

  it("serves --large-model as `large`, the large tier that auto escalates to", async () => {
    // Greedy (the large tier's chain of thought) it is right; sampled (a probe, or the large tier's
    // extra samples when the policy doubts its answer) it slips now and then, never twice in four.
    const tiered = await startOpenAICompatibleServer({
      backend: createScriptedBackend({
        respond: ({ request, call, index }) =>
          request.temperature === 0 || (call + index) % 4 !== 0
            ? "2 + 2 = 4. The answer is 4."
            : "2 + 2 = 3. The answer is 3.",
      }),
    });
    const handle = await startServe({
      backend: "openai",
      baseUrl: tiered.url,
      model: "small-m",
      largeModel: "large-m",
      port: 0,
      db: ":memory:",
    });
    try {
      expect(handle.models).toEqual(["default", "small-m", "large", "large-m"]);
      const client = new OpenAI({ baseURL: `${handle.server.url}/v1`, apiKey: "none", maxRetries: 0 });
      const answer = await client.chat.completions.create({ model: "small-m", messages });
      expect(answer.choices[0]?.message.content).toBe("4");
      const { deliberate } = answer as unknown as {
        deliberate: { strategy: string; reliability: { models: string[] }; confidence: number };
      };
      expect(deliberate.strategy).toBe("auto");
      expect(deliberate.reliability.models).toContain("large");
      expect(deliberate.confidence).toBeGreaterThan(0);
    } finally {
      await handle.close();
      await tiered.close();
    }
    const config = join(dir, "tiered.json");
    await writeFile(config, JSON.stringify({ tiers: { large: "big" } }));
    for (const [args, message] of [
      [["--config", config, "--large-model", "m"], /tiers\.large\) or with --large-model, not both/],
      [["--config", config], /tiers\.large: 'big' is not a served model \(have: default\)/],
      [["--model", "m", "--large-model", "m"], /--large-model must be another model than --model/],
    ] as const) {
      const run = await runCliInProcess(["serve", ...args, "--backend", "openai", "--base-url", tiered.url]);
      expect(run.code, args.join(" ")).toBe(2);
      expect(run.stderr).toMatch(message);
      expect(run.stderr.trim().split("\n")).toHaveLength(1);
    }
  });

  it("serves the config file's models with its settings and keys from DELIBERATE_API_KEYS", async () => {
    const path = join(dir, "good.json");
    await writeFile(
      path,
      JSON.stringify({
        port: 0,
        models: { small: { backend: "openai", baseUrl: upstream.url, model: "upstream-m" } },
        defaultStrategy: "cot",
        apiKeys: [{ key: "sk-file", name: "file" }],
      }),
    );
    const handle = await startServe(
      { config: path, db: join(dir, "keys.db") },
      { env: { DELIBERATE_API_KEYS: "sk-env" } },
    );
    try {
      const url = `${handle.server.url}/v1`;
      const anonymous = new OpenAI({ baseURL: url, apiKey: "wrong", maxRetries: 0 });
      await expect(anonymous.chat.completions.create({ model: "small", messages })).rejects.toBeInstanceOf(
        OpenAI.AuthenticationError,
      );
      for (const apiKey of ["sk-file", "sk-env"]) {
        const client = new OpenAI({ baseURL: url, apiKey, maxRetries: 0 });
        const answer = await client.chat.completions.create({ model: "small", messages });
        // The config's default strategy (cot) extracted the answer.
        expect(answer.choices[0]?.message.content).toBe("4");
      }
    } finally {
      await handle.close();
    }
  });

  it("opens each model through createBackend, with no retries of its own: the server's retries are all", async () => {
    // Each model's first call fails: an openai backend retrying on its own would hide that from the server.
    const flaky = await startOpenAICompatibleServer({
      backend: createScriptedBackend({ respond: ["Four."] }),
      faults: { first: { count: 2, fault: { type: "status", status: 503 } } },
    });
    const path = join(dir, "retries.json");
    const model = (retries: number) => ({
      backend: "openai",
      baseUrl: flaky.url,
      model: "m",
      reliability: { retries, retryBaseDelayMs: 1, retryMaxDelayMs: 1 },
    });
    // One call per request (direct), so the upstream's request count is the server's attempts.
    await writeFile(
      path,
      JSON.stringify({ port: 0, defaultStrategy: "direct", models: { once: model(0), twice: model(1) } }),
    );
    const handle = await startServe({ config: path, db: ":memory:" });
    try {
      const client = new OpenAI({ baseURL: `${handle.server.url}/v1`, apiKey: "none", maxRetries: 0 });
      await expect(client.chat.completions.create({ model: "once", messages })).rejects.toMatchObject({
        status: 502,
      });
      expect(flaky.requests).toBe(1);
      const answer = (await client.chat.completions.create({ model: "twice", messages })) as unknown as {
        choices: Array<{ message: { content: string } }>;
        deliberate: { reliability: { retries: number; models: string[] } };
      };
      expect(answer.choices[0]?.message.content).toBe("Four.");
      expect(answer.deliberate.reliability).toMatchObject({ retries: 1, models: ["twice"] });
      expect(flaky.requests).toBe(3);
    } finally {
      await handle.close();
      await flaky.close();
    }
  });

  it("while it runs, `deliberate trace` on its database prints the run's viewer URL", async () => {
    const db = join(dir, "viewer.db");
    const handle = await startServe({ backend: "openai", baseUrl: upstream.url, model: "m", port: 0, db });
    try {
      const client = new OpenAI({ baseURL: `${handle.server.url}/v1`, apiKey: "none", maxRetries: 0 });
      const answer = (await client.chat.completions.create({ model: "default", messages })) as unknown as {
        deliberate: { trace_id: string };
      };
      const traceId = answer.deliberate.trace_id;
      // The trace is stored from a background writer; on a busy machine one `trace` run alone can take
      // longer than waitFor's default second.
      await vi.waitFor(
        async () => {
          const shown = await runCliInProcess(["trace", traceId, "--db", db]);
          expect(shown.stdout).toContain(`view: ${handle.server.url}/runs/${traceId}\n`);
        },
        { timeout: 30_000, interval: 200 },
      );
    } finally {
      await handle.close();
    }
    // Once it stopped, there is nothing to link to.
    const reader = openDatabase(db);
    expect(liveViewerUrl(reader)).toBeUndefined();
    reader.close();
  }, 60_000);

  it("keeps traces in the --db file, readable by `deliberate trace`, and falls back per the config", async () => {
    const db = join(dir, "traces.db");
    const path = join(dir, "fallback.json");
    await writeFile(
      path,
      JSON.stringify({
        port: 0,
        defaultStrategy: "direct",
        models: {
          // Nothing listens on port 9: every call fails to connect, at once.
          broken: {
            backend: "openai",
            baseUrl: "http://127.0.0.1:9/v1",
            model: "gone",
            fallback: ["small"],
            reliability: { retries: 0 },
          },
          small: { backend: "openai", baseUrl: upstream.url, model: "upstream-m" },
        },
      }),
    );
    const handle = await startServe({ config: path, db });
    let traceId: string;
    try {
      const client = new OpenAI({ baseURL: `${handle.server.url}/v1`, apiKey: "none", maxRetries: 0 });
      const answer = (await client.chat.completions.create({ model: "broken", messages })) as unknown as {
        choices: Array<{ message: { content: string } }>;
        deliberate: { trace_id: string; reliability: { fallbacks: number; models: string[] } };
      };
      expect(answer.choices[0]?.message.content).toBe("Two and two make four. The answer is 4.");
      expect(answer.deliberate.reliability).toMatchObject({ fallbacks: 1, models: ["small"] });
      traceId = answer.deliberate.trace_id;
    } finally {
      await handle.close();
    }
    const shown = await runCliInProcess(["trace", traceId, "--db", db, "--json"]);
    expect(shown.code).toBe(0);
    expect(JSON.parse(shown.stdout)).toMatchObject({ taskId: traceId });
    // The tree shows the fallback and which model answered the call.
    const tree = await runCliInProcess(["trace", traceId, "--db", db]);
    expect(tree.code).toBe(0);
    expect(tree.stdout).toMatch(/fallback broken → small \(backend_\w+\)/);
    expect(tree.stdout).toMatch(/served by small \(fallback\)/);
  });
});
