import OpenAI from "openai";
import { afterEach, describe, expect, it } from "vitest";
import type { Backend, ToolSpec } from "../../core/backend.js";
import { UsageError } from "../../core/errors.js";
import { type ChatMessage, toolMessage, userMessage } from "../../core/message.js";
import {
  type OpenAICompatibleServer,
  startOpenAICompatibleServer,
} from "../../testing/openai-compatible-server.js";
import { createScriptedBackend, type ScriptedBackendOptions } from "../scripted/scripted-backend.js";
import { createOpenAIBackend, type OpenAIBackendOptions } from "./openai-backend.js";

type Json = Record<string, unknown>;

const WEATHER: ToolSpec = {
  name: "weather",
  description: "Current weather in a city.",
  parameters: {
    type: "object",
    properties: { city: { type: "string" }, unit: { enum: ["c", "f"] } },
    required: ["city", "unit"],
  },
};
const CLOCK: ToolSpec = {
  name: "clock",
  description: "The time.",
  parameters: { type: "object", properties: {} },
};
const ASK = [userMessage("Weather in Paris, and the time?")];
/** Long enough that the fake server streams them in several pieces. */
const PARIS = { city: "Paris, Île-de-France", unit: "c" };

const servers: OpenAICompatibleServer[] = [];
const backends: Backend[] = [];
afterEach(async () => {
  await Promise.all(backends.splice(0).map((b) => b.close()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function serve(scripted: ScriptedBackendOptions = {}) {
  const backend = createScriptedBackend({ model: "scripted-model", ...scripted });
  const server = await startOpenAICompatibleServer({ backend });
  servers.push(server);
  return { server, scripted: backend };
}

function openai(url: string, options: Partial<OpenAIBackendOptions> = {}): Backend {
  const backend = createOpenAIBackend({
    baseUrl: url,
    model: "scripted-model",
    retryBaseDelayMs: 1,
    ...options,
  });
  backends.push(backend);
  return backend;
}

/** Records each request's JSON body on its way to the real fetch. */
function spyFetch(): { fetch: typeof fetch; bodies: Json[] } {
  const bodies: Json[] = [];
  return {
    bodies,
    fetch: async (input, init) => {
      bodies.push(JSON.parse(String(init?.body)) as Json);
      return fetch(input, init);
    },
  };
}

describe("openai backend: native tools over loopback HTTP", () => {
  it("reports native tools unless told the server has none", () => {
    expect(openai("http://127.0.0.1:9").capabilities.tools).toBe(true);
    expect(openai("http://127.0.0.1:9", { tools: false }).capabilities.tools).toBe(false);
  });

  it("sends tools and tool_choice, and reads streamed tool calls (arguments in pieces)", async () => {
    const { server, scripted } = await serve({
      respond: [
        {
          text: "Checking.",
          toolCalls: [
            { name: "weather", arguments: PARIS, id: "call_w" },
            { name: "clock", id: "call_c" },
          ],
        },
      ],
    });
    const spy = spyFetch();
    const deltas: string[] = [];
    const result = await openai(server.url, { fetch: spy.fetch }).generate({
      messages: ASK,
      tools: [WEATHER, CLOCK],
      toolChoice: "required",
      onDelta: (d) => deltas.push(d.text),
    });

    expect(spy.bodies[0]?.tools).toEqual([
      {
        type: "function",
        function: { name: "weather", description: WEATHER.description, parameters: WEATHER.parameters },
      },
      {
        type: "function",
        function: { name: "clock", description: "The time.", parameters: CLOCK.parameters },
      },
    ]);
    expect(spy.bodies[0]?.tool_choice).toBe("required");
    expect(spy.bodies[0]?.stream).toBe(true);
    // The server side got them back as the same specs.
    expect(scripted.requests[0]?.tools).toEqual([WEATHER, CLOCK]);
    expect(scripted.requests[0]?.toolChoice).toBe("required");

    const [completion] = result.completions;
    expect(completion?.finishReason).toBe("tool_calls");
    expect(completion?.text).toBe("Checking.");
    expect(deltas.join("")).toBe("Checking.");
    expect(completion?.toolCalls).toEqual([
      { id: "call_w", name: "weather", arguments: JSON.stringify(PARIS) },
      { id: "call_c", name: "clock", arguments: "{}" },
    ]);
    expect(completion?.completionTokens).toBeGreaterThan(1);
  });

  it("sends a named tool_choice in OpenAI's shape and gets the forced call", async () => {
    const { server, scripted } = await serve();
    const spy = spyFetch();
    const result = await openai(server.url, { fetch: spy.fetch }).generate({
      messages: ASK,
      tools: [CLOCK, WEATHER],
      toolChoice: { name: "weather" },
    });
    expect(spy.bodies[0]?.tool_choice).toEqual({ type: "function", function: { name: "weather" } });
    expect(scripted.requests[0]?.toolChoice).toEqual({ name: "weather" });
    // The scripted default answers a forced call with the simplest valid arguments.
    const call = result.completions[0]?.toolCalls?.[0];
    expect(call?.name).toBe("weather");
    expect(JSON.parse(call?.arguments ?? "")).toEqual({ city: "x", unit: "c" });
  });

  it("reads a call the server passed on as text (a model writing JSON) as a tool call", async () => {
    // A server without a tool-call parser for its model sends the model's call back as content.
    const { server } = await serve({
      respond: [
        '<tool_call>\n{"name": "weather", "arguments": {"city": "Paris", "unit": "c"}}\n</tool_call>',
      ],
    });
    const deltas: string[] = [];
    const result = await openai(server.url).generate({
      messages: ASK,
      tools: [WEATHER, CLOCK],
      onDelta: (d) => deltas.push(d.text),
    });
    const [completion] = result.completions;
    expect(completion?.finishReason).toBe("tool_calls");
    expect(completion?.text).toBe("");
    expect(deltas.join("")).toBe("");
    expect(completion?.toolCalls).toEqual([
      { id: "call_1_0_0", name: "weather", arguments: JSON.stringify({ city: "Paris", unit: "c" }) },
    ]);
  });

  it("maps assistant tool calls and tool results to the wire and back", async () => {
    const { server, scripted } = await serve({ respond: ["It is 18 degrees."] });
    const spy = spyFetch();
    const history: ChatMessage[] = [
      ...ASK,
      {
        role: "assistant",
        content: "",
        toolCalls: [{ id: "call_1", name: "weather", arguments: '{"city":"Paris"}' }],
      },
      toolMessage("call_1", '{"temp": 18}', "weather"),
    ];
    const result = await openai(server.url, { fetch: spy.fetch }).generate({
      messages: history,
      tools: [WEATHER],
    });
    expect(result.completions[0]).toMatchObject({ text: "It is 18 degrees.", finishReason: "stop" });
    expect(result.completions[0]?.toolCalls).toBeUndefined();

    const wire = spy.bodies[0]?.messages as Json[];
    expect(wire[1]).toEqual({
      role: "assistant",
      content: null,
      tool_calls: [
        { id: "call_1", type: "function", function: { name: "weather", arguments: '{"city":"Paris"}' } },
      ],
    });
    // OpenAI's tool messages carry the call id and no name.
    expect(wire[2]).toEqual({ role: "tool", content: '{"temp": 18}', tool_call_id: "call_1" });
    expect(scripted.requests[0]?.messages?.slice(1)).toEqual([
      {
        role: "assistant",
        content: "",
        toolCalls: [{ id: "call_1", name: "weather", arguments: '{"city":"Paris"}' }],
      },
      { role: "tool", content: '{"temp": 18}', toolCallId: "call_1" },
    ]);
  });

  it("keeps each choice's tool calls apart with native n", async () => {
    const { server } = await serve({
      respond: ({ index }) => ({
        toolCalls: [{ name: "weather", arguments: { city: `city ${index}`, unit: "f" } }],
      }),
    });
    const result = await openai(server.url).generate({ messages: ASK, tools: [WEATHER], n: 3 });
    expect(result.usage.calls).toBe(1);
    expect(result.completions.map((c) => JSON.parse(c.toolCalls?.[0]?.arguments ?? "").city)).toEqual([
      "city 0",
      "city 1",
      "city 2",
    ]);
    expect(new Set(result.completions.map((c) => c.toolCalls?.[0]?.id)).size).toBe(3);
  });

  it("sends no tools when there are none, and refuses tools with a raw prompt", async () => {
    const { server } = await serve();
    const spy = spyFetch();
    const backend = openai(server.url, { fetch: spy.fetch });
    await backend.generate({ messages: ASK, toolChoice: "required" });
    expect(spy.bodies[0]).not.toHaveProperty("tools");
    expect(spy.bodies[0]).not.toHaveProperty("tool_choice");
    await expect(backend.generate({ prompt: "Once", tools: [CLOCK] })).rejects.toBeInstanceOf(UsageError);
  });
});

describe("openai backend: tool calls in whole (non-streamed) answers", () => {
  const answer =
    (message: Json, finish: string): typeof fetch =>
    async () =>
      new Response(
        JSON.stringify({
          model: "m",
          choices: [{ index: 0, message, finish_reason: finish }],
          usage: { prompt_tokens: 9, completion_tokens: 7 },
        }),
        { headers: { "content-type": "application/json" } },
      );

  it("reads message.tool_calls; a forced call finishing with stop is still a tool call", async () => {
    const fetch = answer(
      {
        role: "assistant",
        content: null,
        tool_calls: [
          {
            id: "a",
            type: "function",
            function: { name: "weather", arguments: '{"city":"Oslo","unit":"c"}' },
          },
          // Some servers (Ollama) send arguments as an object and leave out the id.
          { type: "function", function: { name: "clock", arguments: {} } },
        ],
      },
      "stop",
    );
    const result = await openai("http://127.0.0.1:9", { fetch }).generate({
      messages: ASK,
      tools: [WEATHER, CLOCK],
    });
    expect(result.completions[0]).toMatchObject({
      text: "",
      finishReason: "tool_calls",
      completionTokens: 7,
      toolCalls: [
        { id: "a", name: "weather", arguments: '{"city":"Oslo","unit":"c"}' },
        { id: "call_0_1", name: "clock", arguments: "{}" },
      ],
    });
  });

  it("maps the legacy function_call finish reason, and tool_calls without any call to stop", async () => {
    const legacy = await openai("http://127.0.0.1:9", {
      fetch: answer(
        {
          role: "assistant",
          content: "",
          tool_calls: [{ id: "x", function: { name: "clock", arguments: "" } }],
        },
        "function_call",
      ),
    }).generate({ messages: ASK, tools: [CLOCK] });
    expect(legacy.completions[0]?.finishReason).toBe("tool_calls");
    const empty = await openai("http://127.0.0.1:9", {
      fetch: answer({ role: "assistant", content: "hm" }, "tool_calls"),
    }).generate({ messages: ASK, tools: [CLOCK] });
    expect(empty.completions[0]).toMatchObject({ text: "hm", finishReason: "stop" });
    expect(empty.completions[0]?.toolCalls).toBeUndefined();
  });
});

describe("openai-compatible test server: tool calls seen by the official openai client", () => {
  const tools = [
    {
      type: "function" as const,
      function: { name: "weather", description: "", parameters: WEATHER.parameters },
    },
  ];

  it("answers whole and streamed requests with tool_calls the SDK understands", async () => {
    const { server, scripted } = await serve({
      respond: () => ({ toolCalls: [{ name: "weather", arguments: PARIS, id: "call_sdk" }] }),
    });
    const client = new OpenAI({ baseURL: server.url, apiKey: "test", maxRetries: 0 });
    const whole = await client.chat.completions.create({
      model: "scripted-model",
      messages: [{ role: "user", content: "Weather?" }],
      tools,
      tool_choice: { type: "function", function: { name: "weather" } },
    });
    expect(scripted.requests[0]?.toolChoice).toEqual({ name: "weather" });
    const choice = whole.choices[0];
    expect(choice?.finish_reason).toBe("tool_calls");
    expect(choice?.message.content).toBeNull();
    expect(choice?.message.tool_calls).toEqual([
      { id: "call_sdk", type: "function", function: { name: "weather", arguments: JSON.stringify(PARIS) } },
    ]);

    // The SDK's stream accumulator joins the argument pieces by index.
    const runner = client.chat.completions.stream({
      model: "scripted-model",
      messages: [{ role: "user", content: "Weather?" }],
      tools,
    });
    const final = await runner.finalChatCompletion();
    expect(final.choices[0]?.finish_reason).toBe("tool_calls");
    expect(final.choices[0]?.message.tool_calls?.[0]).toMatchObject({
      id: "call_sdk",
      function: { name: "weather", arguments: JSON.stringify(PARIS) },
    });

    // And a follow-up carrying the call and its result reaches the backend intact.
    await client.chat.completions.create({
      model: "scripted-model",
      messages: [
        { role: "user", content: "Weather?" },
        { role: "assistant", content: null, tool_calls: choice?.message.tool_calls ?? [] },
        { role: "tool", tool_call_id: "call_sdk", content: "18 C" },
      ],
      tools,
    });
    expect(scripted.requests.at(-1)?.messages?.slice(1)).toEqual([
      {
        role: "assistant",
        content: "",
        toolCalls: [{ id: "call_sdk", name: "weather", arguments: JSON.stringify(PARIS) }],
      },
      { role: "tool", content: "18 C", toolCallId: "call_sdk" },
    ]);
  });

  it("rejects malformed tools and tool_choice with 400", async () => {
    const { server } = await serve();
    const post = (body: Json) =>
      fetch(`${server.url}/chat/completions`, {
        method: "POST",
        body: JSON.stringify({ model: "m", messages: [{ role: "user", content: "x" }], ...body }),
      });
    expect((await post({ tools: [{ type: "function" }] })).status).toBe(400);
    expect((await post({ tools: "weather" })).status).toBe(400);
    expect((await post({ tools, tool_choice: "always" })).status).toBe(400);
    const badCall = await post({
      messages: [{ role: "assistant", content: null, tool_calls: [{ id: "c", function: { name: "w" } }] }],
    });
    expect(badCall.status).toBe(400);
  });

  it("can play a server without function calling: requests with tools get 400, others are served", async () => {
    const server = await startOpenAICompatibleServer({
      backend: createScriptedBackend({ respond: ["plain"] }),
      rejectTools: true,
    });
    servers.push(server);
    const post = (body: Json) =>
      fetch(`${server.url}/chat/completions`, {
        method: "POST",
        body: JSON.stringify({ model: "m", messages: [{ role: "user", content: "x" }], ...body }),
      });
    const refused = await post({ tools });
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({
      error: { message: "tools param requires --jinja flag", param: "tools" },
    });
    expect((await post({})).status).toBe(200);
    const backend = openai(server.url);
    await expect(backend.generate({ messages: ASK, tools: [WEATHER] })).rejects.toMatchObject({
      kind: "http",
      status: 400,
    });
  });
});
