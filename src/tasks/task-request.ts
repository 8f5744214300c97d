import { answerFormats } from "../answers/index.js";
import type { GenerationParams } from "../core/backend.js";
import type { Budget } from "../core/budget.js";
import { UsageError } from "../core/errors.js";
import type { ChatMessage, ChatRole } from "../core/message.js";
import { strategyNames } from "../strategies/catalog.js";

/**
 * What a client asks a task manager to run. Plain JSON, so it is stored as submitted and can be run
 * again after a restart; it names a strategy instead of holding one.
 */
export interface TaskRequest {
  /** A strategy name from the catalogue, e.g. "cot", "sc". */
  strategy: string;
  /** Samples or candidates, for strategies that read it. */
  n?: number;
  messages: ChatMessage[];
  params?: GenerationParams;
  budget?: Budget;
  /** Model to run on; the caller's backend lookup decides what names mean. */
  model?: string;
  /** Answer format for strategies that extract an answer (numeric, choice, exact, json). */
  format?: string;
  /** false: neither read nor fill the generation cache for this task. */
  cache?: boolean;
  /** Who submitted it, as the transport names them (e.g. an API key's name); not read by the manager. */
  owner?: string;
  /** Where the transport POSTs the task once it ends (see the server's webhooks); not read by the manager. */
  webhookUrl?: string;
}

const ROLES: readonly ChatRole[] = ["system", "user", "assistant", "tool"];
const BUDGET_KEYS = ["maxTokens", "maxCalls", "deadlineMs", "maxCostUsd"] as const;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * Checks an untrusted request (e.g. a request body) and returns it typed, or throws a UsageError that
 * names the first problem. Unknown strategy names are refused here, before anything is queued.
 */
export function parseTaskRequest(value: unknown): TaskRequest {
  if (!isObject(value)) throw new UsageError("a task request must be a JSON object");
  const { strategy, n, messages, params, budget, model, format, cache, owner, webhookUrl } = value;
  if (typeof strategy !== "string" || !strategyNames().includes(strategy)) {
    throw new UsageError(`strategy must be one of: ${strategyNames().join(", ")}`);
  }
  if (n !== undefined && !(Number.isInteger(n) && (n as number) >= 1)) {
    throw new UsageError("n must be a whole number ≥ 1");
  }
  if (!Array.isArray(messages) || messages.length === 0) {
    throw new UsageError("messages must be a non-empty array");
  }
  messages.forEach((message, i) => {
    if (
      !isObject(message) ||
      !ROLES.includes(message.role as ChatRole) ||
      typeof message.content !== "string"
    ) {
      throw new UsageError(`messages[${i}] must be {role: ${ROLES.join("|")}, content: string}`);
    }
  });
  if (params !== undefined && !isObject(params)) throw new UsageError("params must be an object");
  if (budget !== undefined) {
    if (!isObject(budget)) throw new UsageError("budget must be an object");
    for (const key of BUDGET_KEYS) {
      const limit = budget[key];
      if (limit !== undefined && !(typeof limit === "number" && Number.isFinite(limit) && limit > 0)) {
        throw new UsageError(`budget.${key} must be a positive number`);
      }
    }
  }
  if (model !== undefined && typeof model !== "string") throw new UsageError("model must be a string");
  if (format !== undefined && !(typeof format === "string" && Object.hasOwn(answerFormats, format))) {
    throw new UsageError(`format must be one of: ${Object.keys(answerFormats).join(", ")}`);
  }
  if (cache !== undefined && typeof cache !== "boolean") throw new UsageError("cache must be a boolean");
  if (owner !== undefined && typeof owner !== "string") throw new UsageError("owner must be a string");
  if (webhookUrl !== undefined && typeof webhookUrl !== "string") {
    throw new UsageError("webhookUrl must be a string");
  }
  // Only known fields are kept: the request is stored and re-run as is.
  return {
    strategy,
    ...(n !== undefined && { n: n as number }),
    messages: messages as ChatMessage[],
    ...(params !== undefined && { params: params as GenerationParams }),
    ...(budget !== undefined && { budget: budget as Budget }),
    ...(model !== undefined && { model }),
    ...(format !== undefined && { format: format as string }),
    ...(cache !== undefined && { cache }),
    ...(owner !== undefined && { owner }),
    ...(webhookUrl !== undefined && { webhookUrl }),
  };
}
