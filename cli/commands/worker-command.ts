import type { Command } from "commander";
import { createApp, type DeliberateApp } from "../../server/create-app.js";
import { ApiError } from "../../server/openai-errors.js";
import { otlpTracerFromEnv } from "../../server/otlp-tracer.js";
import { redisTaskWorker } from "../../server/redis-task-service.js";
import { apiKeysFromEnv, loadServerConfig, parseServerConfig } from "../../server/server-config.js";
import { type RunningServer, startServer } from "../../server/start-server.js";
import { UsageError } from "../../src/core/errors.js";
import { defaultDatabasePath } from "../../src/store/sqlite-database.js";
import { parseRedisUrl } from "../../src/tasks/redis/redis-connection.js";
import type { RedisTaskWorker } from "../../src/tasks/redis/redis-task-worker.js";
import { addBackendOptions, type BackendFlags } from "../backend-options.js";
import { parseInteger } from "../options.js";
import { modelSpecs, type OpenedModels, openServedModels, shutdownSignal, tiersOf } from "./serve-command.js";

export interface WorkerOptions extends BackendFlags {
  redis?: string;
  concurrency?: number;
  config?: string;
  /** SQLite file where this worker keeps the traces of the tasks it runs. */
  traceDb?: string;
  /** Serve GET /metrics and /health (nothing else) on this port; none by default. */
  metricsPort?: number;
  /** Address for --metrics-port; default 127.0.0.1. */
  metricsHost?: string;
  /** The large tier, as `serve --large-model` gives it (give the servers and workers the same). */
  largeModel?: string;
}

export interface WorkerHandle {
  readonly app: DeliberateApp;
  readonly worker: RedisTaskWorker;
  readonly models: string[];
  /** The /metrics listener, with --metrics-port. */
  readonly metrics: RunningServer | undefined;
  /** Stops taking tasks (running ones end `interrupted`), closes the store and the backends. */
  close(): Promise<void>;
}

/**
 * Starts `deliberate worker` in-process: the same config and model flags as `serve` (so task requests
 * mean the same models, tools, caps and key budgets), no HTTP; tasks come from the Redis queue.
 */
export async function startWorker(
  options: WorkerOptions,
  context: { flagsGiven?: boolean; env?: NodeJS.ProcessEnv } = {},
): Promise<WorkerHandle> {
  if (options.redis === undefined) throw new UsageError("deliberate worker needs --redis URL");
  const url = parseRedisUrl(options.redis);
  const config = options.config ? await loadServerConfig(options.config) : parseServerConfig({});
  const specs = modelSpecs(config, options, context.flagsGiven ?? false);
  const tiers = tiersOf(config, options, specs);
  const { port: _port, host: _host, models: _models, ...settings } = config;
  const env = context.env ?? process.env;
  const apiKeys = [...settings.apiKeys, ...apiKeysFromEnv(env.DELIBERATE_API_KEYS)];
  const db = options.traceDb ?? settings.db ?? defaultDatabasePath(env);

  const otel = otlpTracerFromEnv(env);
  let served: OpenedModels | undefined;
  const closeBackends = async () => {
    await served?.close();
    await otel?.shutdown();
  };
  try {
    served = await openServedModels(specs, settings.reliability, env);
    const models = served.models;
    let worker: RedisTaskWorker | undefined;
    const app = createApp({
      ...settings,
      tiers,
      apiKeys,
      models,
      db,
      // Tasks hold their key's tokens where they run: here, counted with the servers'.
      sharedKeys: { redis: url },
      // A completion any server or worker paid for answers the same deterministic call here.
      sharedCache: { redis: url },
      ...(otel && { tracer: otel.tracer }),
      taskService: redisTaskWorker({
        url,
        ...(options.concurrency !== undefined && { concurrency: options.concurrency }),
        onWorker: (w) => {
          worker = w;
        },
      }),
    });
    // Only the process's own figures: the app's API stays closed on a worker.
    const metrics =
      options.metricsPort === undefined
        ? undefined
        : await startServer({
            app: {
              fetch: (request) =>
                ["/metrics", "/health"].includes(new URL(request.url).pathname) && request.method === "GET"
                  ? app.fetch(request)
                  : new ApiError(
                      404,
                      "unknown_route",
                      "a worker serves only GET /metrics and /health",
                    ).toResponse(),
            },
            port: options.metricsPort,
            host: options.metricsHost ?? "127.0.0.1",
          }).catch(async (error) => {
            await app.close();
            throw error;
          });
    let closing: Promise<void> | undefined;
    return {
      app,
      worker: worker as RedisTaskWorker,
      models: Object.keys(models),
      metrics,
      close() {
        closing ??= (async () => {
          await metrics?.close();
          await app.close();
        })().finally(closeBackends);
        return closing;
      },
    };
  } catch (error) {
    await closeBackends();
    throw error;
  }
}

/** The URL without its password, for logs. */
const safeUrl = (url: string): string => {
  const parsed = new URL(url);
  parsed.password = "";
  return parsed.toString();
};

export function registerWorkerCommand(program: Command): void {
  addBackendOptions(program.command("worker"))
    .description("run tasks from a Redis (BullMQ) queue that `deliberate serve --redis` fills")
    .option("--redis <url>", "the Redis the servers queue tasks on (redis://HOST:PORT)")
    .option(
      "--concurrency <n>",
      "tasks run at once (default: the config's tasks.maxConcurrent, 2)",
      parseInteger("--concurrency", { min: 1 }),
    )
    .option(
      "-c, --config <file>",
      "the servers' JSON config: models, tiers, apiKeys, limits, tools, reliability",
    )
    .option("--large-model <name|path>", "the large tier, as the servers' --large-model")
    .option(
      "--trace-db <file>",
      "SQLite file for the traces of tasks run here (default: $DELIBERATE_DB or ~/.cache/deliberate/deliberate.db)",
    )
    .option(
      "--metrics-port <n>",
      "serve GET /metrics (Prometheus) and /health on this port",
      parseInteger("--metrics-port", { min: 0, max: 65_535 }),
    )
    .option("--metrics-host <host>", "address for --metrics-port (default 127.0.0.1)")
    .action(async (options: WorkerOptions, command: Command) => {
      const flagsGiven = ["model", "backend", "baseUrl", "apiKey"].some(
        (name) => command.getOptionValueSource(name) === "cli",
      );
      const handle = await startWorker(options, { flagsGiven });
      const stop = shutdownSignal();
      // A worker started before Redis waits for it; a signal still stops it meanwhile.
      if ((await Promise.race([handle.worker.ready().then(() => "ready"), stop])) === "ready") {
        process.stderr.write(`deliberate worker taking tasks from ${safeUrl(options.redis as string)}\n`);
        await stop;
      }
      await handle.close();
    });
}
