import { basename } from "node:path";
import type { Command } from "commander";
import {
  BACKEND_KINDS,
  type BackendConfig,
  type BackendKind,
  createBackend,
} from "../src/backends/create-backend.js";
import { LlamaBackend } from "../src/backends/llama/llama-backend.js";
import type { Backend } from "../src/core/backend.js";
import { UsageError } from "../src/core/errors.js";
import { findModel } from "../src/models/catalog.js";
import { createLoadingStatus } from "./loading-status.js";
import { createFetchProgressBar } from "./progress-bar.js";

/** The flags every command that talks to a model shares. */
export interface BackendFlags {
  model?: string;
  backend?: string;
  baseUrl?: string;
  apiKey?: string;
  /** false: the openai server has no native function calling (ask's --no-native-tools). */
  nativeTools?: boolean;
}

export function addBackendOptions(command: Command): Command {
  return command
    .option("-m, --model <name|path>", "catalog model name, alias or GGUF path (llama); model id (openai)")
    .option("-b, --backend <kind>", `llama (embedded) or openai (any compatible endpoint)`, "llama")
    .option("--base-url <url>", "OpenAI-compatible endpoint, e.g. http://localhost:8000/v1")
    .option("--api-key <key>", "API key for --base-url (default: $OPENAI_API_KEY)");
}

/** The name a person knows the model by: the catalog name for a name or alias, else the file's name. */
const modelLabel = (nameOrPath: string): string =>
  findModel(nameOrPath)?.name ?? basename(nameOrPath).replace(/\.gguf$/i, "");

/**
 * Opens the backend the flags name, showing a progress bar on stderr if the model must be fetched first.
 * `loadModel` also loads an embedded model now rather than on the first call. Meanwhile a terminal
 * shows a labelled spinner ("loading qwen2.5-coder-0.5b-instruct…"), so the wait is never silent.
 * `retries` and `timeoutMs` are the backend's own (see BackendConfig).
 */
export async function loadBackend(
  flags: BackendFlags,
  options: { loadModel?: boolean } & Pick<BackendConfig, "retries" | "timeoutMs"> = {},
): Promise<Backend> {
  const kind = backendKindOf(flags);
  if (flags.nativeTools === false && kind !== "openai") {
    throw new UsageError("--no-native-tools works with --backend openai");
  }
  const status = createLoadingStatus(process.stderr);
  const progress = createFetchProgressBar(process.stderr);
  const apiKey = flags.apiKey ?? process.env.OPENAI_API_KEY;
  try {
    if (kind === "llama") status.show(`loading ${modelLabel(flags.model ?? "default")}…`);
    const backend = await createBackend({
      kind,
      ...(flags.model !== undefined && { model: flags.model }),
      ...(flags.baseUrl !== undefined && { baseUrl: flags.baseUrl }),
      ...(apiKey !== undefined && { apiKey }),
      ...(flags.nativeTools === false && { nativeTools: false }),
      ...(options.retries !== undefined && { retries: options.retries }),
      ...(options.timeoutMs !== undefined && { timeoutMs: options.timeoutMs }),
      onFetchProgress: (fetched) => {
        // A download has its own progress bar; two live lines would garble each other.
        status.stop();
        progress.update(fetched);
      },
    }).finally(() => progress.stop());
    if (options.loadModel && backend instanceof LlamaBackend) {
      status.show(`loading ${backend.model}…`);
      await backend.load().catch(async (error: unknown) => {
        await backend.close();
        throw error;
      });
    }
    return backend;
  } finally {
    status.stop();
  }
}

/** The backend kind the flags ask for; a clear usage error for anything else. */
export function backendKindOf(flags: BackendFlags): BackendKind {
  const kind = flags.backend ?? "llama";
  if (!(BACKEND_KINDS as readonly string[]).includes(kind)) {
    throw new UsageError(`--backend must be one of: ${BACKEND_KINDS.join(", ")}`);
  }
  return kind as BackendKind;
}
