import { createHash } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type {
  Backend,
  BackendCapabilities,
  Completion,
  GenerateRequest,
  GenerateResult,
  JsonSchema,
  ToolSpec,
} from "../../core/backend.js";
import { AbortedError, BackendError, UsageError } from "../../core/errors.js";
import { lastUserText, type ToolCall } from "../../core/message.js";
import { compileStopAfter, stopAfterIndex } from "../../core/stop-after.js";

/** What a scripted responder sees for each completion it must produce. */
export interface ScriptedTurn {
  request: GenerateRequest;
  /** Completion index within the call. */
  index: number;
  /** 0-based count of `generate` calls made to this backend so far. */
  call: number;
  /** Last user message, or the raw prompt. */
  prompt: string;
}

/** A native tool call in a script; `arguments` that are not a string are sent as their JSON. */
export interface ScriptedToolCall {
  name: string;
  arguments?: unknown;
  /** Default `call_<call>_<index>_<i>`, so ids are unique within a backend's lifetime. */
  id?: string;
}

export type ScriptedReply =
  | string
  | { text?: string; confidences?: number[]; toolCalls?: ScriptedToolCall[] }
  | Error;
export type ScriptedResponder = (turn: ScriptedTurn) => ScriptedReply;

export interface ScriptedBackendOptions {
  model?: string;
  /**
   * How to answer: a function of the turn, or a list of replies handed out in order (one per
   * completion; the last one repeats). Default: deterministic pseudo-text derived from the prompt
   * and, when sampling, the seed.
   */
  respond?: ScriptedResponder | ScriptedReply[];
  /** Delay before each streamed token, to exercise streaming and abort. */
  tokenDelayMs?: number;
  /**
   * Report native function calling (`capabilities.tools`), so strategies send `tools` and expect
   * `toolCalls` back. Default false: scripts written in a text protocol keep working.
   */
  tools?: boolean;
}

const VOCABULARY =
  "the answer depends on each step so we add then multiply and check that result again before we write it down carefully".split(
    " ",
  );

function hashToUnit(text: string): number[] {
  const digest = createHash("sha256").update(text).digest();
  return Array.from(digest, (byte) => byte / 255);
}

/** Deterministic filler text: same prompt and seed, same words. */
function pseudoText(prompt: string, salt: string): string {
  const units = hashToUnit(`${prompt}\u0000${salt}`);
  const words = units.slice(0, 24).map((u) => VOCABULARY[Math.floor(u * (VOCABULARY.length - 1))] ?? "the");
  return `${words.join(" ")}.`;
}

/** A minimal value that satisfies simple schemas, so structured-output callers get parseable JSON. */
export function exampleForSchema(schema: JsonSchema): unknown {
  if ("const" in schema) return schema.const;
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0];
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case "object": {
      const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
      const required = (schema.required ?? Object.keys(properties)) as string[];
      return Object.fromEntries(required.map((key) => [key, exampleForSchema(properties[key] ?? {})]));
    }
    case "array": {
      const min = typeof schema.minItems === "number" ? schema.minItems : 0;
      return Array.from({ length: min }, () => exampleForSchema((schema.items ?? {}) as JsonSchema));
    }
    case "string":
      return "x".repeat(typeof schema.minLength === "number" ? schema.minLength : 1);
    case "integer":
    case "number":
      return typeof schema.minimum === "number" ? schema.minimum : 0;
    case "boolean":
      return true;
    case "null":
      return null;
    default:
      return {};
  }
}

/** Splits text into pseudo-tokens: each word with its trailing whitespace. */
export const scriptedTokens = (text: string): string[] => text.match(/\s*\S+\s*/g) ?? [];

const promptOf = (request: GenerateRequest): string => request.prompt ?? lastUserText(request.messages ?? []);

const promptTokenCount = (request: GenerateRequest): number =>
  scriptedTokens(
    request.prompt ??
      (request.messages ?? [])
        .flatMap((m) => [
          `${m.role}: ${m.content}`,
          ...(m.toolCalls ?? []).map((c) => `${c.name} ${c.arguments}`),
        ])
        .join("\n"),
  ).length;

/**
 * A deterministic backend for tests and examples: no model, same output for the same input,
 * honouring n, seed, max tokens, stop sequences, JSON schemas, streaming and abort like a real one.
 */
export class ScriptedBackend implements Backend {
  readonly kind = "scripted";
  readonly model: string;
  readonly capabilities: BackendCapabilities;
  /** Every request received, for assertions. */
  readonly requests: GenerateRequest[] = [];
  private readonly respond: ScriptedResponder;
  private readonly tokenDelayMs: number;
  private replyCursor = 0;

  constructor(options: ScriptedBackendOptions = {}) {
    this.model = options.model ?? "scripted";
    this.tokenDelayMs = options.tokenDelayMs ?? 0;
    this.capabilities = {
      confidence: true,
      jsonSchema: true,
      grammar: false,
      rawPrompt: true,
      tools: options.tools ?? false,
    };
    const { respond } = options;
    if (Array.isArray(respond)) {
      if (respond.length === 0) throw new UsageError("scripted backend needs at least one reply");
      this.respond = () => respond[Math.min(this.replyCursor++, respond.length - 1)] as ScriptedReply;
    } else {
      this.respond = respond ?? ScriptedBackend.defaultResponder;
    }
  }

  private static defaultResponder(turn: ScriptedTurn): ScriptedReply {
    const { request } = turn;
    // A forced call is answered with the simplest arguments its schema allows, as jsonSchema is.
    const forced = forcedTool(request);
    if (forced) {
      return { toolCalls: [{ name: forced.name, arguments: exampleForSchema(forced.parameters) }] };
    }
    if (request.jsonSchema) return JSON.stringify(exampleForSchema(request.jsonSchema));
    const greedy = request.temperature === 0 || request.temperature === undefined;
    const salt = greedy ? "greedy" : `seed:${(request.seed ?? turn.call) + turn.index}`;
    return pseudoText(turn.prompt, salt);
  }

  async generate(request: GenerateRequest): Promise<GenerateResult> {
    const started = Date.now();
    if ((request.messages === undefined) === (request.prompt === undefined)) {
      throw new UsageError("give exactly one of messages or prompt");
    }
    if (request.signal?.aborted) throw new AbortedError();
    if (request.tools && request.tools.length > 0 && request.prompt !== undefined) {
      throw new UsageError("tools need chat messages, not a raw prompt");
    }
    const call = this.requests.length;
    this.requests.push(request);
    const n = request.n ?? 1;
    const prompt = promptOf(request);
    const promptTokens = promptTokenCount(request);
    const completions: Completion[] = [];
    for (let index = 0; index < n; index++) {
      const reply = this.respond({ request, index, call, prompt });
      if (reply instanceof Error) {
        throw reply instanceof BackendError ? reply : new BackendError("internal", reply.message);
      }
      const { text = "", confidences, toolCalls } = typeof reply === "string" ? { text: reply } : reply;
      const completion = await this.complete(request, index, text, confidences, promptTokens);
      if (toolCalls && toolCalls.length > 0 && completion.finishReason !== "length") {
        completion.toolCalls = toolCalls.map((c, i) => wireToolCall(c, `call_${call}_${index}_${i}`));
        completion.finishReason = "tool_calls";
        // The call is generated text too: charge it like the words around it.
        completion.completionTokens += completion.toolCalls.reduce(
          (sum, c) => sum + scriptedTokens(`${c.name} ${c.arguments}`).length,
          0,
        );
        if (completion.tokenConfidences) {
          completion.tokenConfidences = repeatToLength(
            completion.tokenConfidences,
            completion.completionTokens,
          );
        }
      }
      completions.push(completion);
    }
    const completionTokens = completions.reduce((sum, c) => sum + c.completionTokens, 0);
    return {
      completions,
      model: this.model,
      usage: { promptTokens, completionTokens, calls: 1, wallMs: Date.now() - started, costUsd: 0 },
    };
  }

  private async complete(
    request: GenerateRequest,
    index: number,
    fullText: string,
    confidences: number[] | undefined,
    promptTokens: number,
  ): Promise<Completion> {
    const tokens = scriptedTokens(fullText);
    const maxTokens = request.maxTokens ?? Number.POSITIVE_INFINITY;
    let text = "";
    let finishReason: Completion["finishReason"] = "stop";
    let generated = 0;
    const stopAfter = compileStopAfter(request.stopAfter);
    let streamed = 0;
    const streamUpTo = (end: number): void => {
      if (end <= streamed) return;
      request.onDelta?.({ index, text: text.slice(streamed, end) });
      streamed = end;
    };
    for (const token of tokens) {
      if (generated >= maxTokens) {
        finishReason = "length";
        break;
      }
      if (this.tokenDelayMs > 0) await sleep(this.tokenDelayMs);
      if (request.signal?.aborted) throw new AbortedError();
      const candidate = text + token;
      const stopAt = firstStopIndex(candidate, request.stop);
      generated++;
      if (stopAt !== undefined) {
        text = candidate.slice(0, stopAt);
        break;
      }
      const endAt = stopAfterIndex(candidate, stopAfter);
      if (endAt !== undefined) {
        text = candidate.slice(0, endAt);
        break;
      }
      text = candidate;
      // As a real server does, an ending that may begin a stop sequence waits for the next token:
      // streamed text is never taken back, so the deltas add up to the text.
      streamUpTo(text.length - stopPrefixLength(text, request.stop));
    }
    streamUpTo(text.length);
    const tokenConfidences = request.confidence
      ? repeatToLength(
          confidences ??
            hashToUnit(`${fullText}\u0000conf`)
              .slice(0, 16)
              .map((u) => 0.5 + u / 2),
          generated,
        )
      : undefined;
    return {
      index,
      text,
      finishReason,
      promptTokens,
      completionTokens: generated,
      ...(tokenConfidences && { tokenConfidences }),
    };
  }

  async close(): Promise<void> {}
}

/** The tool a request obliges the model to call, if any: a named one, or the first when "required". */
function forcedTool(request: GenerateRequest): ToolSpec | undefined {
  const { tools, toolChoice } = request;
  if (!tools || tools.length === 0 || toolChoice === undefined) return undefined;
  if (toolChoice === "required") return tools[0];
  if (typeof toolChoice === "object") return tools.find((t) => t.name === toolChoice.name);
  return undefined;
}

function wireToolCall(call: ScriptedToolCall, defaultId: string): ToolCall {
  const args = call.arguments ?? {};
  return {
    id: call.id ?? defaultId,
    name: call.name,
    arguments: typeof args === "string" ? args : JSON.stringify(args),
  };
}

/** Cycles `values` to exactly `length` entries (scripted confidences are shorter than long texts). */
function repeatToLength(values: number[], length: number): number[] {
  if (values.length === 0) return Array.from({ length }, () => 1);
  return Array.from({ length }, (_, i) => values[i % values.length] as number);
}

/** Length of the longest ending of `text` that is the start (not the whole) of a stop sequence. */
function stopPrefixLength(text: string, stop: string[] | undefined): number {
  let longest = 0;
  for (const s of stop ?? []) {
    for (let length = Math.min(s.length - 1, text.length); length > longest; length--) {
      if (text.endsWith(s.slice(0, length))) {
        longest = length;
        break;
      }
    }
  }
  return longest;
}

function firstStopIndex(text: string, stop: string[] | undefined): number | undefined {
  let best: number | undefined;
  for (const s of stop ?? []) {
    if (!s) continue;
    const at = text.indexOf(s);
    if (at >= 0 && (best === undefined || at < best)) best = at;
  }
  return best;
}

export const createScriptedBackend = (options?: ScriptedBackendOptions): ScriptedBackend =>
  new ScriptedBackend(options);
