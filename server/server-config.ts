import { z } from "zod";
import { answerFormats } from "../src/answers/index.js";
import { BACKEND_KINDS } from "../src/backends/create-backend.js";
import { errorMessage, UsageError } from "../src/core/errors.js";
import { readJsonFile } from "../src/core/read-json-file.js";
import { strategyNames } from "../src/strategies/catalog.js";

const positiveInt = z.int().min(1);
// Timers cannot wait longer (about 24.8 days); Node would fire at once instead.
const timerMs = positiveInt.max(2_147_483_647);

const apiKeySchema = z.strictObject({
  key: z.string().min(1, "an API key must not be empty"),
  name: z.string().min(1),
  /** Chat completion requests per rolling minute. */
  rateLimitPerMinute: positiveInt.optional(),
  /** Prompt plus completion tokens this key may spend in the life of the server. */
  tokenBudget: positiveInt.optional(),
  /** Signs this key's task webhooks; default: derived from the key (see server/webhooks.ts). */
  webhookSecret: z.string().min(16, "a webhook secret must be at least 16 characters").optional(),
});
export type ApiKeyConfig = z.output<typeof apiKeySchema>;

/** Limits every request is held to, whatever it asks for. */
const budgetCapsSchema = z.strictObject({
  tokens: positiveInt.optional(),
  calls: positiveInt.optional(),
  deadlineMs: timerMs.optional(),
});
export type BudgetCaps = z.output<typeof budgetCapsSchema>;

const toolsConfigSchema = z.strictObject({
  /** The QuickJS sandbox: the `code` tool for react, and the pal / pal-sc strategies. */
  code: z.boolean().default(false),
  /** Network access for react, only to these hosts; `false` (default) means none. */
  webFetch: z
    .union([z.literal(false), z.strictObject({ allowHosts: z.array(z.string().min(1)).min(1) })], {
      error: "webFetch must be false or { allowHosts: [...] }",
    })
    .default(false),
});
export type ToolsConfig = z.output<typeof toolsConfigSchema>;

/**
 * The generation cache (SQLite, in the server's database): `true`/`false` or its limits. Only
 * deterministic calls (temperature 0 or a seed) are cached; `deliberate.cache: false` skips it.
 */
const cacheConfigSchema = z
  .union(
    [
      z.boolean(),
      z.strictObject({
        enabled: z.boolean().default(true),
        ttlMs: positiveInt.optional(),
        maxEntries: positiveInt.optional(),
        maxBytes: positiveInt.optional(),
      }),
    ],
    { error: "cache must be true, false or { enabled, ttlMs, maxEntries, maxBytes }" },
  )
  .transform((value) => (typeof value === "boolean" ? { enabled: value } : value));
export type CacheConfig = z.output<typeof cacheConfigSchema>;

const breakerSchema = z.union(
  [
    z.literal(false),
    z.strictObject({
      /** Consecutive failed attempts that open the circuit. */
      failureThreshold: positiveInt.default(5),
      /** How long the circuit stays open before one probe call may try again. */
      cooldownMs: timerMs.default(30_000),
    }),
  ],
  { error: "breaker must be false or { failureThreshold, cooldownMs }" },
);

/** How model calls are made dependable (see src/runtime/reliable-backend.ts). */
const reliabilitySchema = z.strictObject({
  /** Longest one attempt at a model call may take, stream included. */
  timeoutMs: timerMs.default(600_000),
  /** Attempts after the first for retryable failures (timeouts, 5xx, 429, dropped or malformed answers). */
  retries: z.int().min(0).max(10).default(2),
  /** Backoff with full jitter: retry k waits up to min(retryMaxDelayMs, retryBaseDelayMs · 2^k). */
  retryBaseDelayMs: z.int().min(0).default(250),
  retryMaxDelayMs: z.int().min(0).default(5_000),
  breaker: breakerSchema.default({ failureThreshold: 5, cooldownMs: 30_000 }),
});
export type ReliabilityConfig = z.output<typeof reliabilitySchema>;

/** A model's own reliability settings: any of the server-wide ones, each replacing it. */
const reliabilityOverrideSchema = z.strictObject({
  timeoutMs: timerMs.optional(),
  retries: z.int().min(0).max(10).optional(),
  retryBaseDelayMs: z.int().min(0).optional(),
  retryMaxDelayMs: z.int().min(0).optional(),
  breaker: breakerSchema.optional(),
});
export type ReliabilityOverride = z.input<typeof reliabilityOverrideSchema>;

/** A model's reliability: the server-wide settings with its own on top. */
export function reliabilityFor(
  base: ReliabilityConfig,
  override: ReliabilityOverride = {},
): ReliabilityConfig {
  const own = reliabilityOverrideSchema.parse(override);
  return {
    timeoutMs: own.timeoutMs ?? base.timeoutMs,
    retries: own.retries ?? base.retries,
    retryBaseDelayMs: own.retryBaseDelayMs ?? base.retryBaseDelayMs,
    retryMaxDelayMs: own.retryMaxDelayMs ?? base.retryMaxDelayMs,
    breaker: own.breaker ?? base.breaker,
  };
}

const tasksConfigSchema = z.strictObject({
  /** Tasks (POST /v1/tasks) running at once; more wait queued, in the database. */
  maxConcurrent: positiveInt.default(2),
  /**
   * Tasks waiting to start; beyond it POST /v1/tasks answers 503. Each queued task is work promised,
   * so an unbounded queue lets anyone who can submit pile up hours of it.
   */
  maxQueue: z.int().min(0).default(64),
});

/** Task webhooks (`webhook_url` on POST /v1/tasks). */
const webhooksConfigSchema = z.strictObject({
  /**
   * Hosts (names or IP addresses) a webhook may reach although they are loopback, private or
   * otherwise refused by the address policy, e.g. an internal receiver. Exact names only.
   */
  allowHosts: z.array(z.string().min(1)).default([]),
  /** Signs webhooks of tasks submitted without an API key (a server with no keys). */
  secret: z.string().min(16, "a webhook secret must be at least 16 characters").optional(),
  /** Tries per delivery, the first included; a 2xx answer ends them. */
  maxAttempts: positiveInt.max(20).default(5),
  /** Wait before the second try; doubled each time after, with jitter. */
  retryBaseDelayMs: positiveInt.max(600_000).default(1000),
  /** How long one try may take. */
  timeoutMs: timerMs.default(10_000),
});

/** Served model names are checked against the served models once they are known (`checkTiers`). */
const tiersSchema = z.strictObject({
  small: z.string().min(1).optional(),
  large: z.string().min(1).optional(),
});
export type TiersConfig = z.output<typeof tiersSchema>;

/** Every tier names a served model. */
export function checkTiers(tiers: TiersConfig, served: readonly string[]): void {
  for (const [tier, name] of Object.entries(tiers)) {
    if (name !== undefined && !served.includes(name)) {
      throw new UsageError(`tiers.${tier}: '${name}' is not a served model (have: ${served.join(", ")})`);
    }
  }
}

/** How the server behaves, apart from where it listens and which models it serves. */
const serverSettingsSchema = z.strictObject({
  /**
   * Strategy for a bare model name with no `deliberate.strategy`: auto, which spends more only on the
   * questions its router doubts.
   */
  defaultStrategy: z
    .string()
    .refine((name) => strategyNames().includes(name), { error: "not a known strategy" })
    .default("auto"),
  /**
   * Model tiers, by served model name (an embedded model or an OpenAI-compatible endpoint, as
   * `models` describes them): every run gets them as `ctx.backends.small` / `.large`, so `auto`
   * escalates to the large tier. A run on the large tier itself gets no large tier.
   */
  tiers: tiersSchema.default({}),
  /** Answer format for strategies that extract an answer (cot, sc, ...); `deliberate.format` overrides. */
  defaultFormat: z
    .string()
    .refine((name) => Object.hasOwn(answerFormats, name), { error: "not a known answer format" })
    .default("numeric"),
  apiKeys: z.array(apiKeySchema).default([]),
  bodyLimitBytes: positiveInt.default(1024 * 1024),
  /** Requests running strategies at once; more wait in the queue. */
  maxConcurrent: positiveInt.default(4),
  /** Requests waiting for a slot; beyond it the server answers 503. */
  maxQueue: z.int().min(0).default(64),
  /** Largest OpenAI `n` (choices) a request may ask for. */
  maxChoices: positiveInt.default(8),
  /** Largest strategy n (samples, candidates) a request may ask for. */
  maxStrategyN: positiveInt.default(64),
  /**
   * Model calls one request (a chat completion, all its choices together, or a task) may make. The
   * default matches maxStrategyN, so `sc-64` runs in full, while n choices share it instead of
   * multiplying it (`sc-64` with `n: 8` would be 512 calls).
   */
  maxCallsPerRequest: positiveInt.default(64),
  budget: budgetCapsSchema.default({}),
  /** Reuse deterministic model calls (greedy or seeded) across requests and restarts. */
  cache: cacheConfigSchema.default({ enabled: true }),
  tools: toolsConfigSchema.default({ code: false, webFetch: false }),
  /** SQLite file for traces, tasks and the cache; `:memory:` keeps them for the life of the server. */
  db: z.string().min(1).optional(),
  /** Store every chat completion's events in the trace store (`deliberate trace ID`). */
  trace: z.boolean().default(true),
  /**
   * How long chat-completion events wait to be written, so that under load many requests share one
   * SQLite commit; a trace is readable this long after its response at the latest. 0 writes each
   * event-loop turn.
   */
  traceFlushMs: z.int().min(0).max(1_000).default(20),
  tasks: tasksConfigSchema.default({ maxConcurrent: 2, maxQueue: 64 }),
  webhooks: webhooksConfigSchema.default({
    allowHosts: [],
    maxAttempts: 5,
    retryBaseDelayMs: 1000,
    timeoutMs: 10_000,
  }),
  reliability: reliabilitySchema.default({
    timeoutMs: 600_000,
    retries: 2,
    retryBaseDelayMs: 250,
    retryMaxDelayMs: 5_000,
    breaker: { failureThreshold: 5, cooldownMs: 30_000 },
  }),
});
export type ServerSettings = z.output<typeof serverSettingsSchema>;
export type ServerSettingsInput = z.input<typeof serverSettingsSchema>;

/** Served model names cannot hold "/": it separates the strategy prefix, as in `sc-8/default`. */
export const modelNameSchema = z.string().regex(/^[^/\s]+$/, "a model name must not contain / or spaces");

const modelConfigSchema = z.strictObject({
  backend: z
    .enum(BACKEND_KINDS, { error: `backend must be one of: ${BACKEND_KINDS.join(", ")}` })
    .default("llama"),
  /** llama: catalog name, alias or GGUF path; openai: the upstream model id. */
  model: z.string().min(1).optional(),
  baseUrl: z.url().optional(),
  apiKey: z.string().optional(),
  /** Served models to try in order when this one fails with an outage or its circuit is open. */
  fallback: z.array(modelNameSchema).optional(),
  reliability: reliabilityOverrideSchema.optional(),
});
export type ModelConfig = z.output<typeof modelConfigSchema>;

/** The `--config FILE` of `deliberate serve`. */
const serverConfigFileSchema = serverSettingsSchema.extend({
  port: z.int().min(0).max(65_535).optional(),
  host: z.string().min(1).optional(),
  models: z.record(modelNameSchema, modelConfigSchema).optional(),
});
export type ServerConfigFile = z.output<typeof serverConfigFileSchema>;

/** One line naming the first problem, e.g. `apiKeys.0.key: an API key must not be empty`. */
function describeZodError(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return "invalid";
  const path = issue.path.map(String).join(".");
  // A bad record key says only "Invalid key in record"; the reason is in the nested issue.
  const message = issue.code === "invalid_key" ? (issue.issues[0]?.message ?? issue.message) : issue.message;
  return path ? `${path}: ${message}` : message;
}

/** Validates settings for an app built in-process; a bad value is a UsageError. */
export function parseServerSettings(input: unknown): ServerSettings {
  const parsed = serverSettingsSchema.safeParse(input);
  if (!parsed.success) throw new UsageError(`server settings: ${describeZodError(parsed.error)}`);
  return parsed.data;
}

/** Validates a parsed config file; `source` names it in the error. */
export function parseServerConfig(input: unknown, source = "config"): ServerConfigFile {
  const parsed = serverConfigFileSchema.safeParse(input);
  if (!parsed.success) throw new UsageError(`${source}: ${describeZodError(parsed.error)}`);
  const models = parsed.data.models ?? {};
  for (const model of Object.values(models)) {
    if (model.backend === "openai" && model.baseUrl === undefined) {
      throw new UsageError(`${source}: a model with backend "openai" needs a baseUrl`);
    }
  }
  try {
    checkFallbacks(
      Object.fromEntries(Object.entries(models).map(([name, model]) => [name, model.fallback ?? []])),
    );
    // Without models here they come from flags, and serve checks the tiers against those.
    if (Object.keys(models).length > 0) checkTiers(parsed.data.tiers, Object.keys(models));
  } catch (error) {
    throw new UsageError(`${source}: ${errorMessage(error)}`);
  }
  return parsed.data;
}

/** Every fallback names another served model, once. Chains are not followed transitively. */
export function checkFallbacks(fallbacks: Readonly<Record<string, readonly string[]>>): void {
  for (const [name, chain] of Object.entries(fallbacks)) {
    for (const other of chain) {
      if (other === name) throw new UsageError(`models.${name}.fallback: a model cannot fall back to itself`);
      if (!Object.hasOwn(fallbacks, other)) {
        throw new UsageError(`models.${name}.fallback: '${other}' is not a served model`);
      }
    }
    if (new Set(chain).size !== chain.length) {
      throw new UsageError(`models.${name}.fallback: a model is named twice`);
    }
  }
}

/** Reads and validates `deliberate serve --config FILE`; every way it can be wrong is a UsageError. */
export async function loadServerConfig(path: string): Promise<ServerConfigFile> {
  return parseServerConfig(await readJsonFile(path, "config file"), path);
}

/** Keys from `DELIBERATE_API_KEYS` (comma-separated), named env-1, env-2, ... and without limits. */
export function apiKeysFromEnv(value: string | undefined): ApiKeyConfig[] {
  return (value ?? "")
    .split(",")
    .map((key) => key.trim())
    .filter(Boolean)
    .map((key, i) => ({ key, name: `env-${i + 1}` }));
}
