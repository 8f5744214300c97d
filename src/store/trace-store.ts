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
  /** The API key id that started it, when the server had keys. */
  owner: string | undefined;
  /** Whether it ran as a background task (POST /v1/tasks) rather than a chat completion or `ask`. */
  isTask: boolean;
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
  owner: string | null;
  is_task: number;
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
  owner: row.owner ?? undefined,
  isTask: row.is_task === 1,
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

/** What one batch says about one task's summary row; null where the batch says nothing. */
interface SummaryDelta {
  taskId: string;
  firstTime: number;
  lastTime: number;
  count: number;
  lastSeq: number;
  strategy: string | null;
  input: string | null;
  model: string | null;
  owner: string | null;
  endedAt: number | null;
  answer: string | null;
  /** Final usage when the batch holds task.end, else the latest budget report. */
  usage: string | null;
  budgetExhausted: number | null;
  errorCode: string | null;
  errorMessage: string | null;
}

const EVENTS_PER_INSERT = 16;

/** Which traces to list; every filter given must hold. */
export interface TraceQuery {
  /** Only this API key id's traces; null: only those with no owner. Undefined: everyone's. */
  owner?: string | null;
  strategy?: string;
  model?: string;
  state?: TraceState;
  /** A page: traces older than this one (its task id), for paging newest first. */
  before?: string;
  /** At most this many (default 20). */
  limit?: number;
}

const STATE_CONDITION: Record<TraceState, string> = {
  open: "error_code IS NULL AND ended_at IS NULL",
  ended: "error_code IS NULL AND ended_at IS NOT NULL",
  failed: "error_code IS NOT NULL",
};

// Whether a trace is a task's: tasks share the trace's id.
const SUMMARY_COLUMNS = "traces.*, EXISTS (SELECT 1 FROM tasks WHERE tasks.id = traces.task_id) AS is_task";

/**
 * Append-only store of task event streams. Events are written as JSON keyed by (task, seq), and a
 * summary row per task is updated in the same transaction so listing traces never scans events.
 */
export class TraceStore {
  private readonly insertEvent;
  private readonly insertEvents;
  private readonly upsertSummary;
  private readonly selectEvents;
  private readonly selectTrace;
  private readonly selectRecent;
  private readonly appendBatch: (events: readonly DeliberateEvent[]) => void;

  constructor(private readonly db: SqliteDatabase) {
    this.insertEvent = db.prepare<[string, number, string]>(
      "INSERT INTO trace_events (task_id, seq, data) VALUES (?, ?, ?)",
    );
    this.insertEvents = db.prepare<(string | number)[]>(
      `INSERT INTO trace_events (task_id, seq, data) VALUES ${Array(EVENTS_PER_INSERT).fill("(?, ?, ?)").join(", ")}`,
    );
    // One statement per task per batch: the batch's facts are folded in JS first (a run's events
    // usually arrive in one or two batches, so this is most of the cost of tracing it).
    // A budget report never overwrites the final usage of a task that has ended.
    this.upsertSummary = db.prepare<[SummaryDelta]>(
      `INSERT INTO traces (task_id, strategy, input, model, owner, created_at, updated_at, ended_at, event_count,
         last_seq, answer, usage, budget_exhausted, error_code, error_message)
       VALUES (@taskId, @strategy, @input, @model, @owner, @firstTime, @lastTime, @endedAt, @count,
         @lastSeq, @answer, @usage, @budgetExhausted, @errorCode, @errorMessage)
       ON CONFLICT (task_id) DO UPDATE SET
         strategy = coalesce(excluded.strategy, strategy),
         input = coalesce(excluded.input, input),
         model = coalesce(excluded.model, model),
         owner = coalesce(excluded.owner, owner),
         updated_at = max(updated_at, excluded.updated_at),
         ended_at = coalesce(excluded.ended_at, ended_at),
         event_count = event_count + excluded.event_count,
         last_seq = max(last_seq, excluded.last_seq),
         answer = coalesce(excluded.answer, answer),
         usage = CASE
           WHEN excluded.budget_exhausted IS NOT NULL THEN excluded.usage
           WHEN budget_exhausted IS NULL THEN coalesce(excluded.usage, usage)
           ELSE usage END,
         budget_exhausted = coalesce(excluded.budget_exhausted, budget_exhausted),
         error_code = coalesce(excluded.error_code, error_code),
         error_message = coalesce(excluded.error_message, error_message)`,
    );
    this.selectEvents = db.prepare<[string, number, number], { seq: number; data: string }>(
      "SELECT seq, data FROM trace_events WHERE task_id = ? AND seq >= ? ORDER BY seq LIMIT ?",
    );
    this.selectTrace = db.prepare<[string], TraceRow>(
      `SELECT ${SUMMARY_COLUMNS} FROM traces WHERE task_id = ?`,
    );
    this.selectRecent = db.prepare<[number], TraceRow>(
      `SELECT ${SUMMARY_COLUMNS} FROM traces ORDER BY created_at DESC, task_id DESC LIMIT ?`,
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
    const deltas = new Map<string, SummaryDelta>();
    // Events go in EVENTS_PER_INSERT rows per statement: one native call for many rows.
    const rows: (string | number)[] = [];
    for (const event of events) {
      const { taskId, seq, ...rest } = event;
      let d = deltas.get(taskId);
      if (!d) {
        d = {
          taskId,
          firstTime: event.time,
          lastTime: event.time,
          count: 0,
          lastSeq: seq,
          strategy: null,
          input: null,
          model: null,
          owner: null,
          endedAt: null,
          answer: null,
          usage: null,
          budgetExhausted: null,
          errorCode: null,
          errorMessage: null,
        };
        deltas.set(taskId, d);
      }
      d.lastTime = Math.max(d.lastTime, event.time);
      d.count++;
      d.lastSeq = Math.max(d.lastSeq, seq);
      rows.push(taskId, seq, JSON.stringify(rest));
      if (rows.length === EVENTS_PER_INSERT * 3) {
        this.insertEvents.run(...rows);
        rows.length = 0;
      }
      if (event.type === "task.start") {
        d.strategy = event.strategy;
        d.input = event.input;
        d.model = event.model;
        d.owner = event.owner ?? null;
      } else if (event.type === "task.end") {
        d.endedAt = event.time;
        d.answer = event.answer;
        d.usage = JSON.stringify(event.usage);
        d.budgetExhausted = event.budgetExhausted ? 1 : 0;
      } else if (event.type === "error" && !event.recovered) {
        d.endedAt = event.time;
        d.errorCode = event.code;
        d.errorMessage = event.message;
      } else if (event.type === "budget" && d.budgetExhausted === null) {
        d.usage = JSON.stringify(event.used);
      }
    }
    for (let i = 0; i < rows.length; i += 3) {
      this.insertEvent.run(rows[i] as string, rows[i + 1] as number, rows[i + 2] as string);
    }
    for (const d of deltas.values()) this.upsertSummary.run(d);
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

  /** Traces matching every filter of `query`, newest first. */
  query(query: TraceQuery = {}): TraceSummary[] {
    const where: string[] = [];
    const params: (string | number)[] = [];
    if (query.owner === null) where.push("owner IS NULL");
    else if (query.owner !== undefined) {
      where.push("owner = ?");
      params.push(query.owner);
    }
    if (query.strategy !== undefined) {
      where.push("strategy = ?");
      params.push(query.strategy);
    }
    if (query.model !== undefined) {
      where.push("model = ?");
      params.push(query.model);
    }
    if (query.state !== undefined) where.push(STATE_CONDITION[query.state]);
    if (query.before !== undefined) {
      // A cursor that names no trace gives an empty page rather than the first one again.
      where.push(
        "(created_at, task_id) < (SELECT created_at, task_id FROM traces AS cursor WHERE cursor.task_id = ?)",
      );
      params.push(query.before);
    }
    const sql = `SELECT ${SUMMARY_COLUMNS} FROM traces ${where.length > 0 ? `WHERE ${where.join(" AND ")}` : ""}
      ORDER BY created_at DESC, task_id DESC LIMIT ?`;
    return this.db
      .prepare<(string | number)[], TraceRow>(sql)
      .all(...params, query.limit ?? 20)
      .map(toSummary);
  }

  /** The strategies and models that traces name, for filter menus; only `owner`'s when given. */
  facets(owner?: string | null): { strategies: string[]; models: string[] } {
    const scope = owner === null ? "WHERE owner IS NULL" : owner === undefined ? "" : "WHERE owner = ?";
    const args = owner === null || owner === undefined ? [] : [owner];
    const distinct = (column: "strategy" | "model") =>
      this.db
        .prepare<string[], { value: string }>(
          `SELECT DISTINCT ${column} AS value FROM traces ${scope} ${scope ? "AND" : "WHERE"} ${column} IS NOT NULL ORDER BY value`,
        )
        .all(...args)
        .map((row) => row.value);
    return { strategies: distinct("strategy"), models: distinct("model") };
  }

  /** Deletes a trace and its events; whether there was one. */
  delete(taskId: string): boolean {
    return this.db.transaction(() => {
      this.db.prepare("DELETE FROM trace_events WHERE task_id = ?").run(taskId);
      return this.db.prepare("DELETE FROM traces WHERE task_id = ?").run(taskId).changes > 0;
    })();
  }
}
