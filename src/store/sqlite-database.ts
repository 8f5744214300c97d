import { homedir } from "node:os";
import { dirname, join } from "node:path";
import Database from "better-sqlite3";
import { DeliberateError, errorMessage, UsageError } from "../core/errors.js";
import { makeDirectorySync } from "../core/make-directory.js";

export type SqliteDatabase = Database.Database;

/**
 * The database the CLI and server share: `DELIBERATE_DB`, else `$XDG_CACHE_HOME/deliberate/deliberate.db`,
 * else `~/.cache/deliberate/deliberate.db`. Empty variables count as unset.
 */
export function defaultDatabasePath(env: NodeJS.ProcessEnv = process.env): string {
  const explicit = env.DELIBERATE_DB?.trim();
  if (explicit) return explicit;
  const xdgCache = env.XDG_CACHE_HOME?.trim();
  return join(xdgCache || join(homedir(), ".cache"), "deliberate", "deliberate.db");
}

/**
 * Schema versions, oldest first; version N is the state after MIGRATIONS[N - 1]. Append only: a
 * released migration is never edited, since databases in the field already ran it.
 */
const MIGRATIONS: readonly string[] = [
  `
  -- One row per traced task, kept up to date as events are appended, so listing needs no scan.
  CREATE TABLE traces (
    task_id TEXT PRIMARY KEY,
    strategy TEXT,
    input TEXT,
    model TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    ended_at INTEGER,
    event_count INTEGER NOT NULL DEFAULT 0,
    last_seq INTEGER NOT NULL DEFAULT -1,
    answer TEXT,
    usage TEXT,
    budget_exhausted INTEGER,
    error_code TEXT,
    error_message TEXT
  );
  CREATE INDEX traces_created_at ON traces (created_at);

  -- The event itself minus task id and seq, which are the key.
  CREATE TABLE trace_events (
    task_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (task_id, seq)
  ) WITHOUT ROWID;

  CREATE TABLE tasks (
    id TEXT PRIMARY KEY,
    status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    request TEXT NOT NULL,
    result TEXT,
    error_code TEXT,
    error_message TEXT,
    created_at INTEGER NOT NULL,
    started_at INTEGER,
    finished_at INTEGER
  );
  CREATE INDEX tasks_status ON tasks (status, created_at);
  CREATE INDEX tasks_created_at ON tasks (created_at);

  CREATE TABLE generation_cache (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    accessed_at INTEGER NOT NULL
  );
  CREATE INDEX generation_cache_accessed_at ON generation_cache (accessed_at);

  -- Totals kept by triggers, so checking the limits after each set is O(1) and right across processes.
  CREATE TABLE generation_cache_totals (
    id INTEGER PRIMARY KEY CHECK (id = 0),
    entries INTEGER NOT NULL,
    bytes INTEGER NOT NULL
  );
  INSERT INTO generation_cache_totals (id, entries, bytes) VALUES (0, 0, 0);
  CREATE TRIGGER generation_cache_added AFTER INSERT ON generation_cache BEGIN
    UPDATE generation_cache_totals SET entries = entries + 1, bytes = bytes + NEW.bytes WHERE id = 0;
  END;
  CREATE TRIGGER generation_cache_removed AFTER DELETE ON generation_cache BEGIN
    UPDATE generation_cache_totals SET entries = entries - 1, bytes = bytes - OLD.bytes WHERE id = 0;
  END;
  CREATE TRIGGER generation_cache_resized AFTER UPDATE OF bytes ON generation_cache BEGIN
    UPDATE generation_cache_totals SET bytes = bytes - OLD.bytes + NEW.bytes WHERE id = 0;
  END;
  `,
  `
  -- Who started a run (an API key id), so the viewer shows a key only its own runs.
  ALTER TABLE traces ADD COLUMN owner TEXT;
  CREATE INDEX traces_owner_created_at ON traces (owner, created_at);

  -- Servers running on this database, so the CLI can print a run's viewer URL.
  CREATE TABLE viewers (
    url TEXT PRIMARY KEY,
    pid INTEGER NOT NULL,
    started_at INTEGER NOT NULL
  );
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

export interface OpenDatabaseOptions {
  /** How long a write waits for another connection's lock before failing; default 5 s. */
  busyTimeoutMs?: number;
}

/**
 * Opens (creating if needed) a Deliberate database: WAL so readers never block the writer, a busy
 * timeout so the CLI and server can share the file, and the schema migrated to the current version.
 * Someone else's database is refused before anything in it changes.
 */
export function openDatabase(file: string, options: OpenDatabaseOptions = {}): SqliteDatabase {
  const inMemory = file === ":memory:" || file === "";
  // Not mkdirSync(…, { recursive: true }): on Node 20 it never returns for a path under /proc.
  if (!inMemory) makeDirectorySync(dirname(file));
  const db = connect(file, { timeout: options.busyTimeoutMs ?? 5000 });
  try {
    // Checked before the WAL switch, which would rewrite a foreign file's header. One read
    // transaction, so a migration committed by another process in between cannot look foreign.
    db.transaction(() => {
      if (schemaVersionOf(db, file) === 0 && hasTables(db)) throw notOurs(file, FOREIGN_TABLES);
    })();
    if (!inMemory) db.pragma("journal_mode = WAL");
    // In WAL mode NORMAL loses at most the last commits on power loss, never consistency.
    db.pragma("synchronous = NORMAL");
    migrate(db, file);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

/**
 * Opens an existing Deliberate database for reading only: creates nothing, migrates nothing, sets no
 * pragma, so reading commands leave any file they are pointed at as it was. A file that is not
 * SQLite, or not Deliberate's at the current schema, is refused.
 */
export function openDatabaseReadOnly(file: string, options: OpenDatabaseOptions = {}): SqliteDatabase {
  const db = connect(file, { readonly: true, fileMustExist: true, timeout: options.busyTimeoutMs ?? 5000 });
  try {
    const version = schemaVersionOf(db, file);
    if (version === 0) {
      throw notOurs(file, hasTables(db) ? FOREIGN_TABLES : "it is empty");
    }
    if (version > SCHEMA_VERSION) throw newerSchema(file, version);
    // A foreign application may use user_version too: the tables every version has must be there.
    const missing = ["traces", "trace_events", "tasks"].filter(
      (name) =>
        db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) === undefined,
    );
    if (missing.length > 0) throw notOurs(file, `it has no ${missing.join(", ")} table`);
    if (version < SCHEMA_VERSION) {
      throw new DeliberateError(
        "store_version",
        `${file} has schema version ${version}, older than this deliberate's (${SCHEMA_VERSION}); run deliberate ask or serve on it once to upgrade it`,
      );
    }
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

/** Opens a connection with one clear line for a path SQLite cannot open. */
function connect(file: string, options: Database.Options): SqliteDatabase {
  try {
    return new Database(file, options);
  } catch (error) {
    throw new UsageError(`cannot open database ${file}: ${errorMessage(error)}`);
  }
}

/** The schema version; reading it is the first read, so a file that is not SQLite fails here. */
function schemaVersionOf(db: SqliteDatabase, file: string): number {
  try {
    return db.pragma("user_version", { simple: true }) as number;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === "SQLITE_NOTADB") throw notOurs(file, "it is not an SQLite database");
    throw new UsageError(`cannot read database ${file}: ${errorMessage(error)}`);
  }
}

const hasTables = (db: SqliteDatabase): boolean =>
  db.prepare("SELECT 1 FROM sqlite_master LIMIT 1").get() !== undefined;

const FOREIGN_TABLES = "it holds another application's tables";

const notOurs = (file: string, why: string): UsageError =>
  new UsageError(`${file} is not a Deliberate database: ${why}`);

const newerSchema = (file: string, version: number): DeliberateError =>
  new DeliberateError(
    "store_version",
    `${file} has schema version ${version}, newer than this deliberate understands (${SCHEMA_VERSION})`,
  );

function migrate(db: SqliteDatabase, file: string): void {
  const versionOf = () => db.pragma("user_version", { simple: true }) as number;
  if (versionOf() === SCHEMA_VERSION) return;
  // IMMEDIATE takes the write lock first, so two processes opening a fresh file cannot both migrate.
  db.transaction(() => {
    const version = versionOf();
    if (version > SCHEMA_VERSION) throw newerSchema(file, version);
    for (let next = version; next < SCHEMA_VERSION; next++) db.exec(MIGRATIONS[next] as string);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }).immediate();
}
