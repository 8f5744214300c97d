import { AbortedError, DeliberateError, errorCode, errorMessage } from "../core/errors.js";
import type { DeliberateEvent } from "../core/event.js";
import type { Usage } from "../core/usage.js";
import { newTaskId, runStrategy, type TaskResult } from "../runtime/task-context.js";
import type { TaskError, TaskRecord, TaskStatus, TaskStore } from "../store/task-store.js";
import type { TraceStore } from "../store/trace-store.js";
import { TraceWriter } from "../store/trace-writer.js";
import { LiveTask } from "./live-task.js";
import { parseTaskRequest, type TaskRequest } from "./task-request.js";
import type { ResolvedTask, TaskResolver } from "./task-resolver.js";

/** Error code of a task that was running when its manager stopped (closed, or the process died). */
export const INTERRUPTED = "interrupted";

export class TaskNotFoundError extends DeliberateError {
  constructor(id: string) {
    super("task_not_found", `no task ${id}`);
  }
}

/** A submission refused because `maxQueue` tasks already wait to start. */
export class TaskQueueFullError extends DeliberateError {
  constructor(readonly maxQueue: number) {
    super("queue_full", `the task queue is full (${maxQueue} tasks waiting to start); retry later`);
  }
}

export interface TaskManagerOptions {
  store: { tasks: TaskStore; traces: TraceStore };
  resolve: TaskResolver;
  /** Tasks run at once; the rest wait queued. Default 2. */
  maxConcurrent?: number;
  /**
   * Tasks that may wait to start; a submission beyond it throws TaskQueueFullError. Default: no limit.
   * Tasks recovered from a previous manager are queued whatever their number: they were accepted.
   */
  maxQueue?: number;
  /** How long `close` waits for aborted runs to wind down before cutting them off; default 5 s. */
  closeTimeoutMs?: number;
  /** Failures of background bookkeeping (trace or status writes), which have no caller to throw to. */
  onError?: (error: unknown) => void;
  /** Called once a task has ended (succeeded, failed or cancelled), e.g. to deliver its webhook. */
  onFinished?: (task: TaskView) => void;
  /** Sees every event of every task run here (e.g. metrics, telemetry); must not throw. */
  onEvent?: (event: DeliberateEvent) => void;
}

/** A task as a client sees it. */
export interface TaskView {
  id: string;
  status: TaskStatus;
  request: TaskRequest;
  result: TaskResult | undefined;
  error: TaskError | undefined;
  /** Final usage once done; while running, what it has spent so far. */
  usage: Usage | undefined;
  createdAt: number;
  startedAt: number | undefined;
  finishedAt: number | undefined;
}

/** Events read from the store per page while replaying. */
const REPLAY_PAGE = 500;

/**
 * Runs submitted tasks in the background, at most `maxConcurrent` at once, persisting each one's
 * status in the task store and every event in the trace store. Transport-agnostic: an HTTP server
 * maps its routes onto submit / get / events / cancel.
 *
 * Restart policy (applied when a manager is created over a database a previous one used):
 * - `queued` tasks never started, so they are run now, in submission order.
 * - `running` tasks are not re-run: a sampled strategy would give a different answer under the same id.
 *   They are marked `failed` with code `interrupted`; their partial trace is kept and closed with an
 *   `error` event of that code. A client may resubmit the stored request; with a shared generation
 *   cache, a deterministic request replays its finished calls for free. A trace that had already
 *   reached `task.end` (the process died between writing it and the status) is marked `succeeded`.
 * `close()` applies the same policy to what it stops: queued tasks stay queued, running ones are
 * aborted and marked interrupted. One manager per database file: a second would interrupt the
 * first's running tasks.
 */
export class TaskManager {
  private readonly tasks: TaskStore;
  private readonly traces: TraceStore;
  private readonly resolve: TaskResolver;
  private readonly maxConcurrent: number;
  private readonly maxQueue: number;
  private readonly closeTimeoutMs: number;
  private readonly onError: (error: unknown) => void;
  private readonly onFinished: ((task: TaskView) => void) | undefined;
  private readonly onEvent: ((event: DeliberateEvent) => void) | undefined;
  private readonly writer: TraceWriter;
  private readonly live = new Map<string, LiveTask>();
  private readonly queue: string[] = [];
  private readonly runs = new Set<Promise<void>>();
  private closed = false;

  constructor(options: TaskManagerOptions) {
    this.tasks = options.store.tasks;
    this.traces = options.store.traces;
    this.resolve = options.resolve;
    this.maxConcurrent = Math.max(1, options.maxConcurrent ?? 2);
    this.maxQueue = options.maxQueue ?? Number.POSITIVE_INFINITY;
    this.closeTimeoutMs = options.closeTimeoutMs ?? 5000;
    this.onError = options.onError ?? (() => {});
    this.onFinished = options.onFinished;
    this.onEvent = options.onEvent;
    this.writer = new TraceWriter(this.traces, { onError: this.onError });
    this.recover();
  }

  /**
   * Validates and queues a request; returns the task id at once. Throws UsageError for a bad request,
   * TaskQueueFullError when `maxQueue` tasks already wait (a free slot takes it at once instead).
   */
  submit(request: TaskRequest): string {
    if (this.closed) throw new DeliberateError("closed", "the task manager is closed");
    const parsed = parseTaskRequest(request);
    const startsNow = this.runs.size < this.maxConcurrent && this.queue.length === 0;
    if (!startsNow && this.queue.length >= this.maxQueue) throw new TaskQueueFullError(this.maxQueue);
    const id = newTaskId();
    this.tasks.create(id, parsed);
    this.enqueue(id);
    this.pump();
    return id;
  }

  /** Tasks waiting to start. */
  get queued(): number {
    return this.queue.length;
  }

  /** For metrics: this process is the one worker. */
  async stats(): Promise<{ queued: number; workers: number }> {
    return { queued: this.queue.length, workers: 1 };
  }

  get(id: string): TaskView | undefined {
    const record = this.tasks.get<TaskRequest, TaskResult>(id);
    return record && this.view(record);
  }

  /** Newest first. */
  list(options: { status?: TaskStatus; owner?: string; limit?: number } = {}): TaskView[] {
    return this.tasks.list(options).map((record) => this.view(record as TaskRecord<TaskRequest, TaskResult>));
  }

  /**
   * A task's events from `fromSeq` on: first those stored, then live ones as they happen, until the
   * task ends (or `signal` aborts). In seq order with no gaps or repeats, whenever the reader joins.
   * Throws TaskNotFoundError when there is neither a task nor a trace by that id.
   */
  async *events(
    id: string,
    options: { fromSeq?: number; signal?: AbortSignal } = {},
  ): AsyncGenerator<DeliberateEvent, void, undefined> {
    const { signal } = options;
    if (!this.tasks.get(id) && !this.traces.get(id)) throw new TaskNotFoundError(id);
    // Subscribe before reading the store, and flush in the same turn: every event is then either
    // stored by the time it is read or delivered live, and seq filtering drops the overlap.
    const pending: DeliberateEvent[] = [];
    const live = this.live.get(id);
    let ended = !live || live.ended;
    let wake: (() => void) | undefined;
    const unsubscribe = live?.subscribe({
      event: (event) => {
        pending.push(event);
        wake?.();
      },
      end: () => {
        ended = true;
        wake?.();
      },
    });
    this.writer.flush();
    const onAbort = () => wake?.();
    signal?.addEventListener("abort", onAbort);
    try {
      let next = options.fromSeq ?? 0;
      for (;;) {
        const page = this.traces.events(id, { fromSeq: next, limit: REPLAY_PAGE });
        for (const event of page) {
          if (signal?.aborted) return;
          yield event;
          next = event.seq + 1;
        }
        if (page.length < REPLAY_PAGE) break;
      }
      for (;;) {
        while (pending.length > 0) {
          const event = pending.shift() as DeliberateEvent;
          if (event.seq < next) continue;
          if (signal?.aborted) return;
          yield event;
          next = event.seq + 1;
        }
        if (ended || signal?.aborted) return;
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
      }
    } finally {
      unsubscribe?.();
      signal?.removeEventListener("abort", onAbort);
    }
  }

  /**
   * Cancels a queued or running task: its status is `cancelled` at once and a running one is aborted
   * (its trace ends with the runtime's `aborted` error). Whether anything was cancelled.
   */
  cancel(id: string): boolean {
    const live = this.live.get(id);
    if (!live || live.ended) return false;
    const moved = this.tasks.cancel(id);
    if (live.started) {
      live.controller.abort(new AbortedError("cancelled"));
    } else {
      const queued = this.queue.indexOf(id);
      if (queued >= 0) this.queue.splice(queued, 1);
      this.finish(id, live);
    }
    return moved;
  }

  /**
   * Stops taking work: queued tasks stay queued for the next manager; running ones are aborted, given
   * `closeTimeoutMs` to wind down, and marked interrupted. Does not close the database.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.queue.length = 0;
    const running = [...this.live].filter(([, live]) => live.started && !live.ended);
    for (const [, live] of running) live.controller.abort(new AbortedError("the task manager closed"));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled(this.runs),
      new Promise((resolve) => {
        timer = setTimeout(resolve, this.closeTimeoutMs);
      }),
    ]);
    clearTimeout(timer);
    for (const [id, live] of running) {
      if (this.tasks.get(id)?.status === "running") {
        this.interrupt(id, "interrupted: the task manager was closed while it ran", live);
      }
    }
    this.writer.flush();
    for (const [id, live] of this.live) this.finish(id, live);
  }

  private view(record: TaskRecord<TaskRequest, TaskResult>): TaskView {
    const usage =
      record.result?.usage ?? this.live.get(record.id)?.usage ?? this.traces.get(record.id)?.usage;
    return {
      id: record.id,
      status: record.status,
      request: record.request,
      result: record.result,
      error: record.error,
      usage,
      createdAt: record.createdAt,
      startedAt: record.startedAt,
      finishedAt: record.finishedAt,
    };
  }

  /** Applies the restart policy to what a previous manager left unfinished. */
  private recover(): void {
    for (const record of this.tasks.unfinished()) {
      if (record.status === "queued") {
        this.enqueue(record.id);
        continue;
      }
      try {
        this.interrupt(record.id, "interrupted by a server restart");
        this.notifyFinished(record.id);
      } catch (error) {
        this.onError(error);
      }
    }
    this.pump();
  }

  /**
   * Ends a running task that will never finish: succeeded if its trace already reached task.end,
   * otherwise failed/interrupted with an error event closing its trace.
   */
  private interrupt(id: string, message: string, live?: LiveTask): void {
    this.writer.flush();
    if (live) live.detached = true;
    const trace = this.traces.get(id);
    if (trace?.state === "ended" && trace.answer !== undefined && trace.usage) {
      const record = this.tasks.get<TaskRequest>(id);
      this.tasks.succeed(id, {
        answer: trace.answer,
        strategy: record?.request.strategy ?? trace.strategy ?? "",
        budgetExhausted: trace.budgetExhausted ?? false,
        usage: trace.usage,
        traceId: id,
      } satisfies TaskResult);
      return;
    }
    const event: DeliberateEvent = {
      type: "error",
      taskId: id,
      seq: (trace?.lastSeq ?? -1) + 1,
      time: Date.now(),
      code: INTERRUPTED,
      message,
      recovered: false,
    };
    this.traces.append(event);
    // Readers still attached see why their stream ends.
    live?.publish(event);
    this.tasks.fail(id, { code: INTERRUPTED, message });
  }

  private enqueue(id: string): void {
    this.live.set(id, new LiveTask());
    this.queue.push(id);
  }

  private pump(): void {
    while (!this.closed && this.runs.size < this.maxConcurrent && this.queue.length > 0) {
      const id = this.queue.shift() as string;
      const live = this.live.get(id);
      if (!live) continue;
      if (!this.tasks.start(id)) {
        // Cancelled (or otherwise ended) while it waited.
        this.finish(id, live);
        continue;
      }
      live.started = true;
      const run: Promise<void> = this.execute(id, live)
        .catch(this.onError)
        .finally(() => {
          this.runs.delete(run);
          this.pump();
        });
      this.runs.add(run);
    }
  }

  private async execute(id: string, live: LiveTask): Promise<void> {
    let resolved: ResolvedTask | undefined;
    try {
      const request = this.tasks.get<TaskRequest>(id)?.request;
      if (!request) throw new TaskNotFoundError(id);
      resolved = await this.resolve(request);
      if (live.controller.signal.aborted) throw new AbortedError();
      const result = await runStrategy(resolved.strategy, resolved.input, {
        ...resolved.runOptions,
        taskId: id,
        signal: live.controller.signal,
        onEvent: (event) => this.record(live, event),
      });
      if (live.detached) return;
      // Trace first: a succeeded status promises a complete trace.
      this.writer.flush();
      this.tasks.succeed(id, result);
    } catch (error) {
      // A run stopped by close() is left running for close() to mark interrupted.
      if (live.detached || this.closed) return;
      const code = errorCode(error);
      if (live.lastSeq < 0) {
        // Failed before the strategy started (e.g. resolving its backend): the trace still says why.
        this.record(live, {
          type: "error",
          taskId: id,
          seq: 0,
          time: Date.now(),
          code,
          message: errorMessage(error),
          recovered: false,
        });
      }
      this.writer.flush();
      if (live.controller.signal.aborted) this.tasks.cancel(id);
      else this.tasks.fail(id, { code, message: errorMessage(error) });
    } finally {
      resolved?.release?.();
      if (!this.closed) this.finish(id, live);
    }
  }

  private record(live: LiveTask, event: DeliberateEvent): void {
    if (live.detached) return;
    this.writer.write(event);
    live.publish(event);
    this.onEvent?.(event);
  }

  private finish(id: string, live: LiveTask): void {
    live.end();
    this.live.delete(id);
    this.notifyFinished(id);
  }

  private notifyFinished(id: string): void {
    if (!this.onFinished) return;
    const view = this.get(id);
    if (view && view.status !== "queued" && view.status !== "running") this.onFinished(view);
  }
}

export const createTaskManager = (options: TaskManagerOptions): TaskManager => new TaskManager(options);
