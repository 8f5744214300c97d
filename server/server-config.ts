import { readFile } from "node:fs/promises";
import { z } from "zod";
import { answerFormats } from "../src/answers/index.js";
import { errorMessage, UsageError } from "../src/core/errors.js";
import { strategyNames } from "../src/strategies/registry.js";

const positiveInt = z.int().min(1);

export const apiKeySchema = z.strictObject({
  key: z.string().min(1, "an API key must not be empty"),
  name: z.string().min(1),
  /** Chat completion requests per rolling minute. */
  rateLimitPerMinute: positiveInt.optional(),
  /** Prompt plus completion tokens this key may spend in the life of the server. */
  tokenBudget: positiveInt.optional(),
});
export type ApiKeyConfig = z.output<typeof apiKeySchema>;

/** Limits every request is held to, whatever it asks for. */
export const budgetCapsSchema = z.strictObject({
  tokens: positiveInt.optional(),
  calls: positiveInt.optional(),
  // Timers cannot wait longer (about 24.8 days); Node would fire at once instead.
  deadlineMs: positiveInt.max(2_147_483_647).optional(),
});
export type BudgetCaps = z.output<typeof budgetCapsSchema>;

export const toolsConfigSchema = z.strictObject({
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

/** How the server behaves, apart from where it listens and which models it serves. */
export const serverSettingsSchema = z.strictObject({
  /** Strategy for a bare model name with no `deliberate.strategy`. */
  defaultStrategy: z
    .string()
    .refine((name) => strategyNames().includes(name), { error: "not a known strategy" })
    .default("direct"),
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
  budget: budgetCapsSchema.default({}),
  /** Reuse deterministic model calls (greedy or seeded) across requests, in memory. */
  cache: z.boolean().default(true),
  tools: toolsConfigSchema.default({ code: false, webFetch: false }),
});
export type ServerSettings = z.output<typeof serverSettingsSchema>;
export type ServerSettingsInput = z.input<typeof serverSettingsSchema>;

/** Served model names cannot hold "/": it separates the strategy prefix, as in `sc-8/default`. */
export const modelNameSchema = z.string().regex(/^[^/\s]+$/, "a model name must not contain / or spaces");

export const modelConfigSchema = z.strictObject({
  backend: z.enum(["llama", "openai"]).default("llama"),
  /** llama: catalog name, alias or GGUF path; openai: the upstream model id. */
  model: z.string().min(1).optional(),
  baseUrl: z.url().optional(),
  apiKey: z.string().optional(),
});
export type ModelConfig = z.output<typeof modelConfigSchema>;

/** The `--config FILE` of `deliberate serve`. */
export const serverConfigFileSchema = serverSettingsSchema.extend({
  port: z.int().min(0).max(65_535).optional(),
  host: z.string().min(1).optional(),
  models: z.record(modelNameSchema, modelConfigSchema).optional(),
});
export type ServerConfigFile = z.output<typeof serverConfigFileSchema>;

/** One line naming the first problem, e.g. `apiKeys.0.key: an API key must not be empty`. */
export function describeZodError(error: z.ZodError): string {
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
  for (const model of Object.values(parsed.data.models ?? {})) {
    if (model.backend === "openai" && model.baseUrl === undefined) {
      throw new UsageError(`${source}: a model with backend "openai" needs a baseUrl`);
    }
  }
  return parsed.data;
}

/** Reads and validates `deliberate serve --config FILE`; every way it can be wrong is a UsageError. */
export async function loadServerConfig(path: string): Promise<ServerConfigFile> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    throw new UsageError(`config file not found: ${path}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`config file ${path} is not valid JSON: ${errorMessage(error)}`);
  }
  return parseServerConfig(json, path);
}

/** Keys from `DELIBERATE_API_KEYS` (comma-separated), named env-1, env-2, ... and without limits. */
export function apiKeysFromEnv(value: string | undefined): ApiKeyConfig[] {
  return (value ?? "")
    .split(",")
    .map((key) => key.trim())
    .filter(Boolean)
    .map((key, i) => ({ key, name: `env-${i + 1}` }));
}
