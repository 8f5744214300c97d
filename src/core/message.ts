/** A chat message in the OpenAI chat-completions shape, so clients and backends speak one language. */
export type ChatRole = "system" | "user" | "assistant" | "tool";

export interface ChatMessage {
  role: ChatRole;
  content: string;
  /** Name of the tool that produced a `tool` message, or of the speaker. */
  name?: string;
  /** Id of the tool call a `tool` message answers. */
  toolCallId?: string;
}

export const systemMessage = (content: string): ChatMessage => ({ role: "system", content });
export const userMessage = (content: string): ChatMessage => ({ role: "user", content });
export const assistantMessage = (content: string): ChatMessage => ({ role: "assistant", content });
