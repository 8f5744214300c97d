import type { ChatMessage } from "../core/message.js";

/**
 * A conversation prepared for a prompted strategy: `instruction` appended to the last user message,
 * and worked examples (earlier user/assistant turns) placed after any system prompt and before the
 * conversation itself. A conversation without a user message is left as it is.
 */
export function instructedMessages(
  messages: readonly ChatMessage[],
  instruction: string,
  examples: readonly ChatMessage[] = [],
): ChatMessage[] {
  const out = [...messages];
  const lastUser = out.map((m) => m.role).lastIndexOf("user");
  if (lastUser >= 0) {
    const question = out[lastUser] as ChatMessage;
    out[lastUser] = { ...question, content: `${question.content}\n${instruction}` };
  }
  const systemCount = out.findIndex((m) => m.role !== "system");
  const at = systemCount < 0 ? out.length : systemCount;
  return [...out.slice(0, at), ...examples, ...out.slice(at)];
}
