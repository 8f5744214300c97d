import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import type { Backend } from "../src/core/backend.js";
import type { GenerationCache } from "../src/core/cache.js";
import { UsageError } from "../src/core/errors.js";
import { MemoryGenerationCache } from "../src/runtime/memory-cache.js";
import { strategyNames } from "../src/strategies/registry.js";
import { ApiKeyStore, type KeyAccount } from "./api-key-store.js";
import { type CompletionDeps, handleChatCompletion } from "./chat-completions.js";
import { ConcurrencyGate } from "./concurrency-gate.js";
import { listModelIds, parseModelName } from "./model-name.js";
import { ApiError, toApiError } from "./openai-errors.js";
import { modelNameSchema, parseServerSettings, type ServerSettingsInput } from "./server-config.js";
import { ServerTools } from "./server-tools.js";

/** Everything an app is built from. Settings are validated and defaulted as in a config file. */
export interface AppConfig extends ServerSettingsInput {
  /** The models served, by the name clients use (no "/"). */
  models: Record<string, Backend>;
  /** Model-call cache; default an in-memory one per app when `cache` is on. */
  generationCache?: GenerationCache;
  /** Clock for rate limits; replaceable in tests. */
  now?: () => number;
}

type AppEnv = { Variables: { account: KeyAccount | undefined } };

const methodNotAllowed = (allow: string) => (c: { req: { method: string; path: string } }) =>
  new ApiError(405, "method_not_allowed", `method ${c.req.method} is not allowed on ${c.req.path}`, {
    headers: { allow },
  }).toResponse();

/**
 * The OpenAI-compatible HTTP API as a Hono app. All state (keys and their counters, the concurrency
 * gate, the cache) belongs to this app instance, so two apps in one process never share anything.
 * Every answer other than a success is an OpenAI-style `{error: {message, type, code, param}}`.
 */
export function createApp(config: AppConfig): Hono<AppEnv> {
  const { models, generationCache, now, ...rest } = config;
  const settings = parseServerSettings(rest);
  const names = Object.keys(models);
  if (names.length === 0) throw new UsageError("the server needs at least one model");
  for (const name of names) {
    const checked = modelNameSchema.safeParse(name);
    if (!checked.success) throw new UsageError(`model name "${name}": ${checked.error.issues[0]?.message}`);
  }
  const tools = new ServerTools(settings.tools);
  const deps: CompletionDeps = {
    settings,
    backends: models,
    tools,
    keys: new ApiKeyStore(settings.apiKeys, now),
    gate: new ConcurrencyGate(settings.maxConcurrent, settings.maxQueue),
    cache: settings.cache ? (generationCache ?? new MemoryGenerationCache()) : undefined,
  };
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

  app.get("/health", (c) => c.json({ status: "ok" }));
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

  return app;
}
