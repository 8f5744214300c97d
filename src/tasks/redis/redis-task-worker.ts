import { type Job, Worker } from "bullmq";
import { Redis } from "ioredis";
import { AbortedError, errorCode, errorMessage } from "../../core/errors.js";
import type { DeliberateEvent } from "../../core/event.js";
import { runStrategy } from "../../runtime/task-context.js";
import { TERMINAL_STATUSES } from "../../store/task-store.js";
import type { TraceStore } from "../../store/trace-store.js";
import { TraceWriter } from "../../store/trace-writer.js";
import { INTERRUPTED, type TaskView } from "../task-manager.js";
import type { ResolvedTask, TaskResolver } from "../task-resolver.js";
import { closeRedis, connectRedis, isConnectionError } from "./redis-connection.js";
import { RedisTaskEvents } from "./redis-task-events.js";
import { QUEUE_NAME, RedisTaskKeys, RedisTaskRecords } from "./redis-task-records.js";

/** How long `close` waits for aborted runs to record their end. */
const CLOSE_TIMEOUT_MS = 5000;

export interface RedisTaskWorkerOptions {
  url: string;
  /** Key prefix; must match the servers'. Default "deliberate". */
  prefix?: string;
  /** Tasks this worker runs at once; default 1. */
  concurrency?: number;
  /** Makes a task runnable on this worker's own backends. */
  resolve: TaskResolver;
  /** Where this worker keeps a trace of every task it runs (e.g. its own SQLite store). */
  traces?: TraceStore;
  /**
   * How long a job's lock lasts without renewal (renewed every half of it). A worker killed mid-task
   * lets its lock lapse; the next stalled check of any worker then takes the task back. Default 30 s.
   */
  lockDurationMs?: number;
  /** How often this worker checks for stalled jobs; default 30 s. */
  stalledIntervalMs?: number;
  retentionSeconds?: number;
  /** Failures with no caller to throw to (bookkeeping writes, connection trouble). */
  onError?: (error: unknown) => void;
  /** Called once a task this worker ran (or interrupted) has ended, e.g. to deliver its webhook. */
  onFinished?: (task: TaskView) => void;
  /** Sees every event of the tasks run here (e.g. metrics, telemetry); must not throw. */
  onEvent?: (event: DeliberateEvent) => void;
}

/**
 * `deliberate worker`: takes tasks from the BullMQ queue and runs them, publishing every event to the
 * task's Redis Stream and its status to its Redis record.
 *
 * No task is lost or run twice: BullMQ holds a lock on each running job. When a worker dies, its lock
 * lapses and stalled-job recovery hands the job to another worker, which finds the record `running`
 * and, as a restarted single server does, does not re-run it (a sampled strategy would answer
 * differently under the same id): it closes the events with an `interrupted` error and marks the task
 * failed. A task whose record is no longer queued is never started, so a job delivered twice runs once.
 */
export class RedisTaskWorker {
  private readonly redis: Redis;
  private readonly bullConnection: Redis;
  private readonly subscriber: Redis;
  private readonly worker: Worker;
  private readonly keys: RedisTaskKeys;
  private readonly records: RedisTaskRecords;
  private readonly stream: RedisTaskEvents;
  private readonly resolve: TaskResolver;
  private readonly writer: TraceWriter | undefined;
  private readonly onError: (error: unknown) => void;
  private readonly onFinished: ((task: TaskView) => void) | undefined;
  private readonly onEvent: ((event: DeliberateEvent) => void) | undefined;
  private readonly running = new Map<string, AbortController>();
  /** Every job being processed here, bookkeeping included. */
  private readonly processing = new Set<Promise<void>>();
  private closing: Promise<void> | undefined;

  constructor(options: RedisTaskWorkerOptions) {
    this.onError = options.onError ?? (() => {});
    this.onFinished = options.onFinished;
    this.onEvent = options.onEvent;
    this.keys = new RedisTaskKeys(options.prefix);
    // A worker's own writes wait through a Redis restart (offline queue, unlimited retries) rather
    // than fail the task they belong to.
    this.redis = connectRedis(options.url, { enableOfflineQueue: true, maxRetriesPerRequest: null });
    this.records = new RedisTaskRecords(this.redis, this.keys);
    this.stream = new RedisTaskEvents(this.redis, this.keys, options.retentionSeconds);
    this.resolve = options.resolve;
    this.writer = options.traces && new TraceWriter(options.traces, { onError: this.onError });
    this.subscriber = connectRedis(options.url, { enableOfflineQueue: true, maxRetriesPerRequest: null });
    this.subscriber.on("message", (_channel: string, id: string) => {
      this.running.get(id)?.abort(new AbortedError("cancelled"));
    });
    void this.subscriber.subscribe(this.keys.cancel).catch(this.onError);
    this.bullConnection = new Redis(options.url, { maxRetriesPerRequest: null });
    this.bullConnection.on("error", () => {});
    this.worker = new Worker(
      QUEUE_NAME,
      (job: Job<{ id: string }>) => this.track(this.process(job.data.id)),
      {
        connection: this.bullConnection,
        prefix: this.keys.bullPrefix,
        concurrency: Math.max(1, options.concurrency ?? 1),
        lockDuration: options.lockDurationMs ?? 30_000,
        stalledInterval: options.stalledIntervalMs ?? 30_000,
        // Recovery itself is quick (see process); a second stall still fails the job, caught below.
        maxStalledCount: 2,
      },
    );
    this.worker.on("error", (error) => {
      if (!isConnectionError(error)) this.onError(error);
    });
    // BullMQ gave up on a job (stalled too often): its task must not stay `running`.
    this.worker.on("failed", (job) => {
      if (job) {
        void this.interrupt(job.data.id, "interrupted: the workers running it kept stopping").catch(
          this.onError,
        );
      }
    });
  }

  /** Tasks running on this worker now. */
  get active(): number {
    return this.running.size;
  }

  /** Resolves once the worker is connected and taking jobs. */
  async ready(): Promise<void> {
    await this.worker.waitUntilReady();
  }

  private track(run: Promise<void>): Promise<void> {
    this.processing.add(run);
    return run.finally(() => this.processing.delete(run));
  }

  private async process(id: string): Promise<void> {
    const started = await this.records.start(id);
    if (started === "running") {
      await this.interrupt(id, "interrupted: the worker running it stopped");
      return;
    }
    if (started !== "started") {
      // Cancelled while queued (or gone): nothing to run; make sure readers are not left waiting.
      if (started !== "missing" && !(await this.stream.last(id)).ended) await this.stream.end(id);
      return;
    }
    const controller = new AbortController();
    this.running.set(id, controller);
    const appends: Promise<void>[] = [];
    let lastSeq = -1;
    const record = (event: DeliberateEvent) => {
      lastSeq = event.seq;
      this.writer?.write(event);
      this.onEvent?.(event);
      appends.push(
        this.stream.append(event).catch((error) => {
          // Redis refused the entry: another process closed this task's stream (it was taken back
          // as stalled), so this run no longer owns it.
          if (!isConnectionError(error)) controller.abort(new AbortedError("the task was taken over"));
          else this.onError(error);
        }),
      );
      const usage = event.type === "budget" ? event.used : undefined;
      if (usage) appends.push(this.records.setUsage(id, usage).catch(this.onError));
    };
    let resolved: ResolvedTask | undefined;
    try {
      const request = (await this.records.get(id))?.request;
      if (!request) throw new Error(`task ${id} has no stored request`);
      resolved = await this.resolve(request);
      if (controller.signal.aborted) throw new AbortedError();
      const result = await runStrategy(resolved.strategy, resolved.input, {
        ...resolved.runOptions,
        taskId: id,
        signal: controller.signal,
        onEvent: record,
      });
      // Events first: a succeeded status promises a complete stream.
      await Promise.all(appends);
      await this.records.succeed(id, result);
    } catch (error) {
      if (lastSeq < 0) {
        // Failed before the strategy started (e.g. resolving its backend): the events still say why.
        record({
          type: "error",
          taskId: id,
          seq: 0,
          time: Date.now(),
          code: errorCode(error),
          message: errorMessage(error),
          recovered: false,
        });
      }
      await Promise.allSettled(appends);
      if (this.closing) {
        await this.records.fail(id, { code: INTERRUPTED, message: "interrupted: the worker was stopped" });
      } else if (controller.signal.aborted) {
        await this.records.cancel(id);
      } else {
        await this.records.fail(id, { code: errorCode(error), message: errorMessage(error) });
      }
    } finally {
      resolved?.release?.();
      this.running.delete(id);
      this.writer?.flush();
      await this.stream.end(id).catch(this.onError);
      await this.notifyFinished(id);
    }
  }

  private async notifyFinished(id: string): Promise<void> {
    if (!this.onFinished) return;
    try {
      const view = await this.records.get(id);
      if (view && TERMINAL_STATUSES.includes(view.status)) this.onFinished(view);
    } catch (error) {
      this.onError(error);
    }
  }

  /**
   * Ends a task whose run was lost: an `interrupted` error closes its events (unless its stream
   * already ended), and a still-running record is marked failed.
   */
  private async interrupt(id: string, message: string): Promise<void> {
    const status = await this.records.status(id);
    if (status === undefined || TERMINAL_STATUSES.includes(status)) return;
    const { lastSeq, ended } = await this.stream.last(id);
    if (!ended) {
      const event: DeliberateEvent = {
        type: "error",
        taskId: id,
        seq: lastSeq + 1,
        time: Date.now(),
        code: INTERRUPTED,
        message,
        recovered: false,
      };
      await this.stream.append(event).catch(() => {});
    }
    const moved = await this.records.fail(id, { code: INTERRUPTED, message });
    if (!ended) await this.stream.end(id);
    if (moved) await this.notifyFinished(id);
  }

  /**
   * Stops taking jobs; running tasks are aborted and marked failed `interrupted` (not re-run, as on a
   * single server). Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      for (const controller of this.running.values())
        controller.abort(new AbortedError("the worker stopped"));
      // Aborted runs record how they ended; with Redis away that cannot finish, so it is bounded.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled(this.processing),
        new Promise((resolve) => {
          timer = setTimeout(resolve, CLOSE_TIMEOUT_MS);
        }),
      ]);
      clearTimeout(timer);
      // Forced: our jobs are done (or given up on), and BullMQ's graceful close waits for Redis forever.
      await this.worker.close(true).catch(this.onError);
      this.writer?.flush();
      await Promise.all([
        closeRedis(this.subscriber),
        closeRedis(this.redis),
        closeRedis(this.bullConnection),
      ]);
    })();
    return this.closing;
  }
}
