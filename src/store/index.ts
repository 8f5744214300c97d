export { BackgroundTraceWriter, type BackgroundTraceWriterOptions } from "./background-trace-writer.js";
export { type DeliberateStore, type OpenStoreOptions, openStore } from "./open-store.js";
export {
  defaultDatabasePath,
  type OpenDatabaseOptions,
  openDatabase,
  openDatabaseReadOnly,
  SCHEMA_VERSION,
  type SqliteDatabase,
} from "./sqlite-database.js";
export {
  type GenerationCacheStats,
  SqliteGenerationCache,
  type SqliteGenerationCacheOptions,
} from "./sqlite-generation-cache.js";
export {
  TASK_STATUSES,
  type TaskError,
  type TaskRecord,
  type TaskStatus,
  TaskStore,
  TERMINAL_STATUSES,
} from "./task-store.js";
export type { TraceSink } from "./trace-sink.js";
export { type TraceState, TraceStore, type TraceSummary } from "./trace-store.js";
export { TraceWriter, type TraceWriterOptions } from "./trace-writer.js";
