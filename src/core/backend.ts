import type { ChatMessage, ToolCall } from "./message.js";
import type { Usage } from "./usage.js";

/** A JSON Schema object (draft 2020-12 subset; backends translate what they can). */
export type JsonSchema = Record<string, unknown>;

/** A function the model may call (native function calling), in the shape OpenAI's `tools` use. */
export interface ToolSpec {
  name: string;
  description: string;
  /** JSON Schema of the arguments object. */
  parameters: JsonSchema;
}

/**
 * Whether the model may call tools: "auto" it decides, "none" it answers in text, "required" it must
 * call one, `{name}` it must call that one. Backends that cannot force a call treat the last two as
 * "auto" restricted to the named tool.
 */
export type ToolChoice = "auto" | "none" | "required" | { name: string };

/** Sampling and decoding parameters shared by every backend. */
export interface GenerationParams {
  /** Number of independent completions. Backends batch these where they can. */
  n?: number;
  temperature?: number;
  topP?: number;
  topK?: number;
  /** Base seed; completion i uses seed + i so samples differ yet reproduce. */
  seed?: number;
  maxTokens?: number;
  /** Generation stops before any of these strings; the stop string is not included. */
  stop?: string[];
  /**
   * Generation stops as soon as the text matches this regular expression (JavaScript syntax,
   * case-insensitive), keeping the text through the match: e.g. once a complete answer line is
   * written, so a model does not spend tokens talking on after it.
   */
  stopAfter?: string;
  /** Constrain the output to JSON matching this schema. */
  jsonSchema?: JsonSchema;
  /** Constrain the output to this GBNF grammar (llama.cpp dialect). */
  grammar?: string;
  /** Ask for per-token confidence where the backend can give it. */
  confidence?: boolean;
  /** Tools the model may call natively; calls come back as `Completion.toolCalls`, never run. */
  tools?: ToolSpec[];
  /** Default "auto". Ignored without `tools`. */
  toolChoice?: ToolChoice;
}

export interface GenerateRequest extends GenerationParams {
  /** Chat messages, rendered with the model's chat template. Exactly one of messages / prompt. */
  messages?: ChatMessage[];
  /** A raw prompt, continued as-is without a chat template. */
  prompt?: string;
  signal?: AbortSignal;
  /** Called with text as it is generated, per completion index. */
  onDelta?: (delta: CompletionDelta) => void;
  /** Called when a reliability layer retries this call or hands it to a fallback model. */
  onIncident?: (incident: BackendIncident) => void;
  /** Called when a reliability layer's backend has answered this call: which one it was. */
  onServed?: (served: ServedBy) => void;
}

/** Which backend of a reliability layer answered a call. */
export interface ServedBy {
  /** The name the backend is served under (a server's model name). */
  backend: string;
  /** Not the first backend of its fallback chain: a stand-in answered. */
  fallback: boolean;
}

/** Something a reliability layer did on a call's behalf before it was answered (or failed for good). */
export type BackendIncident =
  /** An attempt failed and is tried again after `delayMs`. */
  | { type: "retry"; backend: string; attempt: number; delayMs: number; code: string; message: string }
  /** `from` failed for good (or its circuit is open); `to` takes the call. */
  | { type: "fallback"; from: string; to: string; code: string; message: string };

export interface CompletionDelta {
  index: number;
  text: string;
}

/** Why a completion ended. An aborted request rejects with AbortedError instead of finishing. */
export type FinishReason = "stop" | "length" | "tool_calls";

export interface Completion {
  index: number;
  text: string;
  finishReason: FinishReason;
  promptTokens: number;
  completionTokens: number;
  /** Probability the model gave each generated token, when the backend exposes it. */
  tokenConfidences?: number[];
  /** Calls the model made (finish reason "tool_calls"); `text` is whatever it said besides. */
  toolCalls?: ToolCall[];
}

export interface GenerateResult {
  completions: Completion[];
  usage: Usage;
  /** The model that actually answered. */
  model: string;
}

export interface BackendCapabilities {
  /** Per-token confidences are returned when asked for. */
  confidence: boolean;
  /** `jsonSchema` is enforced during decoding (otherwise it is only a hint). */
  jsonSchema: boolean;
  /** `grammar` (GBNF) is enforced during decoding. */
  grammar: boolean;
  /** Raw `prompt` generation without a chat template is supported. */
  rawPrompt: boolean;
  /** `tools` go to the model's native function calling (otherwise strategies use a text protocol). */
  tools: boolean;
}

/**
 * Something that turns messages into completions. Implementations: the embedded llama.cpp model,
 * any OpenAI-compatible endpoint, and a scripted double for tests. All pass one conformance suite.
 */
export interface Backend {
  /** Backend kind, e.g. "llama", "openai", "scripted". */
  readonly kind: string;
  /** Model identifier this backend generates with. */
  readonly model: string;
  readonly capabilities: BackendCapabilities;
  generate(request: GenerateRequest): Promise<GenerateResult>;
  /**
   * Builds (and keeps) the decoding constraint a request with this schema or grammar would use,
   * without generating; throws UsageError when it cannot be built. Only backends that build
   * constraints themselves (llama.cpp grammars) have it.
   */
  prepareConstraint?(constraint: Pick<GenerateRequest, "jsonSchema" | "grammar">): Promise<void>;
  /** Releases model memory, sockets and workers. Safe to call twice. */
  close(): Promise<void>;
}
