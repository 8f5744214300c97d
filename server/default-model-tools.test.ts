import type OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLlamaBackend } from "../src/backends/llama/llama-backend.js";
import { resolveModel } from "../src/models/model-store.js";
import { startTestApp, type TestApp, weatherTool } from "./test-app.js";

const question: OpenAI.Chat.ChatCompletionMessageParam[] = [
  { role: "user", content: "What is the weather in Paris?" },
];
// Greedy and short: a call is about 16 tokens.
const body = { model: "default", messages: question, tools: [weatherTool], temperature: 0, max_tokens: 48 };

const cityOf = (call: OpenAI.Chat.ChatCompletionMessageToolCall | undefined): unknown =>
  call?.type === "function" ? (JSON.parse(call.function.arguments) as { city?: unknown }).city : undefined;

/**
 * The real default model (Qwen2.5-Coder-0.5B) behind the server: it writes a call as a bare JSON
 * object rather than in its template's <tool_call> syntax, and the client must still get tool_calls.
 */
describe("native tool calls from the real default model", { timeout: 240_000 }, () => {
  let app: TestApp;
  let client: OpenAI;

  beforeAll(async () => {
    // Downloaded once into the model cache (491 MB) when missing.
    const model = await resolveModel("default");
    // One thread: on a busy two-core machine llama.cpp's threads otherwise wait on each other.
    const backend = createLlamaBackend({
      modelPath: model.path,
      contextSize: 1024,
      parallelSequences: 1,
      maxThreads: 1,
    });
    app = await startTestApp({ models: { default: backend }, cache: { maxEntries: 10 } });
    client = app.client();
    client.timeout = 200_000;
  }, 600_000);
  afterAll(() => app?.close());

  it("returns the call it writes as text as tool_calls, content null; streamed the same from the cache", async () => {
    const completion = await client.chat.completions.create(body);
    const choice = completion.choices[0];
    expect(choice?.finish_reason).toBe("tool_calls");
    expect(choice?.message.content).toBeNull();
    expect(choice?.message.tool_calls).toHaveLength(1);
    const call = choice?.message.tool_calls?.[0];
    expect(call?.type === "function" && call.function.name).toBe("get_weather");
    expect(cityOf(call)).toBe("Paris");

    // The same greedy request again, streamed: answered from the cache, with no call text as content.
    const stream = await client.chat.completions.create({ ...body, stream: true });
    let content = "";
    const calls: { name?: string; arguments?: string }[] = [];
    let finish: string | null = null;
    for await (const chunk of stream) {
      const delta = chunk.choices[0]?.delta;
      content += delta?.content ?? "";
      for (const piece of delta?.tool_calls ?? []) calls.push(piece.function ?? {});
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(content).toBe("");
    expect(calls.map((c) => c.name)).toEqual(["get_weather"]);
    expect(finish).toBe("tool_calls");
  });

  it("with tool_choice required, decodes a well-formed call under a grammar", async () => {
    const completion = await client.chat.completions.create({ ...body, tool_choice: "required" });
    const choice = completion.choices[0];
    expect(choice?.finish_reason).toBe("tool_calls");
    expect(choice?.message.content).toBeNull();
    const call = choice?.message.tool_calls?.[0];
    expect(call?.type === "function" && call.function.name).toBe("get_weather");
    expect(typeof cityOf(call)).toBe("string");
  });
});
