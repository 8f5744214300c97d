import type { SqliteDatabase } from "./sqlite-database.js";

export const TASK_STATUSES = ["queued", "running", "succeeded", "failed", "cancelled"] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

export const TERMINAL_STATUSES: readonly TaskStatus[] = ["succeeded", "failed", "cancelled"];

export interface TaskError {
  code: string;
  message: string;
}

/** A stored task. Request and result are whatever JSON the caller stored; the store does not read them. */
export interface TaskRecord<Request = unknown, Result = unknown> {
  id: string;
  status: TaskStatus;
  request: Request;
  result: Result | undefined;
  error: TaskError | undefined;
  createdAt: number;
  startedAt: number | undefined;
  finishedAt: number | undefined;
}

interface TaskRow {
  id: string;
  status: TaskStatus;
  request: string;
  result: string | null;
  error_code: string | null;
  error_message: string | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
}

const toRecord = (row: TaskRow): TaskRecord => ({
  id: row.id,
  status: row.status,
  request: JSON.parse(row.request),
  result: row.result === null ? undefined : JSON.parse(row.result),
  error: row.error_code === null ? undefined : { code: row.error_code, message: row.error_message ?? "" },
  createdAt: row.created_at,
  startedAt: row.started_at ?? undefined,
  finishedAt: row.finished_at ?? undefined,
});

/**
 * The tasks table. Every transition is guarded by the status it leaves, so a late outcome (a run
 * finishing after it was cancelled or interrupted) cannot overwrite the status that won.
 */
export class TaskStore {
  private readonly now: () => number;
  private readonly insertTask;
  private readonly selectTask;
  private readonly selectUnfinished;
  private readonly markRunning;
  private readonly markSucceeded;
  private readonly markEnded;

  constructor(
    private readonly db: SqliteDatabase,
    options: { now?: () => number } = {},
  ) {
    this.now = options.now ?? Date.now;
    this.insertTask = db.prepare<[string, string, number]>(
      "INSERT INTO tasks (id, status, request, created_at) VALUES (?, 'queued', ?, ?)",
    );
    this.selectTask = db.prepare<[string], TaskRow>("SELECT * FROM tasks WHERE id = ?");
    this.selectUnfinished = db.prepare<[], TaskRow>(
      "SELECT * FROM tasks WHERE status IN ('queued', 'running') ORDER BY created_at, rowid",
    );
    this.markRunning = db.prepare<[number, string]>(
      "UPDATE tasks SET status = 'running', started_at = ? WHERE id = ? AND status = 'queued'",
    );
    this.markSucceeded = db.prepare<[string, number, string]>(
      "UPDATE tasks SET status = 'succeeded', result = ?, finished_at = ? WHERE id = ? AND status = 'running'",
    );
    this.markEnded = db.prepare<[TaskStatus, string | null, string | null, number, string]>(
      `UPDATE tasks SET status = ?, error_code = ?, error_message = ?, finished_at = ?
       WHERE id = ? AND status IN ('queued', 'running')`,
    );
  }

  /** Stores a new queued task. */
  create<Request>(id: string, request: Request): TaskRecord<Request> {
    this.insertTask.run(id, JSON.stringify(request), this.now());
    return this.get(id) as TaskRecord<Request>;
  }

  get<Request = unknown, Result = unknown>(id: string): TaskRecord<Request, Result> | undefined {
    const row = this.selectTask.get(id);
    return row && (toRecord(row) as TaskRecord<Request, Result>);
  }

  /**
   * Newest first, optionally only those in one status or submitted by one owner (`request.owner`, as
   * the server records the API key), at most `limit` (default 50).
   */
  list(options: { status?: TaskStatus; owner?: string; limit?: number } = {}): TaskRecord[] {
    const where: string[] = [];
    const params: (string | number)[] = [];
    if (options.status !== undefined) {
      where.push("status = ?");
      params.push(options.status);
    }
    if (options.owner !== undefined) {
      where.push("json_extract(request, '$.owner') = ?");
      params.push(options.owner);
    }
    params.push(options.limit ?? 50);
    const rows = this.db
      .prepare<(string | number)[], TaskRow>(
        `SELECT * FROM tasks ${where.length > 0 ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY created_at DESC, rowid DESC LIMIT ?`,
      )
      .all(...params);
    return rows.map(toRecord);
  }

  /** Queued and running tasks, oldest first: what a restart must deal with. */
  unfinished(): TaskRecord[] {
    return this.selectUnfinished.all().map(toRecord);
  }

  /** queued → running; whether it moved. */
  start(id: string): boolean {
    return this.markRunning.run(this.now(), id).changes > 0;
  }

  /** running → succeeded; whether it moved. */
  succeed(id: string, result: unknown): boolean {
    return this.markSucceeded.run(JSON.stringify(result), this.now(), id).changes > 0;
  }

  /** queued or running → failed; whether it moved. */
  fail(id: string, error: TaskError): boolean {
    return this.markEnded.run("failed", error.code, error.message, this.now(), id).changes > 0;
  }

  /** queued or running → cancelled; whether it moved. */
  cancel(id: string): boolean {
    return this.markEnded.run("cancelled", null, null, this.now(), id).changes > 0;
  }
}
