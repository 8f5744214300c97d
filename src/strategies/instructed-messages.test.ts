import { describe, expect, it } from "vitest";
import { numericFormat } from "../answers/numeric-format.js";
import type { ChatMessage } from "../core/message.js";
import { instructedMessages } from "./instructed-messages.js";

const instruction = numericFormat.instruction;
const example: ChatMessage[] = [
  { role: "user", content: `1 + 1?\n${instruction}` },
  { role: "assistant", content: "1 + 1 = 2. The answer is 2" },
];

describe("instructedMessages", () => {
  it("appends the instruction to the last user message, examples after the system prompt", () => {
    const messages: ChatMessage[] = [
      { role: "system", content: "Be brief." },
      { role: "user", content: "What is 2 + 3?" },
    ];
    expect(instructedMessages(messages, instruction, example)).toEqual([
      { role: "system", content: "Be brief." },
      ...example,
      { role: "user", content: `What is 2 + 3?\n${instruction}` },
    ]);
  });

  it("says the instruction once when the user already gave it", () => {
    const messages: ChatMessage[] = [{ role: "user", content: `What is 2 + 3?\n${instruction}` }];
    const prepared = instructedMessages(messages, instruction);
    expect(prepared).toEqual(messages);
    expect(prepared[0]?.content.split(instruction)).toHaveLength(2);
  });
});
