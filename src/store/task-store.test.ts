import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openDatabase, type SqliteDatabase } from "./sqlite-database.js";
import { TaskStore } from "./task-store.js";

describe("TaskStore", () => {
  let dir: string;
  let db: SqliteDatabase;
  let store: TaskStore;
  let clock: number;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "deliberate-tasks-"));
    db = openDatabase(join(dir, "t.db"));
    clock = 100;
    store = new TaskStore(db, { now: () => clock });
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("walks a task from queued through running to succeeded, stamping each time", () => {
    const created = store.create("t1", { strategy: "cot", messages: [] });
    expect(created).toEqual({
      id: "t1",
      status: "queued",
      request: { strategy: "cot", messages: [] },
      result: undefined,
      error: undefined,
      createdAt: 100,
      startedAt: undefined,
      finishedAt: undefined,
    });
    clock = 101;
    expect(store.start("t1")).toBe(true);
    expect(store.start("t1")).toBe(false);
    clock = 102;
    expect(store.succeed("t1", { answer: "42" })).toBe(true);
    expect(store.get("t1")).toMatchObject({
      status: "succeeded",
      result: { answer: "42" },
      startedAt: 101,
      finishedAt: 102,
    });
  });

  it("lets the first ending win: a late success cannot overwrite a cancel or a failure", () => {
    store.create("c", {});
    store.start("c");
    expect(store.cancel("c")).toBe(true);
    expect(store.succeed("c", { answer: "late" })).toBe(false);
    expect(store.fail("c", { code: "x", message: "late" })).toBe(false);
    expect(store.get("c")).toMatchObject({ status: "cancelled", result: undefined, error: undefined });

    store.create("f", {});
    expect(store.fail("f", { code: "interrupted", message: "restart" })).toBe(true);
    expect(store.start("f")).toBe(false);
    expect(store.get("f")?.error).toEqual({ code: "interrupted", message: "restart" });
  });

  it("lists newest first, by status, and the unfinished oldest first", () => {
    for (const id of ["a", "b", "c", "d"]) {
      store.create(id, { id });
      clock++;
    }
    store.start("b");
    store.start("c");
    store.succeed("c", {});
    expect(store.list().map((t) => t.id)).toEqual(["d", "c", "b", "a"]);
    expect(store.list({ limit: 2 }).map((t) => t.id)).toEqual(["d", "c"]);
    expect(store.list({ status: "queued" }).map((t) => t.id)).toEqual(["d", "a"]);
    expect(store.unfinished().map((t) => [t.id, t.status])).toEqual([
      ["a", "queued"],
      ["b", "running"],
      ["d", "queued"],
    ]);
    expect(store.get("nope")).toBeUndefined();
  });

  it("refuses a duplicate id", () => {
    store.create("x", {});
    expect(() => store.create("x", {})).toThrow(/UNIQUE/);
  });
});
