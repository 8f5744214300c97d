import type { Completion, GenerateRequest, GenerateResult } from "../core/backend.js";
import { parseTextToolCalls } from "./text-tool-calls.js";

/** Where a call written as text may begin: JSON, a `<tool_call>` tag, a ``` fence. */
const CALL_OPENERS = new Set(["{", "[", "<", "`"]);

/**
 * The streamed text of one completion, passed on up to where a call written as text might begin and
 * held from there until the completion is done: a call must not reach the caller as text first.
 */
class HeldText {
  private text = "";
  private sent = 0;
  private holdFrom: number | undefined;

  /** What may be passed on now for this piece. */
  push(piece: string): string {
    const scanFrom = this.text.length;
    this.text += piece;
    if (this.holdFrom === undefined) {
      for (let i = scanFrom; i < this.text.length; i++) {
        if (CALL_OPENERS.has(this.text[i] as string)) {
          this.holdFrom = i;
          break;
        }
      }
    }
    const upTo = this.holdFrom ?? this.text.length;
    if (upTo <= this.sent) return "";
    const out = this.text.slice(this.sent, upTo);
    this.sent = upTo;
    return out;
  }

  /** What is still to be passed on so the pieces join to `final`, the completion's text. */
  finish(final: string): string {
    // Only text before any opener was passed on, and taking calls out never touches that text.
    if (!final.startsWith(this.text.slice(0, this.sent))) return "";
    const rest = final.slice(this.sent);
    this.sent = final.length;
    return rest;
  }
}

/**
 * A completion's calls written as text (see text-tool-calls.ts) as native calls, when the backend
 * returned none. Ids follow the llama backend's: unique within a conversation and reproducible, so
 * cached and recorded follow-up requests match.
 */
function recoverCalls(completion: Completion, tools: readonly string[], turn: number): Completion {
  if (completion.toolCalls && completion.toolCalls.length > 0) return completion;
  const found = parseTextToolCalls(completion.text, tools);
  if (!found) return completion;
  return {
    ...completion,
    text: found.text,
    toolCalls: found.calls.map((call, i) => ({ id: `call_${turn}_${completion.index}_${i}`, ...call })),
    // A call cut short is not a call; but one complete before the cut is, as a native one would be.
    finishReason: completion.finishReason === "length" ? "length" : "tool_calls",
  };
}

/**
 * Runs `generate` so that tool calls the model wrote as text come back as `toolCalls`, whatever the
 * backend. Applies when the request offers tools and does not rule calls out (`toolChoice: "none"`);
 * only the tools it allows count. Streamed text is held back from where a call might begin, so what
 * was streamed always joins to the completion's final text.
 */
export async function generateWithTextToolCalls(
  request: GenerateRequest,
  generate: (request: GenerateRequest) => Promise<GenerateResult>,
): Promise<GenerateResult> {
  const offered = request.tools ?? [];
  if (offered.length === 0 || request.toolChoice === "none") return generate(request);
  const choice = request.toolChoice;
  const tools = typeof choice === "object" ? [choice.name] : offered.map((tool) => tool.name);
  const { onDelta } = request;
  const held = new Map<number, HeldText>();
  const heldFor = (index: number): HeldText => {
    let text = held.get(index);
    if (!text) {
      text = new HeldText();
      held.set(index, text);
    }
    return text;
  };
  const result = await generate(
    onDelta
      ? {
          ...request,
          onDelta: (delta) => {
            const text = heldFor(delta.index).push(delta.text);
            if (text) onDelta({ index: delta.index, text });
          },
        }
      : request,
  );
  const turn = request.messages?.length ?? 0;
  const completions = result.completions.map((completion) => recoverCalls(completion, tools, turn));
  if (onDelta) {
    for (const completion of completions) {
      const rest = heldFor(completion.index).finish(completion.text);
      if (rest) onDelta({ index: completion.index, text: rest });
    }
  }
  return { ...result, completions };
}
