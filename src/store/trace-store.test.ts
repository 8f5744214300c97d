import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createScriptedBackend } from "../backends/scripted/scripted-backend.js";
import type { DeliberateEvent } from "../core/event.js";
import { userMessage } from "../core/message.js";
import { runStrategy } from "../runtime/task-context.js";
import { createStrategy } from "../strategies/catalog.js";
import { BackgroundTraceWriter } from "./background-trace-writer.js";
import { openDatabase, type SqliteDatabase } from "./sqlite-database.js";
import { TraceStore } from "./trace-store.js";
import { TraceWriter } from "./trace-writer.js";

async function tracedRun(
  taskId: string,
  options: { owner?: string; strategy?: string; model?: string } = {},
): Promise<DeliberateEvent[]> {
  const events: DeliberateEvent[] = [];
  const strategy = options.strategy ?? "sc";
  await runStrategy(
    createStrategy({ name: strategy, n: 3 }),
    { messages: [userMessage("What is 6 * 7?")] },
    {
      backend: createScriptedBackend({
        respond: ["6 * 7 = 42. The answer is 42"],
        ...(options.model && { model: options.model }),
      }),
      taskId,
      strategyName: strategy,
      ...(options.owner && { owner: options.owner }),
      onEvent: (event) => events.push(event),
    },
  );
  return events;
}

describe("TraceStore", () => {
  let dir: string;
  let db: SqliteDatabase;
  let store: TraceStore;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "deliberate-traces-"));
    db = openDatabase(join(dir, "t.db"));
    store = new TraceStore(db);
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("gives back a task's events exactly, in seq order, optionally from a seq", async () => {
    const events = await tracedRun("task_a");
    // Appended out of order and in pieces: reads are still in seq order.
    store.appendMany(events.slice(10));
    for (const event of events.slice(0, 10)) store.append(event);
    expect(store.events("task_a")).toEqual(events);
    expect(store.events("task_a", { fromSeq: 5 })).toEqual(events.slice(5));
    expect(store.events("task_a", { fromSeq: 5, limit: 3 })).toEqual(events.slice(5, 8));
    expect(store.events("nobody")).toEqual([]);
  });

  it("keeps a summary of each trace: header, answer, usage, counts", async () => {
    const events = await tracedRun("task_a");
    const end = events.at(-1);
    if (end?.type !== "task.end") throw new Error("expected task.end last");
    store.appendMany(events);
    expect(store.get("task_a")).toEqual({
      taskId: "task_a",
      state: "ended",
      strategy: "sc",
      input: "What is 6 * 7?",
      model: "scripted",
      owner: undefined,
      isTask: false,
      createdAt: events[0]?.time,
      updatedAt: end.time,
      endedAt: end.time,
      eventCount: events.length,
      lastSeq: events.length - 1,
      answer: "42",
      usage: end.usage,
      budgetExhausted: false,
      error: undefined,
    });
    expect(store.get("nobody")).toBeUndefined();
  });

  it("reports an open trace's latest spend, and a failed one's error", async () => {
    const events = await tracedRun("task_a");
    const lastBudget = events.findLast((e) => e.type === "budget");
    const cut = events.indexOf(lastBudget as DeliberateEvent) + 1;
    store.appendMany(events.slice(0, cut));
    const open = store.get("task_a");
    expect(open?.state).toBe("open");
    expect(open?.usage).toEqual(lastBudget?.type === "budget" && lastBudget.used);
    store.append({
      type: "error",
      taskId: "task_a",
      seq: cut,
      time: Date.now(),
      code: "interrupted",
      message: "gone",
      recovered: false,
    });
    const failed = store.get("task_a");
    expect(failed?.state).toBe("failed");
    expect(failed?.error).toEqual({ code: "interrupted", message: "gone" });
    expect(failed?.usage).toEqual(open?.usage);
  });

  it("refuses a seq stored twice, writing none of that batch", async () => {
    const events = await tracedRun("task_a");
    store.appendMany(events.slice(0, 3));
    expect(() => store.appendMany(events.slice(2, 6))).toThrow(/UNIQUE/);
    expect(store.events("task_a")).toHaveLength(3);
    expect(store.get("task_a")?.eventCount).toBe(3);
  });

  it("lists the most recent traces first, and deletes one", async () => {
    for (const id of ["task_1", "task_2", "task_3"]) store.appendMany(await tracedRun(id));
    expect(store.list().map((t) => t.taskId)).toEqual(["task_3", "task_2", "task_1"]);
    expect(store.list({ limit: 2 }).map((t) => t.taskId)).toEqual(["task_3", "task_2"]);
    expect(store.delete("task_2")).toBe(true);
    expect(store.delete("task_2")).toBe(false);
    expect(store.events("task_2")).toEqual([]);
    expect(store.list().map((t) => t.taskId)).toEqual(["task_3", "task_1"]);
  });

  it("queries by owner, strategy, model and state, newest first, a page at a time", async () => {
    store.appendMany(await tracedRun("task_1", { owner: "key_a" }));
    store.appendMany(await tracedRun("task_2", { owner: "key_b", strategy: "cot" }));
    store.appendMany(await tracedRun("task_3", { owner: "key_a", model: "other" }));
    const unfinished = (await tracedRun("task_4", { owner: "key_a" })).filter((e) => e.type !== "task.end");
    store.appendMany(unfinished);
    const ids = (traces: { taskId: string }[]) => traces.map((t) => t.taskId);
    expect(store.get("task_1")?.owner).toBe("key_a");
    expect(ids(store.query({ owner: "key_a" }))).toEqual(["task_4", "task_3", "task_1"]);
    expect(ids(store.query({ owner: "key_b" }))).toEqual(["task_2"]);
    expect(ids(store.query({ owner: null }))).toEqual([]);
    expect(ids(store.query({ strategy: "cot" }))).toEqual(["task_2"]);
    expect(ids(store.query({ model: "other" }))).toEqual(["task_3"]);
    expect(ids(store.query({ state: "open" }))).toEqual(["task_4"]);
    expect(ids(store.query({ owner: "key_a", state: "ended" }))).toEqual(["task_3", "task_1"]);
    expect(ids(store.query({ limit: 2 }))).toEqual(["task_4", "task_3"]);
    expect(ids(store.query({ limit: 2, before: "task_3" }))).toEqual(["task_2", "task_1"]);
    expect(ids(store.query({ before: "task_unknown" }))).toEqual([]);
    expect(store.facets("key_a")).toEqual({ strategies: ["sc"], models: ["other", "scripted"] });
    expect(store.facets()).toEqual({ strategies: ["cot", "sc"], models: ["other", "scripted"] });
  });
});

describe("TraceWriter", () => {
  let dir: string;
  let db: SqliteDatabase;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "deliberate-writer-"));
    db = openDatabase(join(dir, "t.db"));
  });
  afterEach(() => {
    if (db.open) db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("writes a turn's events together on the next turn, or at once on flush", async () => {
    const store = new TraceStore(db);
    const writer = new TraceWriter(store);
    const events = await tracedRun("task_w");
    for (const event of events.slice(0, 5)) writer.write(event);
    expect(store.events("task_w")).toEqual([]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(store.events("task_w")).toEqual(events.slice(0, 5));
    for (const event of events.slice(5)) writer.write(event);
    writer.flush();
    expect(store.events("task_w")).toEqual(events);
  });

  it("flushes early when too many events wait, and reports write failures instead of throwing", async () => {
    const store = new TraceStore(db);
    const errors: unknown[] = [];
    const writer = new TraceWriter(store, { maxPending: 4, onError: (e) => errors.push(e) });
    const events = await tracedRun("task_w");
    for (const event of events.slice(0, 4)) writer.write(event);
    expect(store.events("task_w")).toHaveLength(4);
    db.close();
    writer.write(events[4] as DeliberateEvent);
    expect(() => writer.flush()).not.toThrow();
    expect(errors).toHaveLength(1);
  });

  it("with flushAfterMs, holds events for that long so several runs share one commit", async () => {
    const store = new TraceStore(db);
    const writer = new TraceWriter(store, { flushAfterMs: 30 });
    const events = await tracedRun("task_w");
    for (const event of events) writer.write(event);
    await new Promise((resolve) => setImmediate(resolve));
    expect(store.events("task_w")).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(store.events("task_w")).toEqual(events);
  });
});

describe("BackgroundTraceWriter", () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "deliberate-bg-traces-"));
    file = join(dir, "t.db");
    // The file and its schema exist before the worker connects, as the server opens its store first.
    openDatabase(file).close();
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("stores every event from a worker thread; close waits until they are in the file", async () => {
    const writer = new BackgroundTraceWriter(file, { flushAfterMs: 5 });
    const runs = await Promise.all(["task_a", "task_b", "task_c"].map((id) => tracedRun(id)));
    // More events than one multi-row insert holds, interleaved across tasks as concurrent requests are.
    const interleaved = runs.flatMap((events, r) => events.map((event, i) => ({ event, order: i * 3 + r })));
    for (const { event } of interleaved.sort((a, b) => a.order - b.order)) writer.write(event);
    await writer.close();
    const db = openDatabase(file);
    try {
      const store = new TraceStore(db);
      for (const [i, taskId] of ["task_a", "task_b", "task_c"].entries()) {
        expect(store.events(taskId)).toEqual(runs[i]);
        expect(store.get(taskId)).toMatchObject({ state: "ended", strategy: "sc", answer: "42" });
      }
    } finally {
      db.close();
    }
  });

  it("reports a batch the worker could not store and goes on with the next", async () => {
    const errors: unknown[] = [];
    const writer = new BackgroundTraceWriter(file, { maxPending: 1, onError: (e) => errors.push(e) });
    const events = await tracedRun("task_d");
    const first = events[0] as DeliberateEvent;
    writer.write(first);
    writer.write(first); // the same (task, seq) twice: the store refuses it
    for (const event of events.slice(1)) writer.write(event);
    await writer.close();
    expect(errors).toHaveLength(1);
    expect(String(errors[0])).toMatch(/storing trace events failed/);
    const db = openDatabase(file);
    try {
      expect(new TraceStore(db).events("task_d")).toEqual(events);
    } finally {
      db.close();
    }
  });
});
