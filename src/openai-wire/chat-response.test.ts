import { describe, expect, it } from "vitest";
import {
  answerBodySchema,
  type ChatCompletionChunk,
  fromWireFinishReason,
  OPENING_DELTA,
  toAssistantMessage,
  toChunkChoice,
  toToolCallDelta,
  toWireFinishReason,
  toWireUsage,
} from "./chat-response.js";
import { decodeSse, encodeSseJson } from "./sse.js";

const call = { id: "c1", name: "weather", arguments: '{"city":"Oslo"}' };

describe("openai wire: chat answers", () => {
  it("builds messages, usage and chunk choices in OpenAI's shape", () => {
    expect(toAssistantMessage("", [call])).toEqual({
      role: "assistant",
      content: null,
      refusal: null,
      tool_calls: [
        { id: "c1", type: "function", function: { name: "weather", arguments: '{"city":"Oslo"}' } },
      ],
    });
    expect(toAssistantMessage("Hi")).toEqual({ role: "assistant", content: "Hi", refusal: null });
    expect(toWireUsage(3, 4)).toEqual({ prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 });
    expect(JSON.stringify(toChunkChoice(1, OPENING_DELTA))).toBe(
      '{"index":1,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}',
    );
    expect(toToolCallDelta(call, 2)).toEqual({ index: 2, ...toAssistantMessage("", [call]).tool_calls?.[0] });
  });

  it("maps finish reasons: tool_calls only with calls, length wins, unknown reasons are stops", () => {
    expect(toWireFinishReason("stop", 1)).toBe("tool_calls");
    expect(toWireFinishReason("tool_calls", 0)).toBe("stop");
    expect(toWireFinishReason("length", 2)).toBe("length");
    expect(
      ["length", "tool_calls", "function_call", "content_filter", "eos"].map(fromWireFinishReason),
    ).toEqual(["length", "tool_calls", "tool_calls", "stop", "stop"]);
  });

  it("reads back what the writers write, through SSE", () => {
    const chunk: ChatCompletionChunk = {
      id: "chatcmpl-1",
      object: "chat.completion.chunk",
      created: 0,
      model: "m",
      choices: [toChunkChoice(0, { content: "Hi", tool_calls: [toToolCallDelta(call, 0)] }, "tool_calls")],
      usage: toWireUsage(3, 4),
    };
    const [event] = decodeSse(encodeSseJson(chunk));
    const read = answerBodySchema.parse(JSON.parse(event?.data ?? ""));
    expect(read).toEqual({
      model: "m",
      usage: { prompt_tokens: 3, completion_tokens: 4 },
      choices: [
        {
          index: 0,
          delta: {
            content: "Hi",
            tool_calls: [{ index: 0, id: "c1", function: { name: "weather", arguments: call.arguments } }],
          },
          finish_reason: "tool_calls",
        },
      ],
    });
  });

  it("reads leniently: fields of the wrong type count as absent, list items that do not fit are skipped", () => {
    const read = answerBodySchema.parse({
      model: 7,
      usage: { prompt_tokens: "3", completion_tokens: 4 },
      choices: [
        "junk",
        {
          index: 1.5,
          delta: {
            content: 5,
            tool_calls: [null, { index: 0, function: { name: "f", arguments: { a: 1 } } }],
          },
          logprobs: { content: [{ logprob: -0.5 }, { logprob: "x" }], token_logprobs: [null, -1] },
          finish_reason: null,
        },
      ],
      error: { message: "mid-stream" },
    });
    expect(read).toEqual({
      usage: { completion_tokens: 4 },
      choices: [
        {
          delta: { tool_calls: [{ index: 0, function: { name: "f", arguments: { a: 1 } } }] },
          logprobs: { content: [{ logprob: -0.5 }], token_logprobs: [-1] },
        },
      ],
      error: { message: "mid-stream" },
    });
    expect(answerBodySchema.parse({})).toEqual({});
  });
});
