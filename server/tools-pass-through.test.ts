import type OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOpenAIBackend } from "../src/backends/openai/openai-backend.js";
import {
  createScriptedBackend,
  type ScriptedBackend,
  type ScriptedResponder,
} from "../src/backends/scripted/scripted-backend.js";
import {
  type OpenAICompatibleServer,
  startOpenAICompatibleServer,
} from "../src/testing/openai-compatible-server.js";
import { startTestApp, type TestApp, weatherTool } from "./test-app.js";

const question: OpenAI.Chat.ChatCompletionMessageParam[] = [
  { role: "user", content: "How warm is it in Paris?" },
];

/** Calls get_weather until it has read a tool result, then answers from it. */
const weatherModel: ScriptedResponder = ({ request }) => {
  const last = request.messages?.at(-1);
  if (last?.role === "tool") return `It is ${last.content} in Paris.`;
  if (request.tools?.some((tool) => tool.name === "get_weather") && request.toolChoice !== "none") {
    return { toolCalls: [{ name: "get_weather", arguments: { city: "Paris" }, id: "call_weather_1" }] };
  }
  return "I cannot look that up.";
};

describe("client tools pass through direct to the model (official openai client)", () => {
  let model: ScriptedBackend;
  let upstream: OpenAICompatibleServer;
  let app: TestApp;
  let client: OpenAI;

  beforeAll(async () => {
    model = createScriptedBackend({ model: "tool-model", respond: weatherModel, tools: true });
    // The same model again behind HTTP: tools travel client → server → openai backend → upstream.
    upstream = await startOpenAICompatibleServer({
      backend: createScriptedBackend({ model: "tool-model", respond: weatherModel, tools: true }),
    });
    app = await startTestApp({
      models: {
        default: model,
        remote: createOpenAIBackend({ baseUrl: upstream.url, model: "tool-model", maxRetries: 0 }),
      },
    });
    client = app.client();
  });
  afterAll(async () => {
    await app?.close();
    await upstream?.close();
  });

  it("returns the model's calls as message.tool_calls with finish_reason tool_calls", async () => {
    for (const name of ["default", "direct/default", "remote"]) {
      const completion = await client.chat.completions.create({
        model: name,
        messages: question,
        tools: [weatherTool],
      });
      const choice = completion.choices[0];
      expect(choice?.finish_reason, name).toBe("tool_calls");
      expect(choice?.message.content).toBeNull();
      expect(choice?.message.tool_calls).toEqual([
        {
          id: "call_weather_1",
          type: "function",
          function: { name: "get_weather", arguments: JSON.stringify({ city: "Paris" }) },
        },
      ]);
    }
    const sent = model.requests.at(-1);
    expect(sent?.tools).toEqual([
      {
        name: "get_weather",
        description: "Current weather in a city",
        parameters: weatherTool.function.parameters,
      },
    ]);
  });

  it("takes the assistant's tool_calls and the tool results back as history", async () => {
    const first = await client.chat.completions.create({
      model: "default",
      messages: question,
      tools: [weatherTool],
    });
    const call = first.choices[0]?.message
      .tool_calls?.[0] as OpenAI.Chat.ChatCompletionMessageFunctionToolCall;
    // The conversation so far: the question, the model's call, and the call's result.
    const answered: OpenAI.Chat.ChatCompletionMessageParam[] = [
      ...question,
      first.choices[0]?.message as OpenAI.Chat.ChatCompletionMessageParam,
      { role: "tool", tool_call_id: call.id, content: "18 °C" },
    ];
    const followUp = await client.chat.completions.create({
      model: "remote",
      messages: answered,
      tools: [weatherTool],
    });
    expect(followUp.choices[0]?.message.content).toBe("It is 18 °C in Paris.");
    expect(followUp.choices[0]?.finish_reason).toBe("stop");
    expect(followUp.choices[0]?.message.tool_calls).toBeUndefined();

    await client.chat.completions.create({
      model: "default",
      messages: answered,
      tools: [weatherTool],
    });
    const history = model.requests.at(-1)?.messages;
    expect(history?.[1]).toMatchObject({
      role: "assistant",
      content: "",
      toolCalls: [{ id: "call_weather_1", name: "get_weather", arguments: '{"city":"Paris"}' }],
    });
    expect(history?.[2]).toMatchObject({ role: "tool", toolCallId: "call_weather_1", content: "18 °C" });
  });

  it("streams the calls as tool_calls deltas the SDK's stream helper assembles", async () => {
    for (const name of ["default", "remote"]) {
      const stream = client.chat.completions.stream({
        model: name,
        messages: question,
        tools: [weatherTool],
      });
      const final = await stream.finalChatCompletion();
      const choice = final.choices[0];
      expect(choice?.finish_reason, name).toBe("tool_calls");
      expect(choice?.message.tool_calls?.[0]).toMatchObject({
        id: "call_weather_1",
        type: "function",
        function: { name: "get_weather", arguments: '{"city":"Paris"}' },
      });
    }
  });

  it("passes tool_choice on, and serves a repeated deterministic call from the cache with its calls", async () => {
    await client.chat.completions.create({
      model: "default",
      messages: question,
      tools: [weatherTool],
      tool_choice: { type: "function", function: { name: "get_weather" } },
    });
    expect(model.requests.at(-1)?.toolChoice).toEqual({ name: "get_weather" });
    const none = await client.chat.completions.create({
      model: "default",
      messages: question,
      tools: [weatherTool],
      tool_choice: "none",
    });
    expect(none.choices[0]?.message.content).toBe("I cannot look that up.");

    const calls = model.requests.length;
    const body = { model: "default", messages: question, tools: [weatherTool], temperature: 0 };
    await client.chat.completions.create(body);
    const cached = await client.chat.completions.create(body);
    expect(model.requests.length).toBe(calls + 1);
    expect(cached.choices[0]?.finish_reason).toBe("tool_calls");
    expect(cached.choices[0]?.message.tool_calls?.[0]?.id).toBe("call_weather_1");
  });

  it("refuses tools with other strategies, a tool_choice naming no tool, and duplicate functions", async () => {
    const refuse = async (body: Record<string, unknown>, param: string) => {
      const response = await app.fetch("/v1/chat/completions", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ messages: question, tools: [weatherTool], ...body }),
      });
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(((await response.json()) as { error: { param: string } }).error.param).toBe(param);
    };
    await refuse({ model: "cot/default" }, "tools");
    await refuse({ model: "sc-4/default" }, "tools");
    await refuse(
      { model: "default", tool_choice: { type: "function", function: { name: "nope" } } },
      "tool_choice",
    );
    await refuse({ model: "default", tools: [weatherTool, weatherTool] }, "tools[1].function.name");
    await refuse({ model: "default", response_format: { type: "json_object" } }, "response_format");
  });
});
