import { describe, expect, it } from "vitest";
import type { ChatMessage } from "../core/message.js";
import * as convert from "./chat-messages.js";
import { chatRequestSchema } from "./chat-request.js";

describe("openai wire: messages and tools between the engine and OpenAI", () => {
  it("writes engine messages that the request schema reads back unchanged", () => {
    const messages: ChatMessage[] = [
      { role: "system", content: "Be brief." },
      { role: "user", content: "Weather in Oslo?", name: "ana" },
      {
        role: "assistant",
        content: "",
        toolCalls: [{ id: "c1", name: "weather", arguments: '{"city":"Oslo"}' }],
      },
      { role: "tool", content: "rain", toolCallId: "c1", name: "weather" },
    ];
    const wire = messages.map(convert.toWireMessage);
    // An assistant turn that only calls tools has null content; a tool message carries no name.
    expect(wire[2]).toMatchObject({ content: null, tool_calls: [{ id: "c1", type: "function" }] });
    expect(wire[3]).toEqual({ role: "tool", content: "rain", tool_call_id: "c1" });
    const read = convert.toChatMessages(chatRequestSchema.parse({ model: "m", messages: wire }).messages);
    expect(read).toEqual([
      messages[0],
      messages[1],
      messages[2],
      { role: "tool", content: "rain", toolCallId: "c1" },
    ]);
  });

  it("reads developer as system and joins text parts", () => {
    const request = chatRequestSchema.parse({
      model: "m",
      messages: [
        { role: "developer", content: "rules" },
        {
          role: "user",
          content: [
            { type: "text", text: "a" },
            { type: "text", text: "b" },
          ],
        },
      ],
    });
    expect(convert.toChatMessages(request.messages)).toEqual([
      { role: "system", content: "rules" },
      { role: "user", content: "ab" },
    ]);
  });

  it("maps tools and tool choices both ways", () => {
    const spec = { name: "f", description: "does f", parameters: { type: "object", properties: {} } };
    const wire = convert.toWireTool(spec);
    expect(wire).toEqual({ type: "function", function: spec });
    expect(convert.toToolSpecs([wire])).toEqual([spec]);
    // Missing description and parameters get harmless defaults.
    expect(convert.toToolSpecs([{ type: "function", function: { name: "g" } }])).toEqual([
      { name: "g", description: "", parameters: { type: "object", properties: {} } },
    ]);
    for (const choice of ["auto", "none", "required", { name: "f" }] as const) {
      expect(convert.toToolChoice(convert.toWireToolChoice(choice))).toEqual(choice);
    }
    expect(convert.toWireToolChoice({ name: "f" })).toEqual({ type: "function", function: { name: "f" } });
  });
});
