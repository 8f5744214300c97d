import type { Tracer } from "@opentelemetry/api";
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import type { Backend } from "../src/core/backend.js";
import type { GenerationCache } from "../src/core/cache.js";
import { errorMessage, UsageError } from "../src/core/errors.js";
import { createFallbackBackend } from "../src/runtime/fallback-backend.js";
import {
  createReliableBackend,
  type NamedBackend,
  type ReliabilityOptions,
  type ReliableBackend,
} from "../src/runtime/reliable-backend.js";
import { BackgroundTraceWriter } from "../src/store/background-trace-writer.js";
import { type DeliberateStore, openStore } from "../src/store/open-store.js";
import { SqliteGenerationCache } from "../src/store/sqlite-generation-cache.js";
import type { TraceSink } from "../src/store/trace-sink.js";
import { TraceWriter } from "../src/store/trace-writer.js";
import { strategyNames } from "../src/strategies/catalog.js";
import { createTaskManager, type TaskManagerOptions } from "../src/tasks/task-manager.js";
import type { TaskService } from "../src/tasks/task-service.js";
import { ApiKeyStore, type KeyAccount } from "./api-key-store.js";
import { type CompletionDeps, handleChatCompletion } from "./chat-completions.js";
import { ConcurrencyGate } from "./concurrency-gate.js";
import { type AccessLogEntry, ServerMetrics } from "./metrics.js";
import { listModelIds, parseModelName } from "./model-name.js";
import { ApiError, toApiError } from "./openai-errors.js";
import { RedisGenerationCache } from "./redis-generation-cache.js";
import { RedisKeyLedger } from "./redis-key-ledger.js";
import {
  checkFallbacks,
  checkTiers,
  modelNameSchema,
  parseServerSettings,
  type ReliabilityOverride,
  reliabilityFor,
  type ServerSettingsInput,
} from "./server-config.js";
import { ServerTools } from "./server-tools.js";
import { createServerTaskResolver } from "./task-resolver.js";
import { registerTaskRoutes, taskObject } from "./task-routes.js";
import { RunTelemetry } from "./telemetry.js";
import { registerTraceRoutes } from "./trace-routes.js";
import { findViewerAssets, registerViewerRoutes } from "./web-viewer.js";
import { WebhookSender } from "./webhooks.js";

/** A served model with its own reliability settings and fallbacks. */
export interface ServedModel {
  backend: Backend;
  /** Served models to try, in order, when this one fails with an outage or its circuit is open. */
  fallback?: string[];
  /** Overrides of the app's `reliability` settings for this model. */
  reliability?: ReliabilityOverride;
}

/** Everything an app is built from. Settings are validated and defaulted as in a config file. */
export interface AppConfig extends ServerSettingsInput {
  /** The models served, by the name clients use (no "/"). */
  models: Record<string, Backend | ServedModel>;
  /**
   * Traces, tasks and the cache. Default: the app opens `db` (`:memory:` when unset) and closes it on
   * `close()`; a store given here stays open, its owner closes it.
   */
  store?: DeliberateStore;
  /** Model-call cache instead of the store's, when `cache` is on. */
  generationCache?: GenerationCache;
  /** Clock for rate limits; replaceable in tests. */
  now?: () => number;
  /** Backoff randomness and waiting for the reliability layer; replaceable in tests. */
  random?: ReliabilityOptions["random"];
  sleep?: ReliabilityOptions["sleep"];
  /** Failures of background work (trace and task bookkeeping), which have no request to fail. */
  onError?: (error: unknown) => void;
  /**
   * Where tasks go instead of the in-process manager (e.g. a RedisTaskQueue for `serve --redis`),
   * built from what the in-process one would get: the store, the server's task resolver, limits.
   */
  taskService?: (context: TaskManagerOptions) => TaskService;
  /** Called with one structured entry per HTTP request answered (e.g. to print JSON lines). */
  accessLog?: (entry: AccessLogEntry) => void;
  /**
   * A Redis (redis:// URL) on which API keys' token budgets and rate limits are shared, atomically,
   * with every other server and worker using it; the app closes its connection on `close()`.
   */
  sharedKeys?: { redis: string; prefix?: string; holdTtlMs?: number };
  /**
   * A Redis (redis:// URL) holding the generation cache for every server using it, instead of this
   * server's SQLite file; the app closes its connection on `close()`. Ignored when `generationCache` is given.
   */
  sharedCache?: { redis: string; prefix?: string };
  /**
   * Exports every run as OpenTelemetry spans (GenAI semantic conventions) through this tracer; off
   * when unset. `deliberate serve` and `worker` set one when OTEL_EXPORTER_OTLP_ENDPOINT is set.
   */
  tracer?: Tracer;
  /** The built web viewer (a folder with index.html); default: the package's dist/web; null: none. */
  viewerAssets?: string | null;
}

/** A built server: its HTTP handler, and what it holds open until `close()`. */
export interface DeliberateApp {
  readonly hono: Hono<AppEnv>;
  readonly fetch: (request: Request) => Response | Promise<Response>;
  readonly store: DeliberateStore;
  readonly tasks: TaskService;
  /** Models by name, behind their reliability layer (breaker state is visible here). */
  readonly backends: Readonly<Record<string, ReliableBackend>>;
  /**
   * Stops the task manager (running tasks are marked interrupted, queued ones stay for the next
   * start), writes pending trace events, and closes the store if the app opened it. Idempotent.
   * Close the HTTP server first, so no request is still running.
   */
  close(): Promise<void>;
}

type AppEnv = { Variables: { account: KeyAccount | undefined } };

const isBackend = (value: Backend | ServedModel): value is Backend => "generate" in value;

const reportToStderr = (error: unknown): void => {
  process.stderr.write(`deliberate serve: background error: ${errorMessage(error)}\n`);
};

/**
 * Where chat-completion events are stored: from a worker thread when the store is a file, so requests
 * never wait on SQLite; in this thread for an in-memory store, which no other connection can see.
 */
function traceSink(
  store: DeliberateStore,
  flushAfterMs: number,
  onError: (error: unknown) => void,
): TraceSink {
  return store.db.memory
    ? new TraceWriter(store.traces, { onError, flushAfterMs })
    : new BackgroundTraceWriter(store.db.name, { onError, flushAfterMs });
}

const methodNotAllowed = (allow: string) => (c: { req: { method: string; path: string } }) =>
  new ApiError(405, "method_not_allowed", `method ${c.req.method} is not allowed on ${c.req.path}`, {
    headers: { allow },
  }).toResponse();

/**
 * The OpenAI-compatible HTTP API (chat completions and tasks) as a Hono app. All state (keys and
 * their counters, the concurrency gate, circuit breakers, the trace writer, the task manager)
 * belongs to this app instance, so two apps in one process never share anything. Every answer other
 * than a success is an OpenAI-style `{error: {message, type, code, param}}`.
 */
export function createApp(config: AppConfig): DeliberateApp {
  const {
    models,
    store: givenStore,
    generationCache,
    now,
    random,
    sleep,
    onError,
    viewerAssets,
    taskService,
    accessLog,
    sharedKeys,
    sharedCache,
    tracer,
    ...rest
  } = config;
  const settings = parseServerSettings(rest);
  const names = Object.keys(models);
  if (names.length === 0) throw new UsageError("the server needs at least one model");
  for (const name of names) {
    const checked = modelNameSchema.safeParse(name);
    if (!checked.success) throw new UsageError(`model name "${name}": ${checked.error.issues[0]?.message}`);
  }
  const served = Object.fromEntries(
    Object.entries(models).map(([name, model]) => [name, isBackend(model) ? { backend: model } : model]),
  ) as Record<string, ServedModel>;
  checkFallbacks(Object.fromEntries(names.map((name) => [name, served[name]?.fallback ?? []])));
  checkTiers(settings.tiers, names);

  // One breaker per served model; a fallback chain reuses the members' own reliable backends.
  const reliable = Object.fromEntries(
    Object.entries(served).map(([name, model]) => {
      const own = reliabilityFor(settings.reliability, model.reliability);
      return [
        name,
        createReliableBackend(name, model.backend, {
          timeoutMs: own.timeoutMs,
          retries: own.retries,
          retryBaseDelayMs: own.retryBaseDelayMs,
          retryMaxDelayMs: own.retryMaxDelayMs,
          breaker: own.breaker,
          ...(random && { random }),
          ...(sleep && { sleep }),
        }),
      ];
    }),
  ) as Record<string, ReliableBackend>;
  const backends = Object.fromEntries(
    names.map((name) => [
      name,
      createFallbackBackend(
        [name, ...(served[name]?.fallback ?? [])].map((n) => reliable[n] as ReliableBackend),
      ),
    ]),
  ) as Record<string, NamedBackend>;

  const report = onError ?? reportToStderr;
  const store = givenStore ?? openStore(settings.db ?? ":memory:");
  const { enabled: cacheEnabled, ...cacheLimits } = settings.cache;
  const tools = new ServerTools(settings.tools);
  const keyLedger =
    sharedKeys &&
    new RedisKeyLedger(sharedKeys.redis, {
      ...(sharedKeys.prefix !== undefined && { prefix: sharedKeys.prefix }),
      ...(sharedKeys.holdTtlMs !== undefined && { holdTtlMs: sharedKeys.holdTtlMs }),
      onError: report,
    });
  // Reads the task service lazily: it is built from these deps below.
  const metrics = new ServerMetrics({ tasks: () => tasks, backends: reliable, accessLog });
  const telemetry = tracer && new RunTelemetry(tracer);
  // Chat completions' events are counted (and exported) on their way to the trace store.
  const observed = (sink: TraceSink): TraceSink => ({
    write: (event) => {
      metrics.observe(event, "chat");
      telemetry?.observe(event);
      sink.write(event);
    },
    close: () => sink.close(),
  });
  const redisCache =
    cacheEnabled && !generationCache && sharedCache
      ? new RedisGenerationCache(sharedCache.redis, {
          ...(sharedCache.prefix !== undefined && { prefix: sharedCache.prefix }),
          ...(cacheLimits.ttlMs !== undefined && { ttlMs: cacheLimits.ttlMs }),
        })
      : undefined;
  const deps: CompletionDeps = {
    settings,
    backends,
    tools,
    keys: new ApiKeyStore(settings.apiKeys, now, keyLedger),
    gate: new ConcurrencyGate(settings.maxConcurrent, settings.maxQueue),
    cache: cacheEnabled
      ? (generationCache ?? redisCache ?? new SqliteGenerationCache(store.db, cacheLimits))
      : undefined,
    traces: settings.trace ? observed(traceSink(store, settings.traceFlushMs, report)) : undefined,
    inflight: new Set(),
  };
  const webhooks = new WebhookSender(settings.webhooks, settings.apiKeys, { onError: report });
  const taskContext: TaskManagerOptions = {
    store,
    resolve: createServerTaskResolver(deps),
    maxConcurrent: settings.tasks.maxConcurrent,
    maxQueue: settings.tasks.maxQueue,
    onError: report,
    // Whoever runs a task (this app, or a worker's) tells its webhook that it ended.
    onEvent: (event) => {
      metrics.observe(event, "task");
      telemetry?.observe(event);
    },
    onFinished: (view) => {
      const { webhookUrl, owner } = view.request;
      if (webhookUrl !== undefined) webhooks.deliver(webhookUrl, owner, view.id, taskObject(view));
    },
  };
  const tasks = taskService ? taskService(taskContext) : createTaskManager(taskContext);
  const servedStrategies = () => strategyNames().filter((name) => tools.allowsStrategy(name));
  const modelObject = (id: string) => ({ id, object: "model", created: 0, owned_by: "deliberate" });

  const app = new Hono<AppEnv>();

  app.onError((error) => {
    if (error instanceof HTTPException) {
      return new ApiError(error.status, "http_error", error.message || `HTTP ${error.status}`).toResponse();
    }
    return toApiError(error).toResponse();
  });
  app.notFound((c) =>
    new ApiError(404, "unknown_route", `unknown route ${c.req.method} ${c.req.path}`).toResponse(),
  );

  app.use("*", metrics.middleware);
  app.get("/health", (c) => c.json({ status: "ok" }));
  // Prometheus text format. Like /health it is outside /v1, so no API key: expose it to scrapers only.
  app.get("/metrics", async (c) =>
    c.body(await metrics.registry.metrics(), 200, { "content-type": metrics.registry.contentType }),
  );
  app.all("/metrics", methodNotAllowed("GET"));
  app.all("/health", methodNotAllowed("GET"));

  app.use("/v1/*", async (c, next) => {
    c.set("account", deps.keys.authenticate(c.req.header("authorization")));
    await next();
  });

  app.get("/v1/models", (c) =>
    c.json({ object: "list", data: listModelIds(names, servedStrategies()).map(modelObject) }),
  );
  app.all("/v1/models", methodNotAllowed("GET"));
  // Ids hold a "/" (`sc-8/default`), so the parameter takes the rest of the path.
  app.get("/v1/models/:id{.+}", (c) => {
    const id = c.req.param("id");
    const selection = parseModelName(id, names);
    if (selection.strategy !== undefined && !tools.allowsStrategy(selection.strategy)) {
      throw new ApiError(404, "model_not_found", `the model '${id}' is not served here`);
    }
    return c.json(modelObject(id));
  });

  app.post("/v1/chat/completions", (c) => handleChatCompletion(c.req.raw, c.get("account"), deps));
  app.all("/v1/chat/completions", methodNotAllowed("POST"));

  registerTaskRoutes(app, { ...deps, tasks, webhooks });
  registerTraceRoutes(app, {
    traces: store.traces,
    keys: deps.keys,
    pendingTask: async (id) => {
      const view = await tasks.get(id);
      if (view?.status !== "queued" && view?.status !== "running") return undefined;
      const { owner, strategy, model } = view.request;
      return { owner, strategy, model, input: undefined, createdAt: view.createdAt };
    },
  });
  registerViewerRoutes(app, viewerAssets === undefined ? findViewerAssets() : (viewerAssets ?? undefined), {
    apiKeys: deps.keys.enabled,
  });

  let closing: Promise<void> | undefined;
  return {
    hono: app,
    fetch: (request) => app.fetch(request),
    store,
    tasks,
    backends: reliable,
    close() {
      closing ??= (async () => {
        await tasks.close();
        await webhooks.close();
        await keyLedger?.close();
        await redisCache?.close();
        // Runs cut off by the listener closing still record how they ended.
        await Promise.allSettled(deps.inflight);
        await deps.traces?.close();
        if (!givenStore) store.close();
      })();
      return closing;
    },
  };
}
