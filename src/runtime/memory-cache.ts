import type { GenerateResult } from "../core/backend.js";
import type { GenerationCache } from "../core/cache.js";

/** An in-process LRU cache of model calls; the SQLite cache replaces it in the server. */
export class MemoryGenerationCache implements GenerationCache {
  private readonly entries = new Map<string, GenerateResult>();
  constructor(private readonly maxEntries = 1000) {}

  async get(key: string): Promise<GenerateResult | undefined> {
    const hit = this.entries.get(key);
    if (hit) {
      // Re-insert to mark as most recently used.
      this.entries.delete(key);
      this.entries.set(key, hit);
    }
    return hit ? structuredClone(hit) : undefined;
  }

  async set(key: string, value: GenerateResult): Promise<void> {
    this.entries.set(key, structuredClone(value));
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
  }
}
