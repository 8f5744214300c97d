import type {
  Completion,
  CompletionDelta,
  FinishReason,
  GenerateRequest,
  GenerateResult,
} from "../../core/backend.js";
import { BackendError } from "../../core/errors.js";
import type { ToolCall } from "../../core/message.js";
import { stopAfterIndex } from "../../core/stop-after.js";
import { type Pricing, priceOf } from "../../core/usage.js";
import {
  type AnswerBody,
  type ChoiceReading,
  fromWireFinishReason,
  type ToolCallPiece,
} from "../../openai-wire/index.js";
import type { Endpoint } from "./request-body.js";

/*
 * Answers into completions: chunks (or whole bodies) into per-choice state, then the exchanges of
 * one call into one GenerateResult with usage split across choices.
 */

/** What one HTTP exchange produced for one of its choices. */
interface ChoiceState {
  text: string;
  finishReason: FinishReason | undefined;
  confidences: number[];
  contentChunks: number;
  /** Ended by the request's `stopAfter` pattern here, not by the server. */
  cutShort?: boolean;
  /** Tool calls by the server's index; streamed calls arrive in pieces and are joined here. */
  toolCalls: Map<number, { id: string | undefined; name: string; arguments: string }>;
}

export interface ExchangeResult {
  /** By completion index (already mapped from the server's choice index). */
  choices: Map<number, ChoiceState>;
  promptTokens: number | undefined;
  completionTokens: number | undefined;
  model: string | undefined;
}

/**
 * Passes streamed text on to the caller. A retried request replays text the failed attempt already
 * streamed; only what goes beyond it is passed on, so with a deterministic server (seeded or greedy)
 * the deltas still add up to the final text. A retry that diverges cannot take back what was sent.
 */
export class DeltaRelay {
  private readonly sentLength = new Map<number, number>();
  constructor(private readonly onDelta: ((delta: CompletionDelta) => void) | undefined) {}

  relay(index: number, textSoFar: string): void {
    const sent = this.sentLength.get(index) ?? 0;
    if (textSoFar.length <= sent) return;
    this.sentLength.set(index, textSoFar.length);
    this.onDelta?.({ index, text: textSoFar.slice(sent) });
  }
}

/** Reads one HTTP answer into per-choice text, finish reasons, logprobs and usage. */
export class ResponseState {
  private readonly choices = new Map<number, ChoiceState>();
  private promptTokens: number | undefined;
  private completionTokens: number | undefined;
  private model: string | undefined;

  constructor(
    private readonly endpoint: Endpoint,
    /** Completion index of server choice i; choices beyond it are ignored. */
    private readonly targets: number[],
    private readonly wantConfidence: boolean,
    private readonly relay: DeltaRelay,
    private readonly stopAfter: RegExp | undefined,
  ) {}

  /**
   * Whether every choice has ended and at least one was cut short by `stopAfter`: the rest of the
   * stream is then not worth reading, and closing it tells the server to stop generating.
   */
  endedEarly(): boolean {
    const states = this.targets.map((t) => this.choices.get(t));
    return (
      states.some((s) => s?.cutShort) && states.every((s) => s !== undefined && s.finishReason !== undefined)
    );
  }

  /** Applies one streamed chunk (chat choices carry a `delta`). */
  applyChunk(chunk: AnswerBody): void {
    this.apply(chunk, "delta");
  }

  /** Applies a non-streamed answer (chat choices carry a `message`). */
  applyWhole(body: AnswerBody): void {
    this.apply(body, "message");
  }

  /** Whether every choice seen so far has finished: a clean end of stream without [DONE] is then OK. */
  finished(): boolean {
    return this.choices.size > 0 && [...this.choices.values()].every((c) => c.finishReason !== undefined);
  }

  result(): ExchangeResult {
    if (this.choices.size === 0) {
      throw new BackendError("invalid_response", "the server's answer had no choices", { retryable: true });
    }
    return {
      choices: this.choices,
      promptTokens: this.promptTokens,
      completionTokens: this.completionTokens,
      model: this.model,
    };
  }

  private apply(body: AnswerBody, field: "delta" | "message"): void {
    if (body.model) this.model ??= body.model;
    if (body.usage?.prompt_tokens !== undefined) this.promptTokens = body.usage.prompt_tokens;
    if (body.usage?.completion_tokens !== undefined) this.completionTokens = body.usage.completion_tokens;
    for (const choice of body.choices ?? []) {
      const message = this.endpoint === "chat" ? choice[field] : undefined;
      this.applyChoice(
        choice,
        this.endpoint === "chat" ? message?.content : choice.text,
        message?.tool_calls,
      );
    }
  }

  private applyChoice(choice: ChoiceReading, text: string | undefined, pieces: ToolCallPiece[] = []): void {
    const target = this.targets[choice.index ?? 0];
    if (target === undefined) return;
    let state = this.choices.get(target);
    if (!state) {
      state = { text: "", finishReason: undefined, confidences: [], contentChunks: 0, toolCalls: new Map() };
      this.choices.set(target, state);
    }
    if (state.cutShort) return;
    const calls = state.toolCalls;
    // Tool-call pieces are generated tokens too, for splitting usage across choices.
    state.contentChunks += pieces.length;
    pieces.forEach((call, position) => {
      // Streamed pieces carry the call's index; a whole answer may leave it out and rely on order.
      const at = call.index ?? position;
      const fn = call.function;
      const known = calls.get(at) ?? { id: undefined, name: "", arguments: "" };
      if (call.id) known.id ??= call.id;
      // Names come whole (some servers repeat them in every piece); arguments come in pieces.
      if (fn?.name !== undefined && known.name === "") known.name = fn.name;
      if (typeof fn?.arguments === "string") known.arguments += fn.arguments;
      // Some servers send arguments as an object rather than JSON text.
      else if (fn?.arguments) known.arguments = JSON.stringify(fn.arguments);
      calls.set(at, known);
    });
    if (text) {
      state.text += text;
      state.contentChunks++;
      const endAt = stopAfterIndex(state.text, this.stopAfter);
      if (endAt !== undefined) {
        state.text = state.text.slice(0, endAt);
        state.finishReason = "stop";
        state.cutShort = true;
      }
      this.relay.relay(target, state.text);
      if (state.cutShort) return;
    }
    if (this.wantConfidence) {
      for (const logprob of logprobsOf(choice)) state.confidences.push(Math.exp(logprob));
    }
    if (choice.finish_reason) state.finishReason = fromWireFinishReason(choice.finish_reason);
  }
}

/** Chat: `{content: [{logprob}]}`; legacy completions: `{token_logprobs: [n]}`. */
function logprobsOf(choice: ChoiceReading): number[] {
  const { logprobs } = choice;
  if (logprobs?.content) return logprobs.content.map((entry) => entry.logprob);
  return logprobs?.token_logprobs ?? [];
}

/** The exchanges of one call as its result: choices in order, usage summed, cost priced. */
export function assembleResult(
  exchanges: readonly ExchangeResult[],
  request: GenerateRequest,
  settings: { n: number; started: number; model: string; pricing: Pricing | undefined },
): GenerateResult {
  const completions: Completion[] = [];
  let completionTokens = 0;
  let promptTokens = 0;
  for (const exchange of exchanges) {
    const perChoice = splitCompletionTokens(exchange, request.confidence === true);
    completionTokens += [...perChoice.values()].reduce((sum, tokens) => sum + tokens, 0);
    // Every request of a call carries the same prompt: count it once, as a native-n server would.
    promptTokens = Math.max(promptTokens, exchange.promptTokens ?? 0);
    for (const [index, choice] of exchange.choices) {
      if (index >= settings.n) continue;
      const toolCalls = toolCallsOf(choice, index);
      // OpenAI reports "stop" when a call was forced by tool_choice; a call is a call either way,
      // and "tool_calls" without one (nothing parseable came) is an ordinary stop.
      const finishReason =
        toolCalls.length > 0 && choice.finishReason !== "length"
          ? "tool_calls"
          : choice.finishReason === "tool_calls"
            ? "stop"
            : choice.finishReason;
      completions.push({
        index,
        text: choice.text,
        finishReason: finishReason ?? "stop",
        promptTokens: exchange.promptTokens ?? 0,
        completionTokens: perChoice.get(index) ?? 0,
        ...(request.confidence && choice.confidences.length > 0
          ? { tokenConfidences: choice.confidences }
          : {}),
        ...(toolCalls.length > 0 && { toolCalls }),
      });
    }
  }
  completions.sort((a, b) => a.index - b.index);
  return {
    completions,
    model: exchanges.find((e) => e.model)?.model ?? settings.model,
    usage: {
      promptTokens,
      completionTokens,
      calls: exchanges.length,
      wallMs: Math.round(performance.now() - settings.started),
      costUsd: priceOf(settings.pricing, promptTokens, completionTokens),
    },
  };
}

/** A choice's tool calls in the server's order; a server that sent no id gets a stable one. */
function toolCallsOf(choice: ChoiceState, index: number): ToolCall[] {
  return [...choice.toolCalls.entries()]
    .sort(([a], [b]) => a - b)
    .filter(([, call]) => call.name !== "")
    .map(([at, call]) => ({
      id: call.id ?? `call_${index}_${at}`,
      name: call.name,
      arguments: call.arguments,
    }));
}

/**
 * Splits an exchange's completion tokens over its choices. With one choice that is the server's
 * count. Servers count n choices together, so per choice we weight by tokens we saw (logprobs, else
 * stream chunks) and round so the parts still add up to the server's total.
 */
function splitCompletionTokens(exchange: ExchangeResult, useLogprobs: boolean): Map<number, number> {
  const entries = [...exchange.choices.entries()];
  const seen = entries.map(([, c]) =>
    useLogprobs && c.confidences.length > 0 ? c.confidences.length : c.contentChunks,
  );
  // Without usage (servers ignoring stream_options), estimate: servers stream about one token per chunk.
  const total = exchange.completionTokens ?? seen.reduce((sum, s) => sum + s, 0);
  const result = new Map<number, number>();
  if (entries.length === 1) {
    result.set(entries[0]?.[0] ?? 0, total);
    return result;
  }
  const seenTotal = seen.reduce((sum, s) => sum + s, 0);
  const shares = seen.map((s) => (seenTotal > 0 ? (s / seenTotal) * total : total / entries.length));
  const floors = shares.map(Math.floor);
  let leftover = total - floors.reduce((sum, f) => sum + f, 0);
  // Largest remainder first, so rounding never changes the sum.
  const order = shares
    .map((share, i) => ({ i, rest: share - Math.floor(share) }))
    .sort((a, b) => b.rest - a.rest);
  for (const { i } of order) {
    if (leftover <= 0) break;
    floors[i] = (floors[i] ?? 0) + 1;
    leftover--;
  }
  entries.forEach(([index], i) => {
    result.set(index, floors[i] ?? 0);
  });
  return result;
}
