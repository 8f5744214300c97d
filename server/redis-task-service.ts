import { RedisTaskQueue } from "../src/tasks/redis/redis-task-queue.js";
import { RedisTaskWorker } from "../src/tasks/redis/redis-task-worker.js";
import type { TaskManagerOptions } from "../src/tasks/task-manager.js";
import type { TaskService } from "../src/tasks/task-service.js";

export interface RedisTasksOptions {
  /** redis:// URL of the shared Redis. */
  url: string;
  /** Key prefix, the same on every server and worker of one deployment; default "deliberate". */
  prefix?: string;
}

export interface RedisWorkerOptions extends RedisTasksOptions {
  /** Tasks run at once; default the config's `tasks.maxConcurrent`. */
  concurrency?: number;
  /** BullMQ lock and stalled-check timing (see RedisTaskWorker); defaults 30 s. */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  /** Called with the worker once it exists, e.g. to wait until it is ready. */
  onWorker?: (worker: RedisTaskWorker) => void;
}

const queueFor = (options: RedisTasksOptions, context: TaskManagerOptions): RedisTaskQueue =>
  new RedisTaskQueue({
    url: options.url,
    ...(options.prefix !== undefined && { prefix: options.prefix }),
    ...(context.maxQueue !== undefined && { maxQueue: context.maxQueue }),
  });

/** `serve --redis`: the app's tasks go to the shared queue, for workers to run. */
export const redisTaskQueue =
  (options: RedisTasksOptions) =>
  (context: TaskManagerOptions): TaskService =>
    queueFor(options, context);

/**
 * `deliberate worker`: the app is not served over HTTP; it runs the queue's tasks with the server's
 * own resolver (its models, tools, caps and key budgets) and keeps their traces in its store.
 */
export const redisTaskWorker =
  (options: RedisWorkerOptions) =>
  (context: TaskManagerOptions): TaskService => {
    const queue = queueFor(options, context);
    const worker = new RedisTaskWorker({
      url: options.url,
      ...(options.prefix !== undefined && { prefix: options.prefix }),
      concurrency: options.concurrency ?? context.maxConcurrent ?? 1,
      resolve: context.resolve,
      traces: context.store.traces,
      ...(options.lockDurationMs !== undefined && { lockDurationMs: options.lockDurationMs }),
      ...(options.stalledIntervalMs !== undefined && { stalledIntervalMs: options.stalledIntervalMs }),
      ...(context.onError && { onError: context.onError }),
      ...(context.onFinished && { onFinished: context.onFinished }),
      ...(context.onEvent && { onEvent: context.onEvent }),
    });
    options.onWorker?.(worker);
    return {
      submit: (request) => queue.submit(request),
      get: (id) => queue.get(id),
      list: (query) => queue.list(query),
      events: (id, query) => queue.events(id, query),
      cancel: (id) => queue.cancel(id),
      stats: () => queue.stats(),
      close: async () => {
        await worker.close();
        await queue.close();
      },
    };
  };
