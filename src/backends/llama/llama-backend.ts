import { basename } from "node:path";
import {
  type ChatHistoryItem,
  type ChatModelFunctionCall,
  type ChatModelFunctions,
  type ChatWrapper,
  type GbnfJsonSchema,
  type Llama,
  LlamaChat,
  type LlamaContext,
  type LlamaContextSequence,
  type LlamaGrammar,
  LlamaGrammarEvaluationState,
  type LlamaModel,
  LlamaText,
  resolveChatWrapper,
  type Token,
} from "node-llama-cpp";
import type {
  Backend,
  BackendCapabilities,
  Completion,
  GenerateRequest,
  GenerateResult,
  JsonSchema,
  ToolSpec,
} from "../../core/backend.js";
import { AbortedError, BackendError, errorMessage, UsageError } from "../../core/errors.js";
import type { ChatMessage, ToolCall } from "../../core/message.js";
import { compileStopAfter, stopAfterIndex } from "../../core/stop-after.js";
import { LruMap } from "../../runtime/lru-map.js";
import { translateSchema, withPatternRules } from "../../structured/grammar-translation.js";
import { generateWithTextToolCalls } from "../text-tool-call-recovery.js";
import { loadLlama, loadModel } from "./llama-runtime.js";
import { SequencePool } from "./sequence-pool.js";

export interface LlamaBackendOptions {
  /** Path of the GGUF file. */
  modelPath: string;
  /** Name reported as `model`; defaults to the file name. */
  modelName?: string;
  /** Tokens each sequence can hold (prompt + completion). */
  contextSize?: number;
  /** Sequences generated in parallel in one batch; `n` beyond this waits for a free one. */
  parallelSequences?: number;
  /** CPU threads; defaults to the machine's cores. */
  maxThreads?: number;
  /** Temperature when a request gives none. */
  defaultTemperature?: number;
}

const UNFINISHED_UTF8 = "\uFFFD";
/** What node-llama-cpp's JSON-schema grammars put after the JSON value (never inside it). */
const JSON_GRAMMAR_END = "\n\n\n\n";

/**
 * The embedded backend: a GGUF model run in-process by llama.cpp. `n` completions run as parallel
 * sequences of one context, so their tokens are decoded together in shared batches.
 */
export class LlamaBackend implements Backend {
  readonly kind = "llama";
  readonly model: string;
  readonly capabilities: BackendCapabilities = {
    confidence: true,
    jsonSchema: true,
    grammar: true,
    rawPrompt: true,
    tools: true,
  };
  private readonly options: Required<Omit<LlamaBackendOptions, "modelName" | "maxThreads">> &
    Pick<LlamaBackendOptions, "maxThreads">;
  private state:
    | Promise<{ model: LlamaModel; context: LlamaContext; pool: SequencePool; chat: ChatWrapper }>
    | undefined;
  // Bounded: a server sees a new schema per client request shape, and each grammar holds native memory.
  private readonly grammars = new LruMap<string, Promise<LlamaGrammar>>(64);
  private closed = false;

  constructor(options: LlamaBackendOptions) {
    this.model = options.modelName ?? basename(options.modelPath).replace(/\.gguf$/i, "");
    this.options = {
      contextSize: 4096,
      parallelSequences: 8,
      defaultTemperature: 0.7,
      ...options,
    };
  }

  /** Loads the model and allocates the context; generate() does this on first use. */
  load() {
    if (this.closed) throw new UsageError("backend is closed");
    this.state ??= (async () => {
      const model = await loadModel(this.options.modelPath, this.options.maxThreads);
      const context = await model.createContext({
        sequences: this.options.parallelSequences,
        contextSize: Math.min(this.options.contextSize, model.trainContextSize),
        threads: this.options.maxThreads ?? (await loadLlama()).maxThreads,
      });
      return { model, context, pool: new SequencePool(context), chat: resolveChatWrapper(model) };
    })();
    this.state.catch(() => {
      this.state = undefined;
    });
    return this.state;
  }

  generate(request: GenerateRequest): Promise<GenerateResult> {
    // Small models (Qwen2.5-Coder-0.5B among them) often write a call as JSON text instead of in the
    // chat template's call syntax; those come back as calls too.
    return generateWithTextToolCalls(request, (inner) => this.generateOnce(inner));
  }

  private async generateOnce(request: GenerateRequest): Promise<GenerateResult> {
    const started = Date.now();
    if ((request.messages === undefined) === (request.prompt === undefined)) {
      throw new UsageError("give exactly one of messages or prompt");
    }
    if (request.signal?.aborted) throw new AbortedError();
    const hasTools = request.tools !== undefined && request.tools.length > 0;
    if (hasTools && request.prompt !== undefined) {
      throw new UsageError("tools need chat messages, not a raw prompt");
    }
    const native = hasTools && request.toolChoice !== "none";
    if (native && (request.grammar !== undefined || request.jsonSchema !== undefined)) {
      // node-llama-cpp constrains function calls with its own grammar and cannot combine it with another.
      throw new UsageError("tools cannot be combined with grammar or jsonSchema on the llama backend");
    }
    const functions = native ? chatFunctions(request.tools ?? [], request.toolChoice) : undefined;
    // node-llama-cpp's function calling lets the model answer in text; a forced call is instead decoded
    // under a grammar that admits exactly one call to an allowed tool.
    const forced =
      native && (request.toolChoice === "required" || typeof request.toolChoice === "object")
        ? forcedCallSchema(request.tools ?? [], request.toolChoice)
        : undefined;
    const state = await this.load();
    const { model, context, pool } = state;
    const history = request.messages !== undefined ? chatHistory(request.messages) : undefined;
    const promptTokens =
      history === undefined
        ? model.tokenize(request.prompt ?? "", false)
        : state.chat
            .generateContextState({
              chatHistory: history,
              ...(functions && { availableFunctions: functions, documentFunctionParams: true }),
            })
            .contextText.tokenize(model.tokenizer);
    const room = context.contextSize - promptTokens.length;
    if (room <= 0) {
      throw new UsageError(
        `prompt is ${promptTokens.length} tokens; the context holds ${context.contextSize}`,
      );
    }
    const maxTokens = Math.min(request.maxTokens ?? room, room);
    const grammar = forced
      ? await this.grammarFor({ jsonSchema: forced })
      : native
        ? undefined
        : await this.grammarFor(request);
    // Compiled once per call, before any sequence is taken, so a bad pattern costs nothing.
    const stopAfter = compileStopAfter(request.stopAfter);
    const n = request.n ?? 1;
    // Without a fixed seed each sample still needs its own, or parallel samples would coincide.
    const baseSeed = request.seed ?? Math.floor(Math.random() * 2 ** 31);

    const completions = await Promise.all(
      Array.from({ length: n }, async (_, index) => {
        const sequence = await pool.acquire(promptTokens, request.signal);
        const job = { request, index, maxTokens, seed: baseSeed + index, grammar, stopAfter };
        try {
          if (forced) {
            const call = { ...job, request: forcedRequest(request, forced), stopAfter: undefined };
            const completion = await this.complete(model, sequence, promptTokens, call);
            return asForcedCall(completion, `call_${request.messages?.length ?? 0}_${index}_0`);
          }
          if (functions && history) {
            return await this.completeWithFunctions(model, sequence, state.chat, history, functions, {
              ...job,
              promptTokens: promptTokens.length,
              // Unique within a conversation (each turn adds messages) and reproducible, so cached
              // and recorded follow-up requests match.
              callIdPrefix: `call_${request.messages?.length ?? 0}_${index}`,
            });
          }
          return await this.complete(model, sequence, promptTokens, job);
        } finally {
          pool.release(sequence);
        }
      }),
    );
    return {
      completions,
      model: this.model,
      usage: {
        promptTokens: promptTokens.length,
        completionTokens: completions.reduce((sum, c) => sum + c.completionTokens, 0),
        calls: 1,
        wallMs: Date.now() - started,
        costUsd: 0,
      },
    };
  }

  async prepareConstraint(constraint: Pick<GenerateRequest, "jsonSchema" | "grammar">): Promise<void> {
    await this.grammarFor(constraint);
  }

  private grammarFor(
    request: Pick<GenerateRequest, "jsonSchema" | "grammar">,
  ): Promise<LlamaGrammar> | undefined {
    if (request.grammar === undefined && request.jsonSchema === undefined) return undefined;
    const key =
      request.grammar !== undefined
        ? `gbnf:${request.grammar}`
        : `json:${JSON.stringify(request.jsonSchema)}`;
    let grammar = this.grammars.get(key);
    if (!grammar) {
      grammar = loadLlama().then(async (llama) => {
        try {
          if (request.grammar !== undefined) return await llama.createGrammar({ grammar: request.grammar });
          // The grammar enforces what it can of the schema; callers validate the rest (see src/structured).
          return await jsonSchemaGrammar(llama, request.jsonSchema as JsonSchema);
        } catch (error) {
          throw new UsageError(`cannot build a grammar for this constraint: ${errorMessage(error)}`);
        }
      });
      grammar.catch(() => this.grammars.delete(key));
      this.grammars.set(key, grammar);
    }
    return grammar;
  }

  private async complete(
    model: LlamaModel,
    sequence: LlamaContextSequence,
    promptTokens: Token[],
    job: {
      request: GenerateRequest;
      index: number;
      maxTokens: number;
      seed: number;
      grammar: LlamaGrammar | undefined;
      stopAfter: RegExp | undefined;
    },
  ): Promise<Completion> {
    const { request, index, maxTokens } = job;
    const pending = await reusePrefix(sequence, promptTokens);
    const { grammar } = job;
    const temperature = request.temperature ?? this.options.defaultTemperature;
    const wantConfidence = request.confidence === true;
    const stops = [
      ...(request.stop ?? []).filter((s) => s.length > 0),
      // node-llama-cpp's JSON grammars end in "\n\n\n\n" then allow newlines forever; the JSON is done there.
      ...(request.jsonSchema !== undefined && request.grammar === undefined ? [JSON_GRAMMAR_END] : []),
    ];
    // Hold back enough text that a stop string split across tokens is never streamed.
    const holdBack = Math.max(0, ...stops.map((s) => s.length - 1));

    const generated: Token[] = [];
    const confidences: number[] = [];
    let text = "";
    let streamed = 0;
    let finishReason: Completion["finishReason"] = "stop";
    const stream = (upTo: number) => {
      if (upTo > streamed) {
        request.onDelta?.({ index, text: text.slice(streamed, upTo) });
        streamed = upTo;
      }
    };

    const iterator = sequence.evaluateWithMetadata(
      pending,
      { confidence: wantConfidence },
      {
        temperature,
        seed: job.seed,
        ...(request.topK !== undefined && { topK: request.topK }),
        ...(request.topP !== undefined && { topP: request.topP }),
        ...(grammar && { grammarEvaluationState: new LlamaGrammarEvaluationState({ model, grammar }) }),
      },
    );
    try {
      for await (const output of iterator) {
        if (request.signal?.aborted) throw new AbortedError();
        generated.push(output.token);
        if (wantConfidence) confidences.push((output as { confidence?: number }).confidence ?? 0);
        text = model.detokenize(generated);
        const stopAt = firstStopIndex(text, stops, Math.max(0, streamed - holdBack));
        if (stopAt !== undefined) {
          text = text.slice(0, stopAt);
          break;
        }
        const endAt = stopAfterIndex(text, job.stopAfter);
        if (endAt !== undefined) {
          text = text.slice(0, endAt);
          break;
        }
        if (generated.length >= maxTokens) {
          finishReason = "length";
          break;
        }
        // A multi-byte character split across tokens decodes as U+FFFD until its last byte arrives.
        if (!text.endsWith(UNFINISHED_UTF8)) stream(text.length - holdBack);
      }
    } catch (error) {
      if (error instanceof AbortedError) throw error;
      if (request.signal?.aborted) throw new AbortedError();
      throw new BackendError("internal", `llama.cpp generation failed: ${errorMessage(error)}`, {
        cause: error,
      });
    }
    if (request.signal?.aborted) throw new AbortedError();
    if (text.endsWith(UNFINISHED_UTF8)) text = text.slice(0, -1);
    stream(text.length);
    return {
      index,
      text,
      finishReason,
      promptTokens: promptTokens.length,
      completionTokens: generated.length,
      ...(wantConfidence && { tokenConfidences: confidences }),
    };
  }

  /**
   * Generates with node-llama-cpp's native function calling: the chat wrapper documents the functions
   * in the prompt and a grammar keeps each call's parameters valid. LlamaChat (unlike
   * LlamaChatSession) stops at the calls and returns them unexecuted; the strategy runs them, so
   * tool events and sandboxing stay in one place. No per-token confidences on this path.
   */
  private async completeWithFunctions(
    model: LlamaModel,
    sequence: LlamaContextSequence,
    chatWrapper: ChatWrapper,
    history: ChatHistoryItem[],
    functions: ChatModelFunctions,
    job: {
      request: GenerateRequest;
      index: number;
      maxTokens: number;
      seed: number;
      stopAfter: RegExp | undefined;
      promptTokens: number;
      callIdPrefix: string;
    },
  ): Promise<Completion> {
    const { request, index } = job;
    // LlamaChat reuses whatever prefix the sequence holds, and evaluating a prompt in other batch
    // splits shifts greedy ties: start from an empty sequence so a repeated request repeats exactly.
    if (sequence.nextTokenIndex > 0) {
      await sequence.eraseContextTokenRanges([{ start: 0, end: sequence.nextTokenIndex }]);
    }
    // Borrowed, not owned: disposing the chat must leave the pooled sequence (and its KV cache) alone.
    const chat = new LlamaChat({ contextSequence: sequence, chatWrapper, autoDisposeSequence: false });
    // Aborted to end generation once `stopAfter` matches; the response so far is kept.
    const cut = new AbortController();
    const signal = request.signal ? AbortSignal.any([request.signal, cut.signal]) : cut.signal;
    const stops = (request.stop ?? []).filter((s) => s.length > 0);
    let text = "";
    let cutShort = false;
    let textTokens = 0;
    const stream = (from: number) => {
      if (text.length > from) request.onDelta?.({ index, text: text.slice(from) });
    };
    try {
      const response = await chat.generateResponse(history, {
        functions,
        documentFunctionParams: true,
        maxTokens: job.maxTokens,
        temperature: request.temperature ?? this.options.defaultTemperature,
        seed: job.seed,
        ...(request.topK !== undefined && { topK: request.topK }),
        ...(request.topP !== undefined && { topP: request.topP }),
        // LlamaChat penalises repeats by default; the plain path does not, and both should sample alike.
        repeatPenalty: false,
        ...(stops.length > 0 && { customStopTriggers: stops }),
        signal,
        stopOnAbortSignal: true,
        onToken: (tokens) => {
          textTokens += tokens.length;
        },
        onTextChunk: (chunk) => {
          if (cutShort) return;
          const before = text.length;
          text += chunk;
          const endAt = stopAfterIndex(text, job.stopAfter);
          if (endAt !== undefined) {
            text = text.slice(0, endAt);
            cutShort = true;
            cut.abort();
          }
          stream(Math.min(before, text.length));
        },
      });
      if (request.signal?.aborted) throw new AbortedError();
      // Text held back until the end (e.g. while it might have been a stop trigger) arrives here.
      if (!cutShort && response.response.length > text.length && response.response.startsWith(text)) {
        const before = text.length;
        text = response.response;
        stream(before);
      }
      const calls = cutShort ? [] : (response.functionCalls ?? []);
      const toolCalls: ToolCall[] = calls.map((call, i) => ({
        id: `${job.callIdPrefix}_${i}`,
        name: call.functionName,
        arguments: JSON.stringify(call.params ?? {}),
      }));
      // Call syntax is generated outside onToken; count it from the call as the model wrote it.
      const callTokens = calls.reduce(
        (sum, call) => sum + LlamaText.fromJSON(call.raw).tokenize(model.tokenizer).length,
        0,
      );
      return {
        index,
        text,
        finishReason:
          toolCalls.length > 0
            ? "tool_calls"
            : response.metadata.stopReason === "maxTokens"
              ? "length"
              : "stop",
        promptTokens: job.promptTokens,
        completionTokens: textTokens + callTokens,
        ...(toolCalls.length > 0 && { toolCalls }),
      };
    } catch (error) {
      if (error instanceof AbortedError) throw error;
      if (request.signal?.aborted) throw new AbortedError();
      throw new BackendError("internal", `llama.cpp generation failed: ${errorMessage(error)}`, {
        cause: error,
      });
    } finally {
      chat.dispose({ disposeSequence: false });
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const state = await this.state?.catch(() => undefined);
    this.state = undefined;
    // The model stays loaded for other backends of this process; only the context is ours.
    await state?.context.dispose();
  }
}

/**
 * Chat messages as node-llama-cpp's history, ending where the assistant speaks. Tool calls and their
 * results become function-call items of the assistant turn, which the chat template renders in the
 * model's own syntax; after results the model continues that turn, as it does in LlamaChatSession.
 * Exported for tests.
 */
export function chatHistory(messages: ChatMessage[]): ChatHistoryItem[] {
  const history: ChatHistoryItem[] = [];
  const awaiting = new Map<string, ChatModelFunctionCall>();
  let continueTurn = false;
  for (const m of messages) {
    continueTurn = false;
    const call = m.role === "tool" && m.toolCallId !== undefined ? awaiting.get(m.toolCallId) : undefined;
    if (call && m.toolCallId !== undefined) {
      call.result = parseJsonOr(m.content);
      awaiting.delete(m.toolCallId);
      continueTurn = true;
    } else if (m.role === "system") {
      history.push({ type: "system", text: m.content });
    } else if (m.role === "assistant") {
      const calls = (m.toolCalls ?? []).map((c): [string, ChatModelFunctionCall] => [
        c.id,
        { type: "functionCall", name: c.name, params: parseJsonOr(c.arguments), result: undefined },
      ]);
      for (const [id, item] of calls) awaiting.set(id, item);
      history.push({
        type: "model",
        response:
          calls.length === 0
            ? [m.content]
            : [...(m.content ? [m.content] : []), ...calls.map(([, item]) => item)],
      });
    } else if (m.role === "tool") {
      // A result that answers no call in this history reaches the model as a user turn.
      history.push({ type: "user", text: `Tool result (${m.name ?? "tool"}):\n${m.content}` });
    } else {
      history.push({ type: "user", text: m.content });
    }
  }
  if (!continueTurn) history.push({ type: "model", response: [] });
  return history;
}

/** Tool arguments and results are usually JSON; what is not stays text. */
function parseJsonOr(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * The request's tools as node-llama-cpp functions; a named `toolChoice` leaves only that one.
 * Exported for tests.
 */
export function chatFunctions(tools: ToolSpec[], choice: GenerateRequest["toolChoice"]): ChatModelFunctions {
  // A named choice documents only that tool; the call itself is forced by a grammar (forcedCallSchema).
  const chosen = typeof choice === "object" ? tools.filter((t) => t.name === choice.name) : tools;
  if (chosen.length === 0 && typeof choice === "object") {
    throw new UsageError(`toolChoice names "${choice.name}", which is not among the tools`);
  }
  return Object.fromEntries(
    chosen.map((tool) => {
      let params: GbnfJsonSchema | undefined;
      try {
        params = hasParameters(tool.parameters)
          ? (translateSchema(tool.parameters, { patterns: false }).schema as GbnfJsonSchema)
          : undefined;
      } catch (error) {
        throw new UsageError(`cannot build a grammar for tool ${tool.name}: ${errorMessage(error)}`);
      }
      return [tool.name, { description: tool.description, ...(params && { params }) }];
    }),
  );
}

/**
 * The JSON Schema of one call to a tool `choice` allows ("required": any of `tools`):
 * `{"name": ..., "arguments": {...}}`, the shape Qwen-style templates teach for calls, with the
 * arguments under the tool's own schema. Exported for tests.
 */
export function forcedCallSchema(tools: ToolSpec[], choice: GenerateRequest["toolChoice"]): JsonSchema {
  const allowed = typeof choice === "object" ? tools.filter((t) => t.name === choice.name) : tools;
  if (allowed.length === 0) {
    throw new UsageError(
      `toolChoice names "${typeof choice === "object" ? choice.name : ""}", which is not among the tools`,
    );
  }
  const callOf = (tool: ToolSpec): JsonSchema => ({
    type: "object",
    properties: {
      name: { const: tool.name },
      arguments: hasParameters(tool.parameters)
        ? tool.parameters
        : { type: "object", properties: {}, additionalProperties: false },
    },
    required: ["name", "arguments"],
    additionalProperties: false,
  });
  return allowed.length === 1 ? callOf(allowed[0] as ToolSpec) : { oneOf: allowed.map(callOf) };
}

/**
 * The request a forced call is decoded with: the call's schema as its constraint, and nothing that
 * could end the JSON early or stream it as if it were text.
 */
function forcedRequest(request: GenerateRequest, schema: JsonSchema): GenerateRequest {
  const { onDelta: _text, stop: _stop, stopAfter: _stopAfter, ...rest } = request;
  return { ...rest, jsonSchema: schema };
}

/** A completion decoded under `forcedCallSchema` as the call it spells; cut short, it stays text. */
function asForcedCall(completion: Completion, id: string): Completion {
  let call: { name?: unknown; arguments?: unknown };
  try {
    call = JSON.parse(completion.text);
  } catch {
    return completion;
  }
  if (typeof call.name !== "string") return completion;
  return {
    ...completion,
    text: "",
    finishReason: "tool_calls",
    toolCalls: [{ id, name: call.name, arguments: JSON.stringify(call.arguments ?? {}) }],
  };
}

/** An object schema with no properties means "no arguments"; node-llama-cpp then omits params. */
const hasParameters = (schema: JsonSchema): boolean =>
  typeof schema.properties === "object" &&
  schema.properties !== null &&
  Object.keys(schema.properties).length > 0;

/**
 * Keeps whatever prefix of the prompt the sequence already holds (prompt caching across calls) and
 * returns the tokens still to evaluate — at least one, since sampling needs fresh logits.
 */
async function reusePrefix(sequence: LlamaContextSequence, tokens: Token[]): Promise<Token[]> {
  const held = sequence.contextTokens;
  let common = 0;
  const limit = Math.min(held.length, tokens.length - 1);
  while (common < limit && held[common] === tokens[common]) common++;
  if (sequence.nextTokenIndex > common) {
    await sequence.eraseContextTokenRanges([{ start: common, end: sequence.nextTokenIndex }]);
  }
  return tokens.slice(common);
}

function firstStopIndex(text: string, stops: string[], from: number): number | undefined {
  let best: number | undefined;
  for (const stop of stops) {
    const at = text.indexOf(stop, from);
    if (at >= 0 && (best === undefined || at < best)) best = at;
  }
  return best;
}

export const createLlamaBackend = (options: LlamaBackendOptions): LlamaBackend => new LlamaBackend(options);

/** node-llama-cpp's grammar for the translated schema, with string patterns spliced in as our own GBNF. */
async function jsonSchemaGrammar(llama: Llama, schema: JsonSchema): Promise<LlamaGrammar> {
  const translation = translateSchema(schema);
  const built = await llama.createGrammarForJsonSchema(translation.schema as never);
  if (translation.patterns.length === 0) return built;
  return await llama.createGrammar({
    grammar: withPatternRules(built.grammar, translation.patterns),
    stopGenerationTriggers: built.stopGenerationTriggers,
    trimWhitespaceSuffix: built.trimWhitespaceSuffix,
  });
}
