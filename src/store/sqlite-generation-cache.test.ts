import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createScriptedBackend } from "../backends/scripted/scripted-backend.js";
import type { GenerateResult } from "../core/backend.js";
import { userMessage } from "../core/message.js";
import { runStrategy } from "../runtime/task-context.js";
import { createStrategy } from "../strategies/catalog.js";
import { openDatabase, type SqliteDatabase } from "./sqlite-database.js";
import { SqliteGenerationCache } from "./sqlite-generation-cache.js";

const result = (text: string): GenerateResult => ({
  completions: [
    {
      index: 0,
      text,
      finishReason: "stop",
      promptTokens: 3,
      completionTokens: 2,
      tokenConfidences: [0.5, 1],
    },
  ],
  usage: { promptTokens: 3, completionTokens: 2, calls: 1, wallMs: 7, costUsd: 0 },
  model: "m",
});

describe("SqliteGenerationCache", () => {
  let dir: string;
  let file: string;
  let db: SqliteDatabase;
  let clock: number;
  const now = () => clock;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "deliberate-cache-"));
    file = join(dir, "c.db");
    db = openDatabase(file);
    clock = 1_000_000;
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("round-trips a GenerateResult by key, and misses unknown keys", async () => {
    const cache = new SqliteGenerationCache(db);
    await cache.set("k", result("hello"));
    expect(await cache.get("k")).toEqual(result("hello"));
    expect(await cache.get("other")).toBeUndefined();
    await cache.set("k", result("replaced"));
    expect(await cache.get("k")).toEqual(result("replaced"));
    expect(cache.stats().entries).toBe(1);
  });

  it("survives reopening the file", async () => {
    await new SqliteGenerationCache(db).set("k", result("kept"));
    db.close();
    db = openDatabase(file);
    expect(await new SqliteGenerationCache(db).get("k")).toEqual(result("kept"));
  });

  it("misses and drops entries older than the TTL", async () => {
    const cache = new SqliteGenerationCache(db, { ttlMs: 1000, now });
    await cache.set("old", result("a"));
    clock += 600;
    await cache.set("young", result("b"));
    clock += 500;
    expect(await cache.get("old")).toBeUndefined();
    expect(await cache.get("young")).toEqual(result("b"));
    expect(cache.stats().entries).toBe(1);
    clock += 1000;
    expect(cache.prune()).toBe(1);
    expect(cache.stats()).toEqual({ entries: 0, bytes: 0 });
  });

  it("evicts the least recently read entries past max entries, down to 90%", async () => {
    const cache = new SqliteGenerationCache(db, { maxEntries: 10, now });
    for (let i = 0; i < 10; i++) {
      await cache.set(`k${i}`, result(`v${i}`));
      clock += 2000;
    }
    // Reading k0 makes it recent, so k1 is now the least recently used.
    expect(await cache.get("k0")).toBeDefined();
    clock += 2000;
    await cache.set("k10", result("v10"));
    expect(cache.stats().entries).toBe(9);
    expect(await cache.get("k0")).toBeDefined();
    expect(await cache.get("k10")).toBeDefined();
    expect(await cache.get("k1")).toBeUndefined();
    expect(await cache.get("k2")).toBeUndefined();
    expect(await cache.get("k3")).toBeDefined();
  });

  it("keeps stored bytes under max bytes and never stores an entry bigger than the cache", async () => {
    const one = Buffer.byteLength(JSON.stringify(result("v00")));
    const cache = new SqliteGenerationCache(db, { maxBytes: one * 5, now });
    for (let i = 0; i < 20; i++) {
      await cache.set(`k${i}`, result(`v${String(i).padStart(2, "0")}`));
      clock += 1;
      expect(cache.stats().bytes).toBeLessThanOrEqual(one * 5);
    }
    expect(await cache.get("k19")).toBeDefined();
    expect(await cache.get("k0")).toBeUndefined();
    await cache.set("huge", result("x".repeat(one * 5)));
    expect(await cache.get("huge")).toBeUndefined();
  });

  it("keeps its totals right across inserts, replacements and deletes", async () => {
    const cache = new SqliteGenerationCache(db, { now });
    await cache.set("a", result("short"));
    await cache.set("b", result("a longer value"));
    await cache.set("a", result("a much, much longer value than before"));
    const actual = db.prepare("SELECT count(*) AS entries, sum(bytes) AS bytes FROM generation_cache").get();
    expect(cache.stats()).toEqual(actual);
    cache.clear();
    expect(cache.stats()).toEqual({ entries: 0, bytes: 0 });
  });

  it("rejects non-positive limits", () => {
    expect(() => new SqliteGenerationCache(db, { maxEntries: 0 })).toThrow(/maxEntries must be positive/);
    expect(() => new SqliteGenerationCache(db, { ttlMs: -1 })).toThrow(/ttlMs must be positive/);
  });

  it("serves the runtime: a repeated deterministic run makes no backend call", async () => {
    const cache = new SqliteGenerationCache(db);
    const backend = createScriptedBackend({ respond: ["The answer is 42"] });
    const run = () =>
      runStrategy(
        createStrategy({ name: "cot" }),
        { messages: [userMessage("6 * 7?")], params: { temperature: 0 } },
        { backend, cache },
      );
    const first = await run();
    const second = await run();
    expect(backend.requests).toHaveLength(1);
    expect(second.answer).toBe(first.answer);
    expect(second.usage.calls).toBe(0);
  });
});
