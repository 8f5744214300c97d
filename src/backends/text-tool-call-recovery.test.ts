import { describe, expect, it } from "vitest";
import type { GenerateRequest, ToolSpec } from "../core/backend.js";
import { userMessage } from "../core/message.js";
import { createScriptedBackend } from "./scripted/scripted-backend.js";
import { generateWithTextToolCalls } from "./text-tool-call-recovery.js";

const WEATHER: ToolSpec = {
  name: "get_weather",
  description: "Current weather in a city",
  parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
};
const CLOCK: ToolSpec = { name: "get_time", description: "The time", parameters: { type: "object" } };
const CALL_TEXT = '{"name": "get_weather", "arguments": {"city": "Paris"}}';

/** A model that writes its call as text, the way Qwen2.5-Coder-0.5B does, after `prose`. */
function textCaller(prose = "") {
  return createScriptedBackend({ respond: [`${prose}${CALL_TEXT}`] });
}

async function run(request: Omit<GenerateRequest, "messages">, prose = "") {
  const backend = textCaller(prose);
  let streamed = "";
  const result = await generateWithTextToolCalls(
    {
      messages: [userMessage("What is the weather in Paris?")],
      onDelta: ({ text }) => {
        streamed += text;
      },
      ...request,
    },
    (inner) => backend.generate(inner),
  );
  return { completion: result.completions[0], streamed };
}

describe("generateWithTextToolCalls", () => {
  it("turns a call written as text into a tool call, and streams none of it as text", async () => {
    const { completion, streamed } = await run({ tools: [WEATHER, CLOCK] });
    expect(completion).toMatchObject({
      text: "",
      finishReason: "tool_calls",
      toolCalls: [{ id: "call_1_0_0", name: "get_weather", arguments: '{"city":"Paris"}' }],
    });
    expect(streamed).toBe("");
  });

  it("streams the prose before a call live, and the deltas join to the text left", async () => {
    const { completion, streamed } = await run({ tools: [WEATHER] }, "Let me check. ");
    expect(completion?.toolCalls?.map((call) => call.name)).toEqual(["get_weather"]);
    expect(completion?.text).toBe("Let me check. ");
    expect(streamed).toBe(completion?.text);
  });

  it("leaves text alone without tools, with toolChoice none, or naming a tool not allowed", async () => {
    for (const request of [{}, { tools: [WEATHER], toolChoice: "none" as const }, { tools: [CLOCK] }]) {
      const { completion, streamed } = await run(request);
      expect(completion?.text).toBe(CALL_TEXT);
      expect(completion?.toolCalls).toBeUndefined();
      expect(completion?.finishReason).toBe("stop");
      expect(streamed).toBe(CALL_TEXT);
    }
    // A named choice allows only that tool.
    const named = await run({ tools: [WEATHER, CLOCK], toolChoice: { name: "get_time" } });
    expect(named.completion?.toolCalls).toBeUndefined();
  });

  it("keeps native calls as they are", async () => {
    const backend = createScriptedBackend({
      tools: true,
      respond: [{ text: "", toolCalls: [{ name: "get_time", arguments: {}, id: "native" }] }],
    });
    const result = await generateWithTextToolCalls(
      { messages: [userMessage("time?")], tools: [WEATHER, CLOCK] },
      (inner) => backend.generate(inner),
    );
    expect(result.completions[0]?.toolCalls).toEqual([{ id: "native", name: "get_time", arguments: "{}" }]);
  });
});
