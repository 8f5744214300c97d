import type { ChatMessage } from "../core/message.js";

/**
 * A conversation prepared for a prompted strategy: `instruction` appended to the last user message,
 * and worked examples (earlier user/assistant turns) placed after any system prompt and before the
 * conversation itself. A conversation without a user message is left as it is, and so is a user
 * message that already carries the instruction: said twice, it turns the small model's step-by-step
 * answer into a bare "The answer is N" (seen through the server, whose clients often send it).
 */
export function instructedMessages(
  messages: readonly ChatMessage[],
  instruction: string,
  examples: readonly ChatMessage[] = [],
): ChatMessage[] {
  const out = [...messages];
  const lastUser = out.map((m) => m.role).lastIndexOf("user");
  if (lastUser >= 0 && !(out[lastUser] as ChatMessage).content.includes(instruction)) {
    const question = out[lastUser] as ChatMessage;
    out[lastUser] = { ...question, content: `${question.content}\n${instruction}` };
  }
  const systemCount = out.findIndex((m) => m.role !== "system");
  const at = systemCount < 0 ? out.length : systemCount;
  return [...out.slice(0, at), ...examples, ...out.slice(at)];
}
