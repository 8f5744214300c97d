/** A call the model asked for through native function calling; the strategy runs it, not the backend. */
export interface ToolCall {
  /** Ties the call to the `tool` message that answers it. */
  id: string;
  name: string;
  /** The arguments as the model wrote them: JSON text, not guaranteed to parse. */
  arguments: string;
}

/** A chat message in the OpenAI chat-completions shape, so clients and backends speak one language. */
export type ChatRole = "system" | "user" | "assistant" | "tool";

export interface ChatMessage {
  role: ChatRole;
  content: string;
  /** Name of the tool that produced a `tool` message, or of the speaker. */
  name?: string;
  /** Id of the tool call a `tool` message answers. */
  toolCallId?: string;
  /** Tools an `assistant` message called (native function calling); its content may then be "". */
  toolCalls?: ToolCall[];
}

export const systemMessage = (content: string): ChatMessage => ({ role: "system", content });
export const userMessage = (content: string): ChatMessage => ({ role: "user", content });
export const assistantMessage = (content: string): ChatMessage => ({ role: "assistant", content });
/** The result of tool call `toolCallId`, as the model will read it. */
export const toolMessage = (toolCallId: string, content: string, name?: string): ChatMessage => ({
  role: "tool",
  content,
  toolCallId,
  ...(name !== undefined && { name }),
});

/** The text of the last user message (the question a strategy answers), or "" when there is none. */
export const lastUserText = (messages: readonly ChatMessage[]): string =>
  [...messages].reverse().find((m) => m.role === "user")?.content ?? "";
