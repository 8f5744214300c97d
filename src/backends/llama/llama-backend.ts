import { basename } from "node:path";
import {
  type ChatHistoryItem,
  type ChatWrapper,
  type LlamaContext,
  type LlamaContextSequence,
  type LlamaGrammar,
  LlamaGrammarEvaluationState,
  type LlamaModel,
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
} from "../../core/backend.js";
import { AbortedError, BackendError, errorMessage, UsageError } from "../../core/errors.js";
import type { ChatMessage } from "../../core/message.js";
import { compileStopAfter, stopAfterIndex } from "../../core/stop-after.js";
import { translateSchema } from "../../structured/grammar-translation.js";
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
  };
  private readonly options: Required<Omit<LlamaBackendOptions, "modelName" | "maxThreads">> &
    Pick<LlamaBackendOptions, "maxThreads">;
  private state:
    | Promise<{ model: LlamaModel; context: LlamaContext; pool: SequencePool; chat: ChatWrapper }>
    | undefined;
  private readonly grammars = new Map<string, Promise<LlamaGrammar>>();
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

  async generate(request: GenerateRequest): Promise<GenerateResult> {
    const started = Date.now();
    if ((request.messages === undefined) === (request.prompt === undefined)) {
      throw new UsageError("give exactly one of messages or prompt");
    }
    if (request.signal?.aborted) throw new AbortedError();
    const state = await this.load();
    const { model, context, pool } = state;
    const promptTokens =
      request.prompt !== undefined
        ? model.tokenize(request.prompt, false)
        : renderChat(state.chat, request.messages ?? []).tokenize(model.tokenizer);
    const room = context.contextSize - promptTokens.length;
    if (room <= 0) {
      throw new UsageError(
        `prompt is ${promptTokens.length} tokens; the context holds ${context.contextSize}`,
      );
    }
    const maxTokens = Math.min(request.maxTokens ?? room, room);
    const grammar = await this.grammarFor(request);
    // Compiled once per call, before any sequence is taken, so a bad pattern costs nothing.
    const stopAfter = compileStopAfter(request.stopAfter);
    const n = request.n ?? 1;
    // Without a fixed seed each sample still needs its own, or parallel samples would coincide.
    const baseSeed = request.seed ?? Math.floor(Math.random() * 2 ** 31);

    const completions = await Promise.all(
      Array.from({ length: n }, async (_, index) => {
        const sequence = await pool.acquire(promptTokens, request.signal);
        try {
          return await this.complete(model, sequence, promptTokens, {
            request,
            index,
            maxTokens,
            seed: baseSeed + index,
            grammar,
            stopAfter,
          });
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

  private grammarFor(request: GenerateRequest): Promise<LlamaGrammar> | undefined {
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
          return await llama.createGrammarForJsonSchema(
            translateSchema(request.jsonSchema as JsonSchema).schema as never,
          );
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

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const state = await this.state?.catch(() => undefined);
    this.state = undefined;
    // The model stays loaded for other backends of this process; only the context is ours.
    await state?.context.dispose();
  }
}

/** Renders chat messages with the model's own chat template, ending where the assistant speaks. */
function renderChat(chat: ChatWrapper, messages: ChatMessage[]) {
  const history: ChatHistoryItem[] = messages.map((m): ChatHistoryItem => {
    if (m.role === "system") return { type: "system", text: m.content };
    if (m.role === "assistant") return { type: "model", response: [m.content] };
    // Tool results reach a model without native tools as user turns.
    if (m.role === "tool") return { type: "user", text: `Tool result (${m.name ?? "tool"}):\n${m.content}` };
    return { type: "user", text: m.content };
  });
  history.push({ type: "model", response: [] });
  return chat.generateContextState({ chatHistory: history }).contextText;
}

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
