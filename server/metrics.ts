import type { Context, Next } from "hono";
import { routePath } from "hono/route";
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { DeliberateEvent } from "../src/core/event.js";
import type { Usage } from "../src/core/usage.js";
import type { ReliableBackend } from "../src/runtime/reliable-backend.js";
import type { TaskService } from "../src/tasks/task-service.js";

const BREAKER_STATES = { closed: 0, "half-open": 1, open: 2 } as const;

/** One line of the structured access log (JSON, one object a request). */
export interface AccessLogEntry {
  time: string;
  method: string;
  route: string;
  path: string;
  status: number;
  durationMs: number;
  /** The API key's account id (not the key), when keys are on. */
  key?: string;
}

/**
 * The server's Prometheus metrics (prom-client), in a registry of its own so two apps in one process
 * count apart: requests by route and status with latency, tokens and model calls by model and
 * strategy, generation-cache hits, task queue depth, breaker state per model, and workers.
 */
export class ServerMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<"method" | "route" | "status">;
  private readonly latency: Histogram<"method" | "route">;
  private readonly tokens: Counter<"model" | "strategy" | "kind">;
  private readonly calls: Counter<"model" | "strategy">;
  private readonly runs: Counter<"model" | "strategy" | "source">;
  private readonly cacheHits: Counter<string>;
  /** Model and strategy of chat-completion runs in progress, by task id, until their task.end. */
  private readonly open = new Map<string, { model: string; strategy: string }>();

  private readonly accessLog: ((entry: AccessLogEntry) => void) | undefined;

  constructor(sources: {
    tasks: () => TaskService;
    backends: Readonly<Record<string, ReliableBackend>>;
    accessLog?: ((entry: AccessLogEntry) => void) | undefined;
  }) {
    this.accessLog = sources.accessLog;
    const registers = [this.registry];
    this.requests = new Counter({
      name: "deliberate_http_requests_total",
      help: "HTTP requests answered, by method, route and status",
      labelNames: ["method", "route", "status"],
      registers,
    });
    this.latency = new Histogram({
      name: "deliberate_http_request_duration_seconds",
      help: "Time to the response's headers (streams run on after), by method and route",
      labelNames: ["method", "route"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });
    this.tokens = new Counter({
      name: "deliberate_tokens_total",
      help: "Model tokens spent by finished runs, by model, strategy and kind (prompt or completion)",
      labelNames: ["model", "strategy", "kind"],
      registers,
    });
    this.calls = new Counter({
      name: "deliberate_model_calls_total",
      help: "Model calls made by finished runs, by model and strategy",
      labelNames: ["model", "strategy"],
      registers,
    });
    this.runs = new Counter({
      name: "deliberate_runs_total",
      help: "Finished runs, by model, strategy and source (chat or task)",
      labelNames: ["model", "strategy", "source"],
      registers,
    });
    this.cacheHits = new Counter({
      name: "deliberate_cache_hits_total",
      help: "Model calls answered from the generation cache",
      registers,
    });
    const tasks = sources.tasks;
    new Gauge({
      name: "deliberate_task_queue_depth",
      help: "Tasks waiting to start (in this server, or in the shared Redis queue)",
      registers,
      async collect() {
        const stats = await tasks()
          .stats?.()
          .catch(() => undefined);
        if (stats) this.set(stats.queued);
      },
    });
    new Gauge({
      name: "deliberate_workers",
      help: "Processes taking tasks from the queue (1 for a server running its own tasks)",
      registers,
      async collect() {
        const stats = await tasks()
          .stats?.()
          .catch(() => undefined);
        if (stats?.workers !== undefined) this.set(stats.workers);
      },
    });
    new Gauge({
      name: "deliberate_breaker_state",
      help: "Circuit breaker per model: 0 closed, 1 half-open, 2 open",
      labelNames: ["model"],
      registers,
      collect() {
        for (const [name, backend] of Object.entries(sources.backends)) {
          if (backend.breaker) this.set({ model: name }, BREAKER_STATES[backend.breaker.state]);
        }
      },
    });
  }

  /**
   * Hono middleware: counts and times every request under its route pattern (not its raw path, which
   * would make a label per task id), and writes the access log.
   */
  readonly middleware = async (c: Context, next: Next): Promise<void> => {
    const started = performance.now();
    await next();
    const pattern = routePath(c, -1);
    // A wildcard is a middleware's pattern: no route matched (404), so the raw path is not a label.
    const route = pattern.endsWith("*") ? "unmatched" : pattern;
    const method = c.req.method;
    const durationMs = performance.now() - started;
    this.requests.inc({ method, route, status: String(c.res.status) });
    this.latency.observe({ method, route }, durationMs / 1000);
    if (this.accessLog) {
      const account = c.get("account") as { id: string } | undefined;
      this.accessLog({
        time: new Date().toISOString(),
        method,
        route,
        path: c.req.path,
        status: c.res.status,
        durationMs: Math.round(durationMs * 10) / 10,
        ...(account && { key: account.id }),
      });
    }
  };

  /**
   * Counts a run's events: its tokens and calls once it ends, and cache hits. Chat completions are
   * counted on their way to the trace store, tasks where they run (this process, or a worker).
   */
  observe(event: DeliberateEvent, source: "chat" | "task"): void {
    if (event.type === "task.start")
      this.open.set(event.taskId, { model: event.model, strategy: event.strategy });
    else if (event.type === "step.end" && event.cached) this.cacheHits.inc();
    else if (event.type === "task.end") {
      const run = this.open.get(event.taskId);
      this.open.delete(event.taskId);
      if (run) this.count(run.model, run.strategy, source, event.usage);
    } else if (event.type === "error" && !event.recovered) this.open.delete(event.taskId);
  }

  private count(model: string, strategy: string, source: string, usage: Usage): void {
    this.tokens.inc({ model, strategy, kind: "prompt" }, usage.promptTokens);
    this.tokens.inc({ model, strategy, kind: "completion" }, usage.completionTokens);
    this.calls.inc({ model, strategy }, usage.calls);
    this.runs.inc({ model, strategy, source });
  }
}
