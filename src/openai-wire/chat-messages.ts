import type { ToolChoice, ToolSpec } from "../core/backend.js";
import type { ChatMessage, ToolCall } from "../core/message.js";
import type { ChatRequestBody, WireMessage, WireTool, WireToolChoice } from "./chat-request.js";

/*
 * Messages, tools and tool calls between the engine's shapes (src/core) and OpenAI's: requests read
 * into the engine by the server and the test double, and written by the HTTP backend.
 */

/** A call of a function as OpenAI writes it in a message. */
export interface WireToolCall {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
}

export const toWireToolCall = (call: ToolCall): WireToolCall => ({
  id: call.id,
  type: "function",
  function: { name: call.name, arguments: call.arguments },
});

/** Request messages as the engine's chat messages: text parts joined, an assistant's tool calls kept. */
export function toChatMessages(messages: readonly WireMessage[]): ChatMessage[] {
  return messages.map((message): ChatMessage => {
    const content = message.content;
    const text = typeof content === "string" ? content : (content ?? []).map((part) => part.text).join("");
    const toolCalls: ToolCall[] =
      message.role === "assistant"
        ? (message.tool_calls ?? []).map((call) => ({
            id: call.id,
            name: call.function.name,
            arguments: call.function.arguments,
          }))
        : [];
    return {
      role: message.role === "developer" ? "system" : message.role,
      content: text,
      ...(message.name != null && { name: message.name }),
      ...(message.tool_call_id != null && { toolCallId: message.tool_call_id }),
      ...(toolCalls.length > 0 && { toolCalls }),
    };
  });
}

/** A chat message as OpenAI's API takes it. */
export function toWireMessage(message: ChatMessage): ChatRequestBody["messages"][number] {
  const calls = message.role === "assistant" ? (message.toolCalls ?? []) : [];
  return {
    role: message.role,
    // An assistant turn that only calls tools has null content in OpenAI's format.
    content: calls.length > 0 && message.content === "" ? null : message.content,
    // OpenAI's tool messages have no `name`; strict servers reject one.
    ...(message.name !== undefined &&
      !(message.role === "tool" && message.toolCallId !== undefined) && { name: message.name }),
    ...(message.toolCallId !== undefined && { tool_call_id: message.toolCallId }),
    ...(calls.length > 0 && { tool_calls: calls.map(toWireToolCall) }),
  };
}

/** OpenAI `tools` as the engine's tool specs. */
export function toToolSpecs(tools: readonly WireTool[]): ToolSpec[] {
  return tools.map(({ function: fn }) => ({
    name: fn.name,
    description: fn.description ?? "",
    parameters: fn.parameters ?? { type: "object", properties: {} },
  }));
}

export const toWireTool = (tool: ToolSpec) => ({
  type: "function" as const,
  function: { name: tool.name, description: tool.description, parameters: tool.parameters },
});

export const toToolChoice = (choice: WireToolChoice): ToolChoice =>
  typeof choice === "string" ? choice : { name: choice.function.name };

export const toWireToolChoice = (choice: ToolChoice): WireToolChoice =>
  typeof choice === "string" ? choice : { type: "function", function: { name: choice.name } };
