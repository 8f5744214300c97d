import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  defaultDatabasePath,
  openDatabase,
  openDatabaseReadOnly,
  SCHEMA_VERSION,
} from "./sqlite-database.js";

describe("openDatabase", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "deliberate-db-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("creates the file and its folders, in WAL mode, at the current schema version", () => {
    const file = join(dir, "nested", "deep", "deliberate.db");
    const db = openDatabase(file);
    expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
    expect(db.pragma("user_version", { simple: true })).toBe(SCHEMA_VERSION);
    expect(db.pragma("busy_timeout", { simple: true })).toBe(5000);
    const tables = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
      .pluck()
      .all();
    expect(tables).toEqual(
      expect.arrayContaining([
        "generation_cache",
        "generation_cache_totals",
        "tasks",
        "trace_events",
        "traces",
      ]),
    );
    db.close();
  });

  it("reopens an existing database without migrating it again, keeping its rows", () => {
    const file = join(dir, "deliberate.db");
    const first = openDatabase(file);
    first
      .prepare("INSERT INTO tasks (id, status, request, created_at) VALUES ('t', 'queued', '{}', 1)")
      .run();
    first.close();
    const second = openDatabase(file);
    expect(second.prepare("SELECT id FROM tasks").pluck().all()).toEqual(["t"]);
    second.close();
  });

  it("migrates a version 1 database: traces gain an owner, and its rows stay", () => {
    const file = join(dir, "v1.db");
    const first = openDatabase(file);
    first.exec(
      "DROP TABLE viewers; DROP INDEX traces_owner_created_at; ALTER TABLE traces DROP COLUMN owner",
    );
    first.pragma("user_version = 1");
    first.prepare("INSERT INTO traces (task_id, created_at, updated_at) VALUES ('task_old', 1, 1)").run();
    first.close();
    const db = openDatabase(file);
    expect(db.pragma("user_version", { simple: true })).toBe(SCHEMA_VERSION);
    expect(db.prepare("SELECT task_id, owner FROM traces").all()).toEqual([
      { task_id: "task_old", owner: null },
    ]);
    db.close();
  });

  it("lets two connections share the file", () => {
    const file = join(dir, "deliberate.db");
    const a = openDatabase(file);
    const b = openDatabase(file);
    a.prepare("INSERT INTO tasks (id, status, request, created_at) VALUES ('t', 'queued', '{}', 1)").run();
    expect(b.prepare("SELECT count(*) FROM tasks").pluck().get()).toBe(1);
    a.close();
    b.close();
  });

  it("refuses a database written by a newer version", () => {
    const file = join(dir, "future.db");
    const raw = new Database(file);
    raw.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    raw.close();
    expect(() => openDatabase(file)).toThrow(/newer than this deliberate understands/);
  });

  it("refuses another application's database before changing a byte of it", () => {
    const file = join(dir, "theirs.db");
    const raw = new Database(file);
    raw.exec("CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('mine');");
    raw.close();
    const before = readFileSync(file);
    expect(() => openDatabase(file)).toThrow(
      `${file} is not a Deliberate database: it holds another application's tables`,
    );
    // Still in its own journal mode, with no tables or version added.
    expect(readFileSync(file).equals(before)).toBe(true);
    const notSqlite = join(dir, "notes.txt");
    writeFileSync(notSqlite, "plain text, not a database\n".repeat(20));
    expect(() => openDatabase(notSqlite)).toThrow(
      /is not a Deliberate database: it is not an SQLite database$/,
    );
  });

  it("opens for reading without creating, migrating or changing anything", () => {
    const missing = join(dir, "missing.db");
    expect(() => openDatabaseReadOnly(missing)).toThrow(/^cannot open database .*missing\.db/);
    const file = join(dir, "deliberate.db");
    const writer = openDatabase(file);
    writer
      .prepare("INSERT INTO tasks (id, status, request, created_at) VALUES ('t', 'queued', '{}', 1)")
      .run();
    // Reads while another connection holds the file open, as `deliberate trace` beside a server.
    const reader = openDatabaseReadOnly(file);
    expect(reader.prepare("SELECT id FROM tasks").pluck().all()).toEqual(["t"]);
    expect(() => reader.prepare("DELETE FROM tasks").run()).toThrow(/readonly/);
    reader.close();
    writer.close();

    const empty = join(dir, "empty.db");
    new Database(empty).close();
    expect(() => openDatabaseReadOnly(empty)).toThrow(`${empty} is not a Deliberate database: it is empty`);
    const future = join(dir, "future.db");
    const raw = new Database(future);
    raw.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    raw.close();
    expect(() => openDatabaseReadOnly(future)).toThrow(/newer than this deliberate understands/);
  });

  it("defaults to ~/.cache/deliberate/deliberate.db, honouring DELIBERATE_DB and XDG_CACHE_HOME", () => {
    expect(defaultDatabasePath({ DELIBERATE_DB: "/x/y.db" })).toBe("/x/y.db");
    expect(defaultDatabasePath({ XDG_CACHE_HOME: "/c", DELIBERATE_DB: " " })).toBe(
      "/c/deliberate/deliberate.db",
    );
    expect(defaultDatabasePath({})).toMatch(/\.cache\/deliberate\/deliberate\.db$/);
  });
});
