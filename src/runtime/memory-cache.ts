import type { GenerateResult } from "../core/backend.js";
import type { GenerationCache } from "../core/cache.js";
import { LruMap } from "./lru-map.js";

/** An in-process LRU cache of model calls; the SQLite cache replaces it in the server. */
export class MemoryGenerationCache implements GenerationCache {
  private readonly entries: LruMap<string, GenerateResult>;
  constructor(maxEntries = 1000) {
    this.entries = new LruMap(maxEntries);
  }

  async get(key: string): Promise<GenerateResult | undefined> {
    const hit = this.entries.get(key);
    return hit ? structuredClone(hit) : undefined;
  }

  async set(key: string, value: GenerateResult): Promise<void> {
    this.entries.set(key, structuredClone(value));
  }
}
