import type { Command } from "commander";
import { BACKEND_KINDS, type BackendKind, createBackend } from "../src/backends/create-backend.js";
import type { Backend } from "../src/core/backend.js";
import { UsageError } from "../src/core/errors.js";
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

/** Opens the backend the flags name, showing a progress bar on stderr if the model must be fetched first. */
export async function loadBackend(flags: BackendFlags): Promise<Backend> {
  const kind = backendKindOf(flags);
  if (flags.nativeTools === false && kind !== "openai") {
    throw new UsageError("--no-native-tools works with --backend openai");
  }
  const progress = createFetchProgressBar(process.stderr);
  const apiKey = flags.apiKey ?? process.env.OPENAI_API_KEY;
  return createBackend({
    kind,
    ...(flags.model !== undefined && { model: flags.model }),
    ...(flags.baseUrl !== undefined && { baseUrl: flags.baseUrl }),
    ...(apiKey !== undefined && { apiKey }),
    ...(flags.nativeTools === false && { nativeTools: false }),
    onFetchProgress: progress.update,
  }).finally(() => progress.stop());
}

/** The backend kind the flags ask for; a clear usage error for anything else. */
export function backendKindOf(flags: BackendFlags): BackendKind {
  const kind = flags.backend ?? "llama";
  if (!(BACKEND_KINDS as readonly string[]).includes(kind)) {
    throw new UsageError(`--backend must be one of: ${BACKEND_KINDS.join(", ")}`);
  }
  return kind as BackendKind;
}
