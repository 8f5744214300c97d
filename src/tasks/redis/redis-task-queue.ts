import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import type { DeliberateEvent } from "../../core/event.js";
import { newTaskId } from "../../runtime/task-context.js";
import { type TaskStatus, TERMINAL_STATUSES } from "../../store/task-store.js";
import { TaskNotFoundError, TaskQueueFullError, type TaskView } from "../task-manager.js";
import { parseTaskRequest, type TaskRequest } from "../task-request.js";
import type { TaskService } from "../task-service.js";
import { closeRedis, connectRedis, withRedis } from "./redis-connection.js";
import { RedisTaskEvents } from "./redis-task-events.js";
import { QUEUE_NAME, RedisTaskKeys, RedisTaskRecords } from "./redis-task-records.js";

export interface RedisTaskQueueOptions {
  /** redis:// URL of the shared Redis. */
  url: string;
  /** Key prefix, to keep deployments on one Redis apart; default "deliberate". */
  prefix?: string;
  /** Tasks that may wait for a worker; a submission beyond it throws TaskQueueFullError. */
  maxQueue?: number;
  /** Ended tasks' records and events expire after this; default 7 days. */
  retentionSeconds?: number;
}

const options = { removeOnComplete: true, removeOnFail: true } as const;

/**
 * The task service of `deliberate serve --redis URL`: tasks go to a BullMQ queue on Redis for
 * `deliberate worker` processes to run, their records and events live in Redis, so any server
 * answers for any task. While Redis is unreachable every call throws TaskQueueUnavailableError
 * (the server answers 503); chat completions never touch it.
 */
export class RedisTaskQueue implements TaskService {
  readonly redis: Redis;
  private readonly queueConnection: Redis;
  private readonly queue: Queue;
  private readonly keys: RedisTaskKeys;
  private readonly records: RedisTaskRecords;
  private readonly stream: RedisTaskEvents;
  private readonly maxQueue: number;

  constructor(settings: RedisTaskQueueOptions) {
    this.redis = connectRedis(settings.url);
    this.keys = new RedisTaskKeys(settings.prefix);
    this.records = new RedisTaskRecords(this.redis, this.keys);
    this.stream = new RedisTaskEvents(this.redis, this.keys, settings.retentionSeconds);
    this.maxQueue = settings.maxQueue ?? Number.POSITIVE_INFINITY;
    // BullMQ checks the server when it starts and stays broken if that fails, so its connection
    // waits for Redis instead of failing fast; requests are guarded by `withRedis` on the other one.
    this.queueConnection = connectRedis(settings.url, {
      enableOfflineQueue: true,
      maxRetriesPerRequest: null,
    });
    this.queue = new Queue(QUEUE_NAME, { connection: this.queueConnection, prefix: this.keys.bullPrefix });
    this.queue.on("error", () => {});
  }

  async submit(request: TaskRequest): Promise<string> {
    const parsed = parseTaskRequest(request);
    return withRedis(this.redis, async () => {
      if (Number.isFinite(this.maxQueue) && (await this.queue.getWaitingCount()) >= this.maxQueue) {
        throw new TaskQueueFullError(this.maxQueue);
      }
      const id = newTaskId();
      await this.records.create(id, parsed);
      try {
        // The task id is the job id: BullMQ never holds two jobs for one task.
        await this.queue.add("task", { id }, { ...options, jobId: id });
      } catch (error) {
        await this.records.remove(id).catch(() => {});
        throw error;
      }
      return id;
    });
  }

  get(id: string): Promise<TaskView | undefined> {
    return withRedis(this.redis, () => this.records.get(id));
  }

  list(options: { status?: TaskStatus; owner?: string; limit?: number } = {}): Promise<TaskView[]> {
    return withRedis(this.redis, () => this.records.list(options));
  }

  /** Tasks waiting for a worker, and the workers connected to the queue (BullMQ's count). */
  stats(): Promise<{ queued: number; workers: number }> {
    return withRedis(this.redis, async () => {
      const [queued, workers] = await Promise.all([
        this.queue.getWaitingCount(),
        this.queue.getWorkersCount(),
      ]);
      return { queued, workers };
    });
  }

  async *events(
    id: string,
    options: { fromSeq?: number; signal?: AbortSignal } = {},
  ): AsyncGenerator<DeliberateEvent, void, undefined> {
    if (!(await this.get(id))) throw new TaskNotFoundError(id);
    yield* this.stream.follow(id, {
      ...options,
      finished: async () => {
        const status = await this.records.status(id);
        return status === undefined || TERMINAL_STATUSES.includes(status);
      },
    });
  }

  /**
   * Cancelled at once in the record; the worker running it hears it on the cancel channel and aborts.
   * A task still queued has no worker to end its event stream, so it is ended here.
   */
  cancel(id: string): Promise<boolean> {
    return withRedis(this.redis, async () => {
      const before = await this.records.status(id);
      const moved = await this.records.cancel(id);
      if (!moved) return false;
      await this.redis.publish(this.keys.cancel, id);
      if (before === "queued") {
        await this.queue.remove(id).catch(() => 0);
        await this.stream.end(id);
      }
      return true;
    });
  }

  async close(): Promise<void> {
    await this.queue.close().catch(() => {});
    await Promise.all([closeRedis(this.redis), closeRedis(this.queueConnection)]);
  }
}
