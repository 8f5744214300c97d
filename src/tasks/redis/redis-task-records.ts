import type { Redis } from "ioredis";
import type { Usage } from "../../core/usage.js";
import type { TaskResult } from "../../runtime/task-context.js";
import type { TaskError, TaskStatus } from "../../store/task-store.js";
import type { TaskView } from "../task-manager.js";
import type { TaskRequest } from "../task-request.js";

/** Redis key names of one deployment; `prefix` keeps several on one Redis apart. */
export class RedisTaskKeys {
  constructor(readonly prefix = "deliberate") {}
  task(id: string): string {
    return `${this.prefix}:task:${id}`;
  }
  events(id: string): string {
    return `${this.prefix}:task:${id}:events`;
  }
  /** Every task id, scored by creation time. */
  get index(): string {
    return `${this.prefix}:tasks`;
  }
  /** Pub/sub channel on which cancelled task ids reach the workers running them. */
  get cancel(): string {
    return `${this.prefix}:cancel`;
  }
  /** BullMQ's own keys live under this prefix. */
  get bullPrefix(): string {
    return `${this.prefix}:bull`;
  }
}

export const QUEUE_NAME = "tasks";

/**
 * Status transitions, each guarded by the status it leaves (as in the SQLite task store), atomic in
 * Lua so two processes never both win: a task starts once, and a late outcome (a run finishing after
 * it was cancelled or interrupted) cannot overwrite the status that won.
 */
const START = `
local s = redis.call('HGET', KEYS[1], 'status')
if s == 'queued' then
  redis.call('HSET', KEYS[1], 'status', 'running', 'startedAt', ARGV[1])
  return 'started'
end
return s or 'missing'`;

/** ARGV: status, now, result JSON or '', error code or '', error message. */
const END = `
local s = redis.call('HGET', KEYS[1], 'status')
local ok = (s == 'running') or (s == 'queued' and ARGV[1] ~= 'succeeded')
if not ok then return 0 end
redis.call('HSET', KEYS[1], 'status', ARGV[1], 'finishedAt', ARGV[2])
if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'result', ARGV[3]) end
if ARGV[4] ~= '' then redis.call('HSET', KEYS[1], 'errorCode', ARGV[4], 'errorMessage', ARGV[5]) end
return 1`;

/** Task records in Redis hashes: what `GET /v1/tasks/ID` shows on any server. */
export class RedisTaskRecords {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisTaskKeys,
    private readonly now: () => number = Date.now,
  ) {}

  async create(id: string, request: TaskRequest): Promise<void> {
    const createdAt = this.now();
    await this.redis
      .multi()
      .hset(this.keys.task(id), {
        status: "queued",
        request: JSON.stringify(request),
        createdAt: String(createdAt),
        ...(request.owner !== undefined && { owner: request.owner }),
      })
      .zadd(this.keys.index, createdAt, id)
      .exec();
  }

  async remove(id: string): Promise<void> {
    await this.redis.multi().del(this.keys.task(id)).zrem(this.keys.index, id).exec();
  }

  async get(id: string): Promise<TaskView | undefined> {
    return toView(id, await this.redis.hgetall(this.keys.task(id)));
  }

  async status(id: string): Promise<TaskStatus | undefined> {
    return ((await this.redis.hget(this.keys.task(id), "status")) as TaskStatus | null) ?? undefined;
  }

  /** queued → running; what the status was otherwise ('missing' for no task). */
  async start(id: string): Promise<"started" | TaskStatus | "missing"> {
    return (await this.redis.eval(START, 1, this.keys.task(id), String(this.now()))) as
      | "started"
      | TaskStatus;
  }

  /** running → succeeded. Whether it moved. */
  async succeed(id: string, result: TaskResult): Promise<boolean> {
    return this.end(id, "succeeded", { result });
  }

  /** queued or running → failed. */
  async fail(id: string, error: TaskError): Promise<boolean> {
    return this.end(id, "failed", { error });
  }

  /** queued or running → cancelled. */
  async cancel(id: string): Promise<boolean> {
    return this.end(id, "cancelled", {});
  }

  /** Latest spend of a running task, for readers on other servers. */
  async setUsage(id: string, usage: Usage): Promise<void> {
    await this.redis.hset(this.keys.task(id), "usage", JSON.stringify(usage));
  }

  /** Newest first; scans at most `scanLimit` ids for a filtered list. */
  async list(
    options: { status?: TaskStatus; owner?: string; limit?: number; scanLimit?: number } = {},
  ): Promise<TaskView[]> {
    const limit = options.limit ?? 50;
    const scanLimit = options.scanLimit ?? 2000;
    const page = Math.max(limit, 100);
    const views: TaskView[] = [];
    for (let start = 0; start < scanLimit && views.length < limit; start += page) {
      const ids = await this.redis.zrevrange(this.keys.index, start, start + page - 1);
      if (ids.length === 0) break;
      const pipeline = this.redis.pipeline();
      for (const id of ids) pipeline.hgetall(this.keys.task(id));
      const rows = (await pipeline.exec()) ?? [];
      ids.forEach((id, i) => {
        const view = toView(id, rows[i]?.[1] as Record<string, string> | undefined);
        if (!view || views.length >= limit) return;
        if (options.status !== undefined && view.status !== options.status) return;
        if (options.owner !== undefined && view.request.owner !== options.owner) return;
        views.push(view);
      });
      if (ids.length < page) break;
    }
    return views;
  }

  private async end(
    id: string,
    status: TaskStatus,
    outcome: { result?: TaskResult; error?: TaskError },
  ): Promise<boolean> {
    const moved = await this.redis.eval(
      END,
      1,
      this.keys.task(id),
      status,
      String(this.now()),
      outcome.result ? JSON.stringify(outcome.result) : "",
      outcome.error?.code ?? "",
      outcome.error?.message ?? "",
    );
    return moved === 1;
  }
}

const number = (value: string | undefined): number | undefined =>
  value === undefined || value === "" ? undefined : Number(value);

function toView(id: string, row: Record<string, string> | undefined): TaskView | undefined {
  if (!row || row.status === undefined || row.request === undefined) return undefined;
  const result = row.result ? (JSON.parse(row.result) as TaskResult) : undefined;
  const usage = result?.usage ?? (row.usage ? (JSON.parse(row.usage) as Usage) : undefined);
  return {
    id,
    status: row.status as TaskStatus,
    request: JSON.parse(row.request) as TaskRequest,
    result,
    error: row.errorCode ? { code: row.errorCode, message: row.errorMessage ?? "" } : undefined,
    usage,
    createdAt: Number(row.createdAt),
    startedAt: number(row.startedAt),
    finishedAt: number(row.finishedAt),
  };
}
