import { DeliberateError } from "../core/errors.js";
import type { DeliberateEvent } from "../core/event.js";
import type { TaskStatus } from "../store/task-store.js";
import type { TaskView } from "./task-manager.js";
import type { TaskRequest } from "./task-request.js";

/**
 * Where tasks are queued and read, whoever runs them: the in-process TaskManager (the default, one
 * server on SQLite) or RedisTaskQueue (BullMQ on Redis, run by `deliberate worker` processes). The
 * HTTP routes speak only to this. Methods may answer at once or as a promise.
 */
export interface TaskService {
  /** Validates and queues a request; returns the task id. TaskQueueFullError when the queue is full. */
  submit(request: TaskRequest): string | Promise<string>;
  get(id: string): TaskView | undefined | Promise<TaskView | undefined>;
  /** Newest first. */
  list(options?: { status?: TaskStatus; owner?: string; limit?: number }): TaskView[] | Promise<TaskView[]>;
  /**
   * A task's events from `fromSeq` on, stored ones then live ones, until the task ends or `signal`
   * aborts; in seq order with no gaps or repeats. Throws TaskNotFoundError for an unknown id.
   */
  events(
    id: string,
    options?: { fromSeq?: number; signal?: AbortSignal },
  ): AsyncGenerator<DeliberateEvent, void, undefined>;
  /** Queue figures for metrics: tasks waiting, and processes taking them when known. */
  stats?(): Promise<TaskQueueStats>;
  /** Cancels a queued or running task; whether anything was cancelled. */
  cancel(id: string): boolean | Promise<boolean>;
  close(): Promise<void>;
}

export interface TaskQueueStats {
  queued: number;
  /** Processes taking tasks from the queue (workers), when the queue knows. */
  workers?: number;
}

/** The shared task queue (Redis) cannot be reached: submissions and reads fail until it is back. */
export class TaskQueueUnavailableError extends DeliberateError {
  constructor(detail: string) {
    super("task_queue_unavailable", `the task queue (Redis) is unavailable: ${detail}; retry later`);
  }
}
