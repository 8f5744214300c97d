import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BACKEND_KINDS } from "../src/backends/create-backend.js";
import { UsageError } from "../src/core/errors.js";
import { apiKeysFromEnv, loadServerConfig, parseServerConfig, parseServerSettings } from "./server-config.js";

describe("server config", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "deliberate-serve-config-"));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("fills in safe defaults", () => {
    expect(parseServerSettings({})).toEqual({
      defaultStrategy: "auto",
      tiers: {},
      defaultFormat: "numeric",
      apiKeys: [],
      bodyLimitBytes: 1024 * 1024,
      maxConcurrent: 4,
      maxQueue: 64,
      maxChoices: 8,
      maxStrategyN: 64,
      maxCallsPerRequest: 64,
      budget: {},
      cache: { enabled: true },
      tools: { code: false, webFetch: false },
      trace: true,
      traceFlushMs: 20,
      tasks: { maxConcurrent: 2, maxQueue: 64 },
      webhooks: { allowHosts: [], maxAttempts: 5, retryBaseDelayMs: 1000, timeoutMs: 10_000 },
      reliability: {
        timeoutMs: 600_000,
        retries: 2,
        retryBaseDelayMs: 250,
        retryMaxDelayMs: 5_000,
        breaker: { failureThreshold: 5, cooldownMs: 30_000 },
      },
    });
    expect(parseServerSettings({ cache: false }).cache).toEqual({ enabled: false });
    expect(parseServerSettings({ cache: { maxEntries: 10 } }).cache).toEqual({
      enabled: true,
      maxEntries: 10,
    });
  });

  it("reads a full config file", async () => {
    const path = join(dir, "good.json");
    await writeFile(
      path,
      JSON.stringify({
        port: 9000,
        host: "0.0.0.0",
        models: {
          default: { backend: "llama", model: "test" },
          remote: { backend: "openai", model: "qwen", baseUrl: "http://127.0.0.1:8000/v1" },
        },
        defaultStrategy: "sc",
        apiKeys: [{ key: "sk-1", name: "alice", rateLimitPerMinute: 10, tokenBudget: 100_000 }],
        maxConcurrent: 2,
        tools: { code: true, webFetch: { allowHosts: ["*.wikipedia.org"] } },
        budget: { tokens: 50_000, deadlineMs: 60_000 },
      }),
    );
    const config = await loadServerConfig(path);
    expect(config.port).toBe(9000);
    expect(config.models?.remote).toEqual({
      backend: "openai",
      model: "qwen",
      baseUrl: "http://127.0.0.1:8000/v1",
    });
    expect(config.defaultStrategy).toBe("sc");
    expect(config.tools.webFetch).toEqual({ allowHosts: ["*.wikipedia.org"] });
    expect(config.maxQueue).toBe(64);
  });

  it("names the first problem of a bad config", async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ port: 70_000 }, /^config: port: /],
      [{ defaultStrategy: "magic" }, /defaultStrategy: not a known strategy/],
      [{ defaultFormat: "roman" }, /defaultFormat: not a known answer format/],
      [{ apiKeys: [{ key: "", name: "x" }] }, /apiKeys\.0\.key: an API key must not be empty/],
      [{ models: { "a/b": { backend: "llama" } } }, /models.*must not contain \//],
      [{ models: { m: { backend: "openai" } } }, /needs a baseUrl/],
      [{ models: { m: { backend: "vllm" } } }, /models\.m\.backend/],
      [{ tools: { webFetch: true } }, /webFetch must be false or \{ allowHosts/],
      [{ maxConcurrent: 0 }, /maxConcurrent/],
      [{ cache: { ttl: 5 } }, /cache: Unrecognized key: "ttl"/],
      [{ cache: "yes" }, /cache must be true, false or/],
      [{ reliability: { retries: -1 } }, /reliability\.retries/],
      [{ reliability: { breaker: true } }, /breaker must be false or/],
      [{ models: { m: { backend: "llama", fallback: ["m"] } } }, /cannot fall back to itself/],
      [{ models: { m: { backend: "llama", fallback: ["x"] } } }, /'x' is not a served model/],
      [{ unknownField: 1 }, /unknownField/],
      [[], /expected object/],
    ];
    for (const [input, message] of cases) {
      expect(() => parseServerConfig(input), JSON.stringify(input)).toThrow(UsageError);
      expect(() => parseServerConfig(input), JSON.stringify(input)).toThrow(message);
    }
    await writeFile(join(dir, "broken.json"), "{ port: 1");
    await expect(loadServerConfig(join(dir, "broken.json"))).rejects.toThrow(/is not valid JSON/);
    await expect(loadServerConfig(join(dir, "missing.json"))).rejects.toThrow(/config file not found/);
  });

  it("takes a model's backend from the backend kinds, and names them all when given another", () => {
    for (const kind of BACKEND_KINDS) {
      const config = parseServerConfig({
        models: { m: { backend: kind, baseUrl: "http://127.0.0.1:8000/v1" } },
      });
      expect(config.models?.m?.backend).toBe(kind);
    }
    expect(() => parseServerConfig({ models: { m: { backend: "vllm" } } })).toThrow(
      `config: models.m.backend: backend must be one of: ${BACKEND_KINDS.join(", ")}`,
    );
  });

  it("reads API keys from DELIBERATE_API_KEYS", () => {
    expect(apiKeysFromEnv(undefined)).toEqual([]);
    expect(apiKeysFromEnv(" sk-a, ,sk-b ")).toEqual([
      { key: "sk-a", name: "env-1" },
      { key: "sk-b", name: "env-2" },
    ]);
  });
});
