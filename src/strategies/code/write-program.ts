import { extractPython, sanitizePython } from "../../answers/python-code.js";
import type { FinishReason, GenerationParams } from "../../core/backend.js";
import type { ChatMessage } from "../../core/message.js";
import type { StrategyContext } from "../../core/strategy.js";
import { type CodeSpec, completeProgram } from "./code-spec.js";

/**
 * The system prompt the Qwen2.5-Coder team evaluates its instruct models with on HumanEval
 * (qwencoder-eval/instruct/eval_plus/model.py); the default model is one of them.
 */
export const CODER_SYSTEM_PROMPT =
  "You are an intelligent programming assistant to produce Python algorithmic solutions";

const REPLY_FORMAT = "Reply with the complete Python code in one ```python code block.";

/** The request for a program: a stub to complete as Qwen's evaluation asks for it, prose as written. */
export function programRequest(spec: CodeSpec): string {
  return spec.stub !== undefined
    ? `Can you complete the following Python function?\n\`\`\`python\n${spec.stub}\n\`\`\``
    : `${spec.text.trim()}\n${REPLY_FORMAT}`;
}

/** The caller's messages with the request for a program in place of the last user message. */
export function programMessages(messages: readonly ChatMessage[], spec: CodeSpec): ChatMessage[] {
  const out = [...messages];
  const last = out.map((m) => m.role).lastIndexOf("user");
  if (last >= 0) out[last] = { role: "user", content: programRequest(spec) };
  return out.some((m) => m.role === "system")
    ? out
    : [{ role: "system", content: CODER_SYSTEM_PROMPT }, ...out];
}

/**
 * Generation stops at the fence that closes the code block: what a coder model writes after it is
 * explanation, and costs seconds. (An untagged opening fence after prose would stop it too early; the
 * default models tag their blocks.)
 */
export const CODE_BLOCK_END = "\n```\n";

/** A model-written program, ready to run: extracted, its demonstration dropped, the stub's parts put back. */
export interface WrittenProgram {
  /** The program to run, or "" when the reply held no code. */
  program: string;
  reply: string;
  finishReason: FinishReason;
  completionTokens: number;
}

/** Turns a reply into the program to run. */
export function programFromReply(spec: CodeSpec, reply: string): string {
  const code = extractPython(reply, spec.entryPoint);
  if (code === undefined) return "";
  const kept = sanitizePython(code);
  return completeProgram(spec, kept === "" ? code : kept);
}

/** Asks for programs: n completions of one request (greedy for one, sampled for more). */
export async function writePrograms(
  ctx: StrategyContext,
  messages: ChatMessage[],
  spec: CodeSpec,
  options: { params?: GenerationParams; n?: number; step: { kind: string; label?: string } },
): Promise<WrittenProgram[]> {
  const n = options.n ?? 1;
  const stop = [...(options.params?.stop ?? []), CODE_BLOCK_END];
  const result = await ctx.generate(
    {
      ...options.params,
      temperature: options.params?.temperature ?? 0,
      stop,
      messages,
      n,
    },
    { step: options.step },
  );
  return result.completions.map((c) => ({
    program: programFromReply(spec, c.text),
    reply: c.text,
    finishReason: c.finishReason,
    completionTokens: c.completionTokens,
  }));
}
