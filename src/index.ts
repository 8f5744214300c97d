/**
 * Deliberate: an inference-time scaling engine. Backends turn messages into completions; strategies
 * spend a budget of calls and tokens on them; the runtime meters, caches and streams every step.
 */

export * from "./answers/index.js";
export { type BackendConfig, type BackendKind, createBackend } from "./backends/create-backend.js";
export {
  createLlamaBackend,
  LlamaBackend,
  type LlamaBackendOptions,
} from "./backends/llama/llama-backend.js";
export { createOpenAIBackend, type OpenAIBackendOptions } from "./backends/openai/openai-backend.js";
export { recordBackend } from "./backends/replay/record-backend.js";
export { type RecordedCall, readRecording } from "./backends/replay/recording.js";
export { createReplayBackend, type ReplayBackendOptions } from "./backends/replay/replay-backend.js";
export * from "./core/index.js";
export * from "./models/index.js";
export {
  CircuitBreaker,
  type CircuitBreakerOptions,
  CircuitOpenError,
  type CircuitPermit,
  type CircuitState,
} from "./runtime/circuit-breaker.js";
export { EventBus, type EventListener } from "./runtime/event-bus.js";
export { createFallbackBackend } from "./runtime/fallback-backend.js";
export { MemoryGenerationCache } from "./runtime/memory-cache.js";
export { noAnswerOf } from "./runtime/no-answer.js";
export {
  createReliableBackend,
  DEFAULT_BREAKER,
  type NamedBackend,
  type ReliabilityOptions,
  type ReliableBackend,
} from "./runtime/reliable-backend.js";
export { type RetryOptions, withRetry } from "./runtime/retry.js";
export { newTaskId, type RunOptions, runStrategy, type TaskResult } from "./runtime/task-context.js";
export * from "./search/index.js";
export * from "./store/index.js";
export * from "./strategies/index.js";
export { type MctsOptions, type MctsResult, mcts } from "./strategies/mcts.js";
export {
  type TreeOfThoughtsOptions,
  type TreeOfThoughtsResult,
  treeOfThoughts,
} from "./strategies/tree-of-thoughts.js";
export * from "./structured/index.js";
export * from "./tasks/index.js";
export * from "./tools/index.js";
export * from "./verifiers/index.js";
