import type { Redis } from "ioredis";
import type { GenerateResult } from "../src/core/backend.js";
import type { GenerationCache } from "../src/core/cache.js";
import { closeRedis, connectRedis, whenReady } from "../src/tasks/redis/redis-connection.js";

export interface RedisGenerationCacheOptions {
  /** Key prefix, the same on every server of one deployment; default "deliberate". */
  prefix?: string;
  /** How long an entry lives; default 30 days, as the SQLite cache. */
  ttlMs?: number;
  /** Entries larger than this (JSON bytes) are not cached; default 1 MiB. */
  maxEntryBytes?: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * The generation cache on Redis, shared by every server of a deployment: a completion one server paid
 * for answers the same deterministic request on any other. Entries expire by TTL; the total size is
 * Redis's to bound (`maxmemory` with an LRU policy). The cache is an optimisation, so an unreachable
 * Redis is a miss and a failed write is dropped: requests never fail for it.
 */
export class RedisGenerationCache implements GenerationCache {
  private readonly redis: Redis;
  private readonly prefix: string;
  private readonly ttlMs: number;
  private readonly maxEntryBytes: number;
  private connectedOnce = false;

  constructor(url: string, options: RedisGenerationCacheOptions = {}) {
    this.redis = connectRedis(url);
    this.redis.once("ready", () => {
      this.connectedOnce = true;
    });
    this.prefix = `${options.prefix ?? "deliberate"}:cache:`;
    this.ttlMs = options.ttlMs ?? 30 * DAY_MS;
    this.maxEntryBytes = options.maxEntryBytes ?? 1024 * 1024;
  }

  async get(key: string): Promise<GenerateResult | undefined> {
    try {
      await this.usable();
      const json = await this.redis.get(this.prefix + key);
      return json === null ? undefined : (JSON.parse(json) as GenerateResult);
    } catch {
      return undefined;
    }
  }

  async set(key: string, value: GenerateResult): Promise<void> {
    const json = JSON.stringify(value);
    if (Buffer.byteLength(json) > this.maxEntryBytes) return;
    try {
      await this.usable();
      await this.redis.set(this.prefix + key, json, "PX", this.ttlMs);
    } catch {
      // A cache write that fails costs a later recomputation, nothing more.
    }
  }

  /**
   * A fresh server's first connection is waited for briefly (its first requests would miss otherwise);
   * a lost one is not: while Redis is away every lookup misses at once instead of adding a wait.
   */
  private async usable(): Promise<void> {
    if (this.redis.status === "ready") return;
    if (this.connectedOnce) throw new Error("Redis is reconnecting");
    await whenReady(this.redis);
  }

  close(): Promise<void> {
    return closeRedis(this.redis);
  }
}
