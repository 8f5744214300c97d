import type { Backend } from "../core/backend.js";
import { UsageError } from "../core/errors.js";
import type { Pricing } from "../core/usage.js";
import type { FetchProgress } from "../models/model-spec.js";
import { resolveModel } from "../models/model-store.js";
import { createLlamaBackend } from "./llama/llama-backend.js";
import { createOpenAIBackend } from "./openai/openai-backend.js";

/** The backends `createBackend` builds from configuration: the CLI's --backend and the server config's. */
export const BACKEND_KINDS = ["llama", "openai"] as const;
export type BackendKind = (typeof BACKEND_KINDS)[number];

export interface BackendConfig {
  kind?: BackendKind;
  /** llama: a catalog name, alias (`default`, `test`) or GGUF path. openai: the server's model id. */
  model?: string;
  /** openai: endpoint base URL, e.g. http://localhost:8000/v1. */
  baseUrl?: string;
  apiKey?: string;
  /**
   * openai: whether the server does native function calling (default true). False for servers
   * without it, so tool-using strategies use a text protocol; not settable for llama, which has it.
   */
  nativeTools?: boolean;
  /**
   * openai: longest one HTTP request may take, stream included (default 120 s). A reliability layer
   * above (`createReliableBackend`) bounds llama calls.
   */
  timeoutMs?: number;
  /**
   * openai: retries per HTTP request on 408/429/5xx, timeouts, dropped connections and malformed
   * bodies (default 3). 0 when a reliability layer above does the retrying, so it sees every failure.
   */
  retries?: number;
  pricing?: Pricing;
  /** llama: tokens per sequence. */
  contextSize?: number;
  /** llama: sequences decoded together. */
  parallelSequences?: number;
  /** Reports model download progress on first use. */
  onFetchProgress?: (progress: FetchProgress) => void;
  signal?: AbortSignal;
}

/** Builds a backend from plain configuration, fetching the model first when it is not cached. */
export async function createBackend(config: BackendConfig = {}): Promise<Backend> {
  const kind = config.kind ?? "llama";
  if (kind === "openai") {
    if (!config.baseUrl) throw new UsageError("the openai backend needs a base URL (--base-url)");
    return createOpenAIBackend({
      baseUrl: config.baseUrl,
      model: config.model ?? "default",
      ...(config.apiKey !== undefined && { apiKey: config.apiKey }),
      ...(config.pricing !== undefined && { pricing: config.pricing }),
      ...(config.nativeTools !== undefined && { tools: config.nativeTools }),
      ...(config.timeoutMs !== undefined && { timeoutMs: config.timeoutMs }),
      ...(config.retries !== undefined && { maxRetries: config.retries }),
    });
  }
  if (kind !== "llama") throw new UsageError(`unknown backend "${kind}" (use ${BACKEND_KINDS.join(" or ")})`);
  // The embedded backend always has native tools; a strategy option (react's protocol) picks text instead.
  if (config.nativeTools === false)
    throw new UsageError("turning native tools off is for the openai backend");
  const resolved = await resolveModel(config.model ?? "default", {
    ...(config.onFetchProgress && { onProgress: config.onFetchProgress }),
    ...(config.signal && { signal: config.signal }),
  });
  return createLlamaBackend({
    modelPath: resolved.path,
    ...(resolved.spec && { modelName: resolved.spec.name }),
    ...(config.contextSize !== undefined && { contextSize: config.contextSize }),
    ...(config.parallelSequences !== undefined && { parallelSequences: config.parallelSequences }),
  });
}
