import { type Command, InvalidArgumentError } from "commander";
import { createApp, type DeliberateApp, type ServedModel } from "../../server/create-app.js";
import type { AccessLogEntry } from "../../server/metrics.js";
import { otlpTracerFromEnv } from "../../server/otlp-tracer.js";
import { redisTaskQueue } from "../../server/redis-task-service.js";
import {
  apiKeysFromEnv,
  checkTiers,
  loadServerConfig,
  type ModelConfig,
  modelNameSchema,
  parseServerConfig,
  type ReliabilityConfig,
  reliabilityFor,
  type ServerConfigFile,
  type TiersConfig,
} from "../../server/server-config.js";
import { type RunningServer, startServer } from "../../server/start-server.js";
import { findViewerAssets } from "../../server/web-viewer.js";
import type { Backend } from "../../src/core/backend.js";
import { UsageError } from "../../src/core/errors.js";
import { defaultDatabasePath } from "../../src/store/sqlite-database.js";
import { registerViewer, unregisterViewer } from "../../src/store/viewer-registry.js";
import { parseRedisUrl } from "../../src/tasks/redis/redis-connection.js";
import { addBackendOptions, type BackendFlags, backendKindOf, loadBackend } from "../backend-options.js";
import { parseInteger } from "../options.js";
import { onStopSignal } from "../stop-signal.js";

export interface ServeOptions extends BackendFlags {
  port?: number;
  host?: string;
  config?: string;
  /** SQLite file for traces, tasks and the cache; `:memory:` for none kept. */
  db?: string;
  /** redis:// URL: tasks go to a shared BullMQ queue for `deliberate worker`s instead of running here. */
  redis?: string;
  /** Print one JSON line per request answered on stdout. */
  accessLog?: boolean;
  /** The large tier: served as `large` (and under its name), and `ctx.backends.large` of every run. */
  largeModel?: string;
}

export interface ServeHandle {
  readonly server: RunningServer;
  readonly app: DeliberateApp;
  /** Served model names. */
  readonly models: string[];
  /** Stops the server, then the app (tasks, traces, database), then releases the backends. Idempotent. */
  close(): Promise<void>;
}

const DEFAULT_PORT = 8080;

const parsePort = (value: string): number => {
  const port = parseInteger("--port", { min: 0 })(value);
  if (port > 65_535) throw new InvalidArgumentError("--port must be at most 65535");
  return port;
};

/** The name `--large-model` is served under (besides its own, where that is a valid model name). */
const LARGE_TIER_NAME = "large";

/**
 * The models to serve: the config file's, or one from the backend flags, served as `default` (and under
 * its --model name when that is a valid model name), and with `--large-model` that one as `large` (and
 * under its name), on the same backend. Models in the config and in flags at once is a usage error.
 */
export function modelSpecs(
  config: ServerConfigFile,
  flags: BackendFlags & { largeModel?: string },
  flagsGiven: boolean,
): Record<string, ModelConfig> {
  if (config.models && Object.keys(config.models).length > 0) {
    if (flagsGiven || flags.largeModel !== undefined) {
      throw new UsageError(
        "give models in the --config file or with --model/--large-model/--backend/--base-url, not both",
      );
    }
    return config.models;
  }
  const specOf = (model: string | undefined): ModelConfig => ({
    backend: backendKindOf(flags),
    ...(model !== undefined && { model }),
    ...(flags.baseUrl !== undefined && { baseUrl: flags.baseUrl }),
    ...(flags.apiKey !== undefined && { apiKey: flags.apiKey }),
  });
  const spec = specOf(flags.model);
  const specs: Record<string, ModelConfig> = { default: spec };
  if (flags.model !== undefined && modelNameSchema.safeParse(flags.model).success) specs[flags.model] = spec;
  if (flags.largeModel !== undefined) {
    if (flags.largeModel === (flags.model ?? "default")) {
      throw new UsageError("--large-model must be another model than --model");
    }
    const large = specOf(flags.largeModel);
    specs[LARGE_TIER_NAME] = large;
    if (modelNameSchema.safeParse(flags.largeModel).success) specs[flags.largeModel] ??= large;
  }
  return specs;
}

/**
 * The model tiers: the config's `tiers`, with `--large-model` as the large one (both is a usage error),
 * each naming one of the served `specs`.
 */
export function tiersOf(
  config: ServerConfigFile,
  flags: { largeModel?: string },
  specs: Record<string, ModelConfig>,
): TiersConfig {
  if (flags.largeModel !== undefined && config.tiers.large !== undefined) {
    throw new UsageError(
      "give the large tier in the --config file (tiers.large) or with --large-model, not both",
    );
  }
  const tiers = flags.largeModel !== undefined ? { ...config.tiers, large: LARGE_TIER_NAME } : config.tiers;
  checkTiers(tiers, Object.keys(specs));
  return tiers;
}

/**
 * Starts `deliberate serve` in-process: reads and checks the config (a UsageError for anything wrong,
 * before any model loads), opens the backends, and listens. The caller decides when to close.
 */
export async function startServe(
  options: ServeOptions,
  context: { flagsGiven?: boolean; env?: NodeJS.ProcessEnv } = {},
): Promise<ServeHandle> {
  const config = options.config ? await loadServerConfig(options.config) : parseServerConfig({});
  const specs = modelSpecs(config, options, context.flagsGiven ?? false);
  const tiers = tiersOf(config, options, specs);
  const { port: configPort, host: configHost, models: _models, ...settings } = config;
  const env = context.env ?? process.env;
  const apiKeys = [...settings.apiKeys, ...apiKeysFromEnv(env.DELIBERATE_API_KEYS)];
  const db = options.db ?? settings.db ?? defaultDatabasePath(env);
  const redis = options.redis !== undefined ? parseRedisUrl(options.redis) : undefined;

  const otel = otlpTracerFromEnv(env);
  let served: OpenedModels | undefined;
  const closeBackends = async () => {
    await served?.close();
    await otel?.shutdown();
  };
  let app: DeliberateApp | undefined;
  try {
    served = await openServedModels(specs, settings.reliability, env);
    const models = served.models;
    app = createApp({
      ...settings,
      tiers,
      apiKeys,
      models,
      db,
      ...(redis !== undefined && {
        taskService: redisTaskQueue({ url: redis }),
        sharedKeys: { redis },
        sharedCache: { redis },
      }),
      ...(otel && { tracer: otel.tracer }),
      ...(options.accessLog && {
        accessLog: (entry: AccessLogEntry) => process.stdout.write(`${JSON.stringify(entry)}\n`),
      }),
    });
    const server = await startServer({
      app,
      port: options.port ?? configPort ?? DEFAULT_PORT,
      host: options.host ?? configHost ?? "127.0.0.1",
      // The serve process only serves, so the adapter's lightweight Request/Response may be global.
      overrideGlobals: true,
    });
    const opened = app;
    // So `ask` and `trace` on this database can print a run's viewer URL while this server runs.
    registerViewer(opened.store.db, server.url);
    let closing: Promise<void> | undefined;
    return {
      server,
      app: opened,
      models: Object.keys(models),
      close() {
        closing ??= server
          .close()
          .then(() => {
            unregisterViewer(opened.store.db, server.url);
            return opened.close();
          })
          .finally(closeBackends);
        return closing;
      },
    };
  } catch (error) {
    await app?.close();
    await closeBackends();
    throw error;
  }
}

/** The models a server or worker serves, and how to close them. */
export interface OpenedModels {
  models: Record<string, ServedModel>;
  close(): Promise<void>;
}

/**
 * Opens the served models: one backend per distinct spec, so names that share a spec (the flag
 * model's two names) share one loaded model. If one fails to open, those already open are closed.
 */
export async function openServedModels(
  specs: Record<string, ModelConfig>,
  reliability: ServerConfigFile["reliability"],
  env: NodeJS.ProcessEnv,
): Promise<OpenedModels> {
  const loaded = new Map<ModelConfig, Backend>();
  const close = async () => {
    await Promise.allSettled([...loaded.values()].map((backend) => backend.close()));
  };
  const models: Record<string, ServedModel> = {};
  try {
    for (const [name, spec] of Object.entries(specs)) {
      let backend = loaded.get(spec);
      if (!backend) {
        backend = await openBackend(spec, reliabilityFor(reliability, spec.reliability), env);
        loaded.set(spec, backend);
      }
      models[name] = {
        backend,
        ...(spec.fallback && { fallback: spec.fallback }),
        ...(spec.reliability && { reliability: spec.reliability }),
      };
    }
  } catch (error) {
    await close();
    throw error;
  }
  return { models, close };
}

/**
 * Opens one model. An openai endpoint makes a single attempt per call, within the model's timeout:
 * retries, timeouts and the circuit breaker are the server's reliability layer, so they are counted
 * and reported in one place.
 */
export function openBackend(
  spec: ModelConfig,
  reliability: ReliabilityConfig,
  env: NodeJS.ProcessEnv,
): Promise<Backend> {
  const apiKey = spec.apiKey ?? env.OPENAI_API_KEY;
  return loadBackend(
    {
      backend: spec.backend,
      ...(spec.model !== undefined && { model: spec.model }),
      ...(spec.baseUrl !== undefined && { baseUrl: spec.baseUrl }),
      ...(apiKey !== undefined && { apiKey }),
    },
    { retries: 0, timeoutMs: reliability.timeoutMs },
  );
}

/** Resolves on the first SIGINT or SIGTERM. */
export function shutdownSignal(): Promise<string> {
  return new Promise((resolve) => {
    onStopSignal(resolve);
  });
}

export function registerServeCommand(program: Command): void {
  addBackendOptions(program.command("serve"))
    .description("serve strategies over an OpenAI-compatible HTTP API (/v1/chat/completions)")
    .option("-p, --port <n>", `port to listen on (default ${DEFAULT_PORT}; 0 = any free port)`, parsePort)
    .option("--host <host>", "address to listen on (default 127.0.0.1)")
    .option(
      "-c, --config <file>",
      "JSON config: models, tiers, apiKeys, defaultStrategy, limits, tools, reliability",
    )
    .option(
      "--db <file>",
      "SQLite file for traces, tasks and the cache (default: $DELIBERATE_DB or ~/.cache/deliberate/deliberate.db)",
    )
    .option(
      "--large-model <name|path>",
      "the large tier that auto escalates to (same --backend; loaded on its first call), served as `large`",
    )
    .option("--redis <url>", "queue tasks on this Redis for `deliberate worker`s to run (redis://HOST:PORT)")
    .option(
      "--access-log",
      "print one JSON line per request on stdout (time, method, route, status, durationMs, key)",
    )
    .action(async (options: ServeOptions, command: Command) => {
      const flagsGiven = ["model", "backend", "baseUrl", "apiKey"].some(
        (name) => command.getOptionValueSource(name) === "cli",
      );
      const handle = await startServe(options, { flagsGiven });
      process.stderr.write(`deliberate serve listening on ${handle.server.url}\n`);
      process.stderr.write(
        findViewerAssets()
          ? `web viewer: ${handle.server.url}/\n`
          : `web viewer: not built (run npm run build in the deliberate package)\n`,
      );
      await shutdownSignal();
      await handle.close();
    });
}
