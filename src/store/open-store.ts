import { type OpenDatabaseOptions, openDatabase, type SqliteDatabase } from "./sqlite-database.js";
import { SqliteGenerationCache, type SqliteGenerationCacheOptions } from "./sqlite-generation-cache.js";
import { TaskStore } from "./task-store.js";
import { TraceStore } from "./trace-store.js";

/** Traces, tasks and the generation cache over one database file. */
export interface DeliberateStore {
  readonly path: string;
  readonly db: SqliteDatabase;
  readonly traces: TraceStore;
  readonly tasks: TaskStore;
  readonly cache: SqliteGenerationCache;
  /** Closes the database; the stores must not be used after. Safe to call twice. */
  close(): void;
}

export interface OpenStoreOptions extends OpenDatabaseOptions {
  cache?: SqliteGenerationCacheOptions;
}

export function openStore(path: string, options: OpenStoreOptions = {}): DeliberateStore {
  const db = openDatabase(path, options);
  return {
    path,
    db,
    traces: new TraceStore(db),
    tasks: new TaskStore(db),
    cache: new SqliteGenerationCache(db, options.cache),
    close: () => {
      if (db.open) db.close();
    },
  };
}
