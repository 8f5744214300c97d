import type { DeliberateEvent } from "../core/event.js";
import type { Usage } from "../core/usage.js";
import type { SqliteDatabase } from "./sqlite-database.js";

/** Where a trace stands: still being written (or cut off by a crash), ended with an answer, or failed. */
export type TraceState = "open" | "ended" | "failed";

/** One traced task at a glance, as kept up to date by `append`. */
export interface TraceSummary {
  taskId: string;
  state: TraceState;
  strategy: string | undefined;
  /** The last user message. */
  input: string | undefined;
  model: string | undefined;
  /** Time of the first event. */
  createdAt: number;
  /** Time of the last event. */
  updatedAt: number;
  endedAt: number | undefined;
  eventCount: number;
  /** Seq of the last event stored, -1 when none. */
  lastSeq: number;
  answer: string | undefined;
  /** The task's total at its end, else the latest budget report: what it has spent so far. */
  usage: Usage | undefined;
  budgetExhausted: boolean | undefined;
  error: { code: string; message: string } | undefined;
}

interface TraceRow {
  task_id: string;
  strategy: string | null;
  input: string | null;
  model: string | null;
  created_at: number;
  updated_at: number;
  ended_at: number | null;
  event_count: number;
  last_seq: number;
  answer: string | null;
  usage: string | null;
  budget_exhausted: number | null;
  error_code: string | null;
  error_message: string | null;
}

const toSummary = (row: TraceRow): TraceSummary => ({
  taskId: row.task_id,
  state: row.error_code !== null ? "failed" : row.ended_at !== null ? "ended" : "open",
  strategy: row.strategy ?? undefined,
  input: row.input ?? undefined,
  model: row.model ?? undefined,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
  endedAt: row.ended_at ?? undefined,
  eventCount: row.event_count,
  lastSeq: row.last_seq,
  answer: row.answer ?? undefined,
  usage: row.usage === null ? undefined : (JSON.parse(row.usage) as Usage),
  budgetExhausted: row.budget_exhausted === null ? undefined : row.budget_exhausted === 1,
  error: row.error_code === null ? undefined : { code: row.error_code, message: row.error_message ?? "" },
});

/**
 * Append-only store of task event streams. Events are written as JSON keyed by (task, seq), and a
 * summary row per task is updated in the same transaction so listing traces never scans events.
 */
export class TraceStore {
  private readonly insertEvent;
  private readonly touchTrace;
  private readonly startTrace;
  private readonly endTrace;
  private readonly failTrace;
  private readonly reportUsage;
  private readonly selectEvents;
  private readonly selectTrace;
  private readonly selectRecent;
  private readonly appendBatch: (events: readonly DeliberateEvent[]) => void;

  constructor(private readonly db: SqliteDatabase) {
    this.insertEvent = db.prepare<[string, number, string]>(
      "INSERT INTO trace_events (task_id, seq, data) VALUES (?, ?, ?)",
    );
    this.touchTrace = db.prepare<[{ taskId: string; time: number; count: number; lastSeq: number }]>(
      `INSERT INTO traces (task_id, created_at, updated_at, event_count, last_seq)
       VALUES (@taskId, @time, @time, @count, @lastSeq)
       ON CONFLICT (task_id) DO UPDATE SET
         updated_at = max(updated_at, excluded.updated_at),
         event_count = event_count + excluded.event_count,
         last_seq = max(last_seq, excluded.last_seq)`,
    );
    this.startTrace = db.prepare<[string, string, string, string]>(
      "UPDATE traces SET strategy = ?, input = ?, model = ? WHERE task_id = ?",
    );
    this.endTrace = db.prepare<[number, string, string, number, string]>(
      "UPDATE traces SET ended_at = ?, answer = ?, usage = ?, budget_exhausted = ? WHERE task_id = ?",
    );
    this.failTrace = db.prepare<[number, string, string, string]>(
      "UPDATE traces SET ended_at = ?, error_code = ?, error_message = ? WHERE task_id = ?",
    );
    // budget_exhausted is set by task.end, whose final usage a budget report must not overwrite.
    this.reportUsage = db.prepare<[string, string]>(
      "UPDATE traces SET usage = ? WHERE task_id = ? AND budget_exhausted IS NULL",
    );
    this.selectEvents = db.prepare<[string, number, number], { seq: number; data: string }>(
      "SELECT seq, data FROM trace_events WHERE task_id = ? AND seq >= ? ORDER BY seq LIMIT ?",
    );
    this.selectTrace = db.prepare<[string], TraceRow>("SELECT * FROM traces WHERE task_id = ?");
    this.selectRecent = db.prepare<[number], TraceRow>(
      "SELECT * FROM traces ORDER BY created_at DESC, task_id DESC LIMIT ?",
    );
    this.appendBatch = db.transaction((events: readonly DeliberateEvent[]) => this.write(events));
  }

  /** Stores one event; prefer `appendMany` for bursts, which is one transaction for all of them. */
  append(event: DeliberateEvent): void {
    this.appendBatch([event]);
  }

  /** Stores events in one transaction: all or none. A (task, seq) already stored is an error. */
  appendMany(events: readonly DeliberateEvent[]): void {
    if (events.length > 0) this.appendBatch(events);
  }

  private write(events: readonly DeliberateEvent[]): void {
    // The summary row is touched once per task per batch, not once per event.
    const touched = new Map<string, { time: number; count: number; lastSeq: number; used?: Usage }>();
    for (const event of events) {
      const { taskId, seq, ...rest } = event;
      let t = touched.get(taskId);
      if (!t) {
        // The row must exist before the header updates below can land on it.
        this.touchTrace.run({ taskId, time: event.time, count: 0, lastSeq: seq });
        t = { time: event.time, count: 0, lastSeq: seq };
        touched.set(taskId, t);
      }
      t.time = Math.max(t.time, event.time);
      t.count++;
      t.lastSeq = Math.max(t.lastSeq, seq);
      this.insertEvent.run(taskId, seq, JSON.stringify(rest));
      if (event.type === "task.start") {
        this.startTrace.run(event.strategy, event.input, event.model, taskId);
      } else if (event.type === "task.end") {
        t.used = undefined;
        this.endTrace.run(
          event.time,
          event.answer,
          JSON.stringify(event.usage),
          event.budgetExhausted ? 1 : 0,
          taskId,
        );
      } else if (event.type === "error" && !event.recovered) {
        this.failTrace.run(event.time, event.code, event.message, taskId);
      } else if (event.type === "budget") {
        t.used = event.used;
      }
    }
    for (const [taskId, t] of touched) {
      this.touchTrace.run({ taskId, time: t.time, count: t.count, lastSeq: t.lastSeq });
      if (t.used) this.reportUsage.run(JSON.stringify(t.used), taskId);
    }
  }

  /** A task's events in seq order, from `fromSeq` on, at most `limit` of them. */
  events(taskId: string, options: { fromSeq?: number; limit?: number } = {}): DeliberateEvent[] {
    const rows = this.selectEvents.all(taskId, options.fromSeq ?? 0, options.limit ?? -1);
    return rows.map((row) => ({ ...JSON.parse(row.data), taskId, seq: row.seq }) as DeliberateEvent);
  }

  get(taskId: string): TraceSummary | undefined {
    const row = this.selectTrace.get(taskId);
    return row && toSummary(row);
  }

  /** Most recent traces first. */
  list(options: { limit?: number } = {}): TraceSummary[] {
    return this.selectRecent.all(options.limit ?? 20).map(toSummary);
  }

  /** Deletes a trace and its events; whether there was one. */
  delete(taskId: string): boolean {
    return this.db.transaction(() => {
      this.db.prepare("DELETE FROM trace_events WHERE task_id = ?").run(taskId);
      return this.db.prepare("DELETE FROM traces WHERE task_id = ?").run(taskId).changes > 0;
    })();
  }
}
