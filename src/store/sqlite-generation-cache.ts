import type { GenerateResult } from "../core/backend.js";
import type { GenerationCache } from "../core/cache.js";
import { UsageError } from "../core/errors.js";
import type { SqliteDatabase } from "./sqlite-database.js";

export interface SqliteGenerationCacheOptions {
  /** Entries older than this (since they were set) are misses; default 30 days. Infinity keeps them. */
  ttlMs?: number;
  /** Most entries kept; default unlimited. */
  maxEntries?: number;
  /** Most bytes of stored JSON kept; default 256 MiB. */
  maxBytes?: number;
  now?: () => number;
}

export interface GenerationCacheStats {
  entries: number;
  bytes: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;
/** Eviction frees down to this share of a limit, so a full cache does not evict on every set. */
const LOW_WATER = 0.9;
/** A hit refreshes its access time at most this often: reads stay reads under a hot loop. */
const TOUCH_INTERVAL_MS = 1000;

function checkLimit(name: string, value: number | undefined): void {
  if (value !== undefined && !(value > 0)) throw new UsageError(`${name} must be positive, got ${value}`);
}

/**
 * The runtime's generation cache kept in SQLite, so deterministic calls survive restarts and are
 * shared between the CLI and server. Keyed by the runtime's content hash of the call; values are
 * GenerateResult JSON. Least recently read entries are evicted first once a limit is passed.
 */
export class SqliteGenerationCache implements GenerationCache {
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly maxBytes: number;
  private readonly now: () => number;
  private readonly selectEntry;
  private readonly touchEntry;
  private readonly deleteEntry;
  private readonly upsertEntry;
  private readonly selectTotals;
  private readonly deleteExpired;
  private readonly selectOldest;
  private readonly store: (key: string, json: string, bytes: number) => void;

  constructor(
    private readonly db: SqliteDatabase,
    options: SqliteGenerationCacheOptions = {},
  ) {
    checkLimit("ttlMs", options.ttlMs);
    checkLimit("maxEntries", options.maxEntries);
    checkLimit("maxBytes", options.maxBytes);
    this.ttlMs = options.ttlMs ?? 30 * DAY_MS;
    this.maxEntries = options.maxEntries ?? Number.POSITIVE_INFINITY;
    this.maxBytes = options.maxBytes ?? 256 * 1024 * 1024;
    this.now = options.now ?? Date.now;
    this.selectEntry = db.prepare<[string], { value: string; created_at: number; accessed_at: number }>(
      "SELECT value, created_at, accessed_at FROM generation_cache WHERE key = ?",
    );
    this.touchEntry = db.prepare<[number, string]>(
      "UPDATE generation_cache SET accessed_at = ? WHERE key = ?",
    );
    this.deleteEntry = db.prepare<[string]>("DELETE FROM generation_cache WHERE key = ?");
    this.upsertEntry = db.prepare<[{ key: string; value: string; bytes: number; now: number }]>(
      `INSERT INTO generation_cache (key, value, bytes, created_at, accessed_at)
       VALUES (@key, @value, @bytes, @now, @now)
       ON CONFLICT (key) DO UPDATE SET
         value = excluded.value, bytes = excluded.bytes,
         created_at = excluded.created_at, accessed_at = excluded.accessed_at`,
    );
    this.selectTotals = db.prepare<[], GenerationCacheStats>(
      "SELECT entries, bytes FROM generation_cache_totals WHERE id = 0",
    );
    this.deleteExpired = db.prepare<[number]>("DELETE FROM generation_cache WHERE created_at < ?");
    this.selectOldest = db.prepare<[], { key: string; bytes: number }>(
      "SELECT key, bytes FROM generation_cache ORDER BY accessed_at, key",
    );
    this.store = db.transaction((key: string, json: string, bytes: number) => {
      this.upsertEntry.run({ key, value: json, bytes, now: this.now() });
      this.evictIfOver(key);
    });
  }

  async get(key: string): Promise<GenerateResult | undefined> {
    const row = this.selectEntry.get(key);
    if (!row) return undefined;
    const now = this.now();
    if (this.isExpired(row.created_at, now)) {
      this.deleteEntry.run(key);
      return undefined;
    }
    if (now - row.accessed_at >= TOUCH_INTERVAL_MS) this.touchEntry.run(now, key);
    return JSON.parse(row.value) as GenerateResult;
  }

  async set(key: string, value: GenerateResult): Promise<void> {
    const json = JSON.stringify(value);
    const bytes = Buffer.byteLength(json);
    // An entry bigger than the whole cache would evict everything and then itself.
    if (bytes > this.maxBytes) return;
    this.store(key, json, bytes);
  }

  stats(): GenerationCacheStats {
    return this.selectTotals.get() ?? { entries: 0, bytes: 0 };
  }

  /** Removes expired entries now (they are otherwise dropped when read or when a limit is passed). */
  prune(): number {
    if (!Number.isFinite(this.ttlMs)) return 0;
    return this.deleteExpired.run(this.now() - this.ttlMs).changes;
  }

  clear(): void {
    this.db.exec("DELETE FROM generation_cache");
  }

  private isExpired(createdAt: number, now: number): boolean {
    return now - createdAt > this.ttlMs;
  }

  private over(stats: GenerationCacheStats): boolean {
    return stats.entries > this.maxEntries || stats.bytes > this.maxBytes;
  }

  /**
   * Runs inside the set's transaction: expired entries go first, then the least recently read, never
   * the entry just set.
   */
  private evictIfOver(keep: string): void {
    if (!this.over(this.stats())) return;
    this.prune();
    const stats = this.stats();
    if (!this.over(stats)) return;
    const entryTarget = Math.max(1, Math.floor(this.maxEntries * LOW_WATER));
    const byteTarget = Math.floor(this.maxBytes * LOW_WATER);
    let { entries, bytes } = stats;
    const victims: string[] = [];
    for (const row of this.selectOldest.iterate()) {
      if (entries <= entryTarget && bytes <= byteTarget) break;
      if (row.key === keep) continue;
      victims.push(row.key);
      entries--;
      bytes -= row.bytes;
    }
    // The iterator must be done before the same connection writes.
    for (const key of victims) this.deleteEntry.run(key);
  }
}
