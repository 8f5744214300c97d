import { type Command, InvalidArgumentError } from "commander";
import { createApp } from "../../server/create-app.js";
import {
  apiKeysFromEnv,
  loadServerConfig,
  type ModelConfig,
  modelNameSchema,
  parseServerConfig,
  type ServerConfigFile,
} from "../../server/server-config.js";
import { type RunningServer, startServer } from "../../server/start-server.js";
import type { Backend } from "../../src/core/backend.js";
import { UsageError } from "../../src/core/errors.js";
import { addBackendOptions, type BackendFlags, backendKindOf, loadBackend } from "../backend-options.js";
import { parseInteger } from "../options.js";

export interface ServeOptions extends BackendFlags {
  port?: number;
  host?: string;
  config?: string;
}

export interface ServeHandle {
  readonly server: RunningServer;
  /** Served model names. */
  readonly models: string[];
  /** Stops the server, then releases the backends. Idempotent. */
  close(): Promise<void>;
}

export const DEFAULT_PORT = 8080;

const parsePort = (value: string): number => {
  const port = parseInteger("--port", { min: 0 })(value);
  if (port > 65_535) throw new InvalidArgumentError("--port must be at most 65535");
  return port;
};

/**
 * The models to serve: the config file's, or one from the backend flags, served as `default` (and under
 * its --model name when that is a valid model name). Both at once is a usage error.
 */
function modelSpecs(
  config: ServerConfigFile,
  flags: BackendFlags,
  flagsGiven: boolean,
): Record<string, ModelConfig> {
  if (config.models && Object.keys(config.models).length > 0) {
    if (flagsGiven) {
      throw new UsageError("give models in the --config file or with --model/--backend/--base-url, not both");
    }
    return config.models;
  }
  const spec: ModelConfig = {
    backend: backendKindOf(flags),
    ...(flags.model !== undefined && { model: flags.model }),
    ...(flags.baseUrl !== undefined && { baseUrl: flags.baseUrl }),
    ...(flags.apiKey !== undefined && { apiKey: flags.apiKey }),
  };
  const specs: Record<string, ModelConfig> = { default: spec };
  if (flags.model !== undefined && modelNameSchema.safeParse(flags.model).success) specs[flags.model] = spec;
  return specs;
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
  const { port: configPort, host: configHost, models: _models, ...settings } = config;
  const apiKeys = [...settings.apiKeys, ...apiKeysFromEnv((context.env ?? process.env).DELIBERATE_API_KEYS)];

  // One backend per distinct spec: the flag model's two names share one loaded model.
  const loaded = new Map<ModelConfig, Backend>();
  const models: Record<string, Backend> = {};
  const closeBackends = async () => {
    await Promise.allSettled([...loaded.values()].map((backend) => backend.close()));
  };
  try {
    for (const [name, spec] of Object.entries(specs)) {
      let backend = loaded.get(spec);
      if (!backend) {
        backend = await loadBackend({
          backend: spec.backend,
          ...(spec.model !== undefined && { model: spec.model }),
          ...(spec.baseUrl !== undefined && { baseUrl: spec.baseUrl }),
          ...(spec.apiKey !== undefined && { apiKey: spec.apiKey }),
        });
        loaded.set(spec, backend);
      }
      models[name] = backend;
    }
    const app = createApp({ ...settings, apiKeys, models });
    const server = await startServer({
      app,
      port: options.port ?? configPort ?? DEFAULT_PORT,
      host: options.host ?? configHost ?? "127.0.0.1",
    });
    let closing: Promise<void> | undefined;
    return {
      server,
      models: Object.keys(models),
      close() {
        closing ??= server.close().finally(closeBackends);
        return closing;
      },
    };
  } catch (error) {
    await closeBackends();
    throw error;
  }
}

/** Resolves on the first SIGINT or SIGTERM. */
function shutdownSignal(): Promise<string> {
  return new Promise((resolve) => {
    const stop = (signal: string) => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      resolve(signal);
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
}

export function registerServeCommand(program: Command): void {
  addBackendOptions(program.command("serve"))
    .description("serve strategies over an OpenAI-compatible HTTP API (/v1/chat/completions)")
    .option("-p, --port <n>", `port to listen on (default ${DEFAULT_PORT}; 0 = any free port)`, parsePort)
    .option("--host <host>", "address to listen on (default 127.0.0.1)")
    .option("-c, --config <file>", "JSON config: models, apiKeys, defaultStrategy, limits, tools")
    .action(async (options: ServeOptions, command: Command) => {
      const flagsGiven = ["model", "backend", "baseUrl", "apiKey"].some(
        (name) => command.getOptionValueSource(name) === "cli",
      );
      const handle = await startServe(options, { flagsGiven });
      process.stderr.write(`deliberate serve listening on ${handle.server.url}\n`);
      await shutdownSignal();
      await handle.close();
    });
}
