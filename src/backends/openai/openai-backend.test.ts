import { createServer } from "node:net";
import OpenAI from "openai";
import { afterEach, describe, expect, it } from "vitest";
import type { Backend, GenerateRequest } from "../../core/backend.js";
import { AbortedError, BackendError, UsageError } from "../../core/errors.js";
import { userMessage } from "../../core/message.js";
import { priceOf } from "../../core/usage.js";
import { describeBackendConformance } from "../../testing/backend-conformance.js";
import {
  type OpenAICompatibleServer,
  type OpenAICompatibleServerOptions,
  startOpenAICompatibleServer,
} from "../../testing/openai-compatible-server.js";
import { createScriptedBackend, type ScriptedBackend } from "../scripted/scripted-backend.js";
import { createOpenAIBackend, type OpenAIBackendOptions } from "./openai-backend.js";
import { normaliseBaseUrl } from "./request-body.js";

type Json = Record<string, unknown>;

const HELLO = [userMessage("Say something about rivers.")];

const openServers: OpenAICompatibleServer[] = [];
const openBackends: Backend[] = [];
afterEach(async () => {
  await Promise.all(openBackends.splice(0).map((b) => b.close()));
  await Promise.all(openServers.splice(0).map((s) => s.close()));
});

async function serve(
  options: Partial<OpenAICompatibleServerOptions> & { scripted?: ScriptedBackend } = {},
): Promise<{ server: OpenAICompatibleServer; scripted: ScriptedBackend }> {
  const scripted = options.scripted ?? createScriptedBackend({ model: "scripted-model" });
  const server = await startOpenAICompatibleServer({ ...options, backend: scripted });
  openServers.push(server);
  return { server, scripted };
}

/** Records every request's URL and JSON body on its way to the real fetch. */
function spyFetch(): { fetch: typeof fetch; calls: { url: string; body: Json }[] } {
  const calls: { url: string; body: Json }[] = [];
  const spy: typeof fetch = async (input, init) => {
    calls.push({ url: String(input), body: JSON.parse(String(init?.body)) as Json });
    return fetch(input, init);
  };
  return { fetch: spy, calls };
}

function backendFor(url: string, options: Partial<OpenAIBackendOptions> = {}): Backend {
  const backend = createOpenAIBackend({
    baseUrl: url,
    model: "scripted-model",
    retryBaseDelayMs: 1,
    retryMaxDelayMs: 5,
    ...options,
  });
  openBackends.push(backend);
  return backend;
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection");
}

/** A port nothing listens on: bind one, then free it. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const address = probe.address();
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

describe("openai backend: n", () => {
  it("asks for n natively when the server honours it", async () => {
    const { server } = await serve();
    const spy = spyFetch();
    const backend = backendFor(server.url, { fetch: spy.fetch });
    const result = await backend.generate({ messages: HELLO, n: 3, temperature: 0.9, seed: 5 });
    expect(server.requests).toBe(1);
    expect(spy.calls[0]?.body.n).toBe(3);
    expect(result.completions.map((c) => c.index)).toEqual([0, 1, 2]);
    expect(new Set(result.completions.map((c) => c.text)).size).toBe(3);
    expect(result.usage.calls).toBe(1);
    const sum = result.completions.reduce((s, c) => s + c.completionTokens, 0);
    expect(result.usage.completionTokens).toBe(sum);
    expect(sum).toBeGreaterThan(0);
  });

  it("fills in with seeded single requests when the server ignores n, and remembers", async () => {
    const native = await serve();
    const expected = await backendFor(native.server.url).generate({
      messages: HELLO,
      n: 3,
      temperature: 0.9,
      seed: 5,
    });

    const { server } = await serve({ ignoreN: true });
    const spy = spyFetch();
    const backend = backendFor(server.url, { fetch: spy.fetch });
    const first = await backend.generate({ messages: HELLO, n: 3, temperature: 0.9, seed: 5 });
    // Completion i is the same text whether the server did n natively or we sent seed + i.
    expect(first.completions.map((c) => c.text)).toEqual(expected.completions.map((c) => c.text));
    expect(first.completions.map((c) => c.index)).toEqual([0, 1, 2]);
    expect(server.requests).toBe(3);
    expect(spy.calls.map((c) => [c.body.n, c.body.seed])).toEqual([
      [3, 5],
      [undefined, 6],
      [undefined, 7],
    ]);
    expect(first.usage.calls).toBe(3);
    // The prompt is the same in every request of the call: counted once.
    expect(first.usage.promptTokens).toBe(expected.usage.promptTokens);
    expect(first.usage.completionTokens).toBe(expected.usage.completionTokens);

    const second = await backend.generate({ messages: HELLO, n: 2, temperature: 0.9, seed: 5 });
    expect(second.completions).toHaveLength(2);
    expect(spy.calls.slice(3).map((c) => c.body.n)).toEqual([undefined, undefined]);
    expect(server.requests).toBe(5);
  });

  it("splits n when the server rejects it with 400, in auto mode", async () => {
    const { server } = await serve({
      faults: { byRequest: { 1: { type: "status", status: 400, message: "n must be 1" } } },
    });
    const spy = spyFetch();
    const backend = backendFor(server.url, { fetch: spy.fetch });
    const result = await backend.generate({ messages: HELLO, n: 2, temperature: 1, seed: 1 });
    expect(result.completions.map((c) => c.index)).toEqual([0, 1]);
    expect(spy.calls.map((c) => c.body.n)).toEqual([2, undefined, undefined]);
    await backend.generate({ messages: HELLO, n: 2, temperature: 1, seed: 1 });
    expect(spy.calls.slice(3).map((c) => c.body.n)).toEqual([undefined, undefined]);
  });

  it("never sends n with nativeN false, and always tries it with nativeN true", async () => {
    const { server } = await serve({ ignoreN: true });
    const never = spyFetch();
    await backendFor(server.url, { fetch: never.fetch, nativeN: false }).generate({ messages: HELLO, n: 2 });
    expect(never.calls.map((c) => c.body.n)).toEqual([undefined, undefined]);

    const always = spyFetch();
    const backend = backendFor(server.url, { fetch: always.fetch, nativeN: true });
    await backend.generate({ messages: HELLO, n: 2 });
    await backend.generate({ messages: HELLO, n: 2 });
    expect(always.calls.map((c) => c.body.n)).toEqual([2, undefined, 2, undefined]);
  });

  it("keeps at most maxParallel single requests in flight", async () => {
    const { server } = await serve({ ignoreN: true });
    let inFlight = 0;
    let peak = 0;
    const counting: typeof fetch = async (input, init) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      try {
        const response = await fetch(input, init);
        // Count until the body is read, as the backend holds the request open while streaming.
        const body = await response.text();
        return new Response(body, { status: response.status, headers: response.headers });
      } finally {
        inFlight--;
      }
    };
    const backend = backendFor(server.url, { fetch: counting, nativeN: false, maxParallel: 2 });
    const result = await backend.generate({ messages: HELLO, n: 6, temperature: 1, seed: 3 });
    expect(result.completions).toHaveLength(6);
    expect(peak).toBe(2);
  });

  it("rejects a non-positive n and a request with both or neither of messages and prompt", async () => {
    const backend = backendFor("http://127.0.0.1:9");
    await expect(backend.generate({ messages: HELLO, n: 0 })).rejects.toBeInstanceOf(UsageError);
    await expect(backend.generate({})).rejects.toBeInstanceOf(UsageError);
    await expect(backend.generate({ messages: HELLO, prompt: "x" })).rejects.toBeInstanceOf(UsageError);
  });
});

describe("openai backend: generation", () => {
  it("streams deltas that concatenate to each completion's final text", async () => {
    const { server } = await serve();
    const spy = spyFetch();
    const streamed = new Map<number, string[]>();
    const result = await backendFor(server.url, { fetch: spy.fetch }).generate({
      messages: HELLO,
      n: 2,
      temperature: 0.7,
      seed: 2,
      onDelta: ({ index, text }) => streamed.set(index, [...(streamed.get(index) ?? []), text]),
    });
    expect(spy.calls[0]?.body.stream).toBe(true);
    expect(spy.calls[0]?.body.stream_options).toEqual({ include_usage: true });
    for (const completion of result.completions) {
      const pieces = streamed.get(completion.index) ?? [];
      expect(pieces.length).toBeGreaterThan(1);
      expect(pieces.join("")).toBe(completion.text);
    }
    expect(result.model).toBe("scripted-model");
  });

  it("reproduces sampled completions from the same seed, and varies with another seed", async () => {
    const { server } = await serve();
    const backend = backendFor(server.url);
    const request: GenerateRequest = { messages: HELLO, n: 2, temperature: 1, seed: 42 };
    const a = await backend.generate(request);
    const b = await backend.generate(request);
    const c = await backend.generate({ ...request, seed: 43 });
    expect(b.completions.map((x) => x.text)).toEqual(a.completions.map((x) => x.text));
    expect(c.completions.map((x) => x.text)).not.toEqual(a.completions.map((x) => x.text));
    // seed 43's first completion is seed 42's second: completion i uses seed + i.
    expect(c.completions[0]?.text).toBe(a.completions[1]?.text);
  });

  it("passes sampling parameters, stop and maxTokens through", async () => {
    const { server, scripted } = await serve();
    const spy = spyFetch();
    const backend = backendFor(server.url, { fetch: spy.fetch });
    const full = (await backend.generate({ messages: HELLO, temperature: 0 })).completions[0]?.text ?? "";
    const stop = full.split(" ")[3] ?? "";
    expect(stop.length).toBeGreaterThan(0);

    const cut = await backend.generate({
      messages: HELLO,
      temperature: 0,
      topP: 0.9,
      topK: 40,
      seed: 9,
      stop: [stop],
      maxTokens: 50,
    });
    expect(spy.calls[1]?.body).toMatchObject({
      temperature: 0,
      top_p: 0.9,
      top_k: 40,
      seed: 9,
      stop: [stop],
    });
    expect(spy.calls[1]?.body.max_tokens).toBe(50);
    expect(scripted.requests.at(-1)).toMatchObject({
      temperature: 0,
      topP: 0.9,
      topK: 40,
      seed: 9,
      stop: [stop],
    });
    expect(scripted.requests.at(-1)?.maxTokens).toBe(50);
    expect(cut.completions[0]?.text).toBe(full.slice(0, full.indexOf(stop)));
    expect(cut.completions[0]?.finishReason).toBe("stop");

    const short = await backend.generate({ messages: HELLO, maxTokens: 3 });
    expect(short.completions[0]?.finishReason).toBe("length");
    expect(short.completions[0]?.completionTokens).toBe(3);
    expect(short.usage.completionTokens).toBe(3);
  });

  it("leaves out parameters that were not set", async () => {
    const { server } = await serve();
    const spy = spyFetch();
    await backendFor(server.url, { fetch: spy.fetch }).generate({ messages: HELLO });
    const body = spy.calls[0]?.body ?? {};
    for (const key of ["n", "temperature", "top_p", "top_k", "seed", "max_tokens", "stop", "logprobs"]) {
      expect(body).not.toHaveProperty(key);
    }
    expect(body.model).toBe("scripted-model");
  });

  it("turns logprobs into per-token confidences only when asked", async () => {
    const scripted = createScriptedBackend({
      respond: [{ text: "one two three", confidences: [0.9, 0.5, 0.25] }],
    });
    const { server } = await serve({ scripted });
    const spy = spyFetch();
    const backend = backendFor(server.url, { fetch: spy.fetch });
    const withConfidence = await backend.generate({ messages: HELLO, confidence: true });
    expect(spy.calls[0]?.body.logprobs).toBe(true);
    const confidences = withConfidence.completions[0]?.tokenConfidences ?? [];
    expect(confidences).toHaveLength(3);
    [0.9, 0.5, 0.25].forEach((p, i) => {
      expect(confidences[i]).toBeCloseTo(p, 10);
    });
    expect(withConfidence.completions[0]?.completionTokens).toBe(3);

    const without = await backend.generate({ messages: HELLO });
    expect(spy.calls[1]?.body).not.toHaveProperty("logprobs");
    expect(without.completions[0]?.tokenConfidences).toBeUndefined();
  });

  it("sends a JSON schema as response_format json_schema", async () => {
    const { server, scripted } = await serve();
    const spy = spyFetch();
    const schema = {
      type: "object",
      properties: { answer: { enum: ["yes", "no"] } },
      required: ["answer"],
      additionalProperties: false,
    };
    const result = await backendFor(server.url, { fetch: spy.fetch }).generate({
      messages: HELLO,
      jsonSchema: schema,
    });
    expect(spy.calls[0]?.body.response_format).toEqual({
      type: "json_schema",
      json_schema: { name: "output", schema, strict: true },
    });
    expect(scripted.requests.at(-1)?.jsonSchema).toEqual(schema);
    expect(JSON.parse(result.completions[0]?.text ?? "")).toEqual({ answer: "yes" });
  });

  it("sends a raw prompt to /v1/completions, with legacy logprobs", async () => {
    const { server, scripted } = await serve();
    const spy = spyFetch();
    const streamed: string[] = [];
    const result = await backendFor(server.url, { fetch: spy.fetch }).generate({
      prompt: "Once upon a time",
      confidence: true,
      maxTokens: 5,
      onDelta: ({ text }) => streamed.push(text),
    });
    expect(spy.calls[0]?.url).toBe(`${server.url}/completions`);
    expect(spy.calls[0]?.body.prompt).toBe("Once upon a time");
    expect(spy.calls[0]?.body.logprobs).toBe(1);
    expect(spy.calls[0]?.body).not.toHaveProperty("messages");
    expect(scripted.requests.at(-1)?.prompt).toBe("Once upon a time");
    const [completion] = result.completions;
    expect(completion?.text.length).toBeGreaterThan(0);
    expect(streamed.join("")).toBe(completion?.text);
    expect(completion?.tokenConfidences).toHaveLength(5);
    expect(completion?.finishReason).toBe("length");
  });

  it("accepts a baseUrl with or without /v1 and trailing slashes", async () => {
    const { server } = await serve();
    const root = server.url.replace(/\/v1$/, "");
    for (const baseUrl of [root, `${root}/`, server.url, `${server.url}/`]) {
      const result = await backendFor(baseUrl).generate({ messages: HELLO, maxTokens: 2 });
      expect(result.completions[0]?.completionTokens).toBe(2);
    }
    expect(normaliseBaseUrl("http://h:1")).toBe("http://h:1/v1");
    expect(normaliseBaseUrl("https://h/openai/v1/")).toBe("https://h/openai/v1");
    expect(normaliseBaseUrl("https://h/api")).toBe("https://h/api/v1");
    expect(() => normaliseBaseUrl("not a url")).toThrow(UsageError);
  });

  it("reports usage: prompt tokens from the server, calls, wall time and cost", async () => {
    const { server } = await serve();
    const pricing = { inputPerMTok: 2, outputPerMTok: 8 };
    const result = await backendFor(server.url, { pricing }).generate({ messages: HELLO, maxTokens: 4 });
    expect(result.usage.promptTokens).toBeGreaterThan(0);
    expect(result.completions[0]?.promptTokens).toBe(result.usage.promptTokens);
    expect(result.usage.completionTokens).toBe(4);
    expect(result.usage.calls).toBe(1);
    expect(result.usage.wallMs).toBeGreaterThanOrEqual(0);
    expect(result.usage.costUsd).toBeGreaterThan(0);
    expect(result.usage.costUsd).toBe(priceOf(pricing, result.usage.promptTokens, 4));
  });

  it("estimates completion tokens from stream chunks when the server sends no usage", async () => {
    const { server } = await serve({ omitStreamUsage: true });
    const result = await backendFor(server.url).generate({ messages: HELLO, maxTokens: 6 });
    expect(result.completions[0]?.completionTokens).toBe(6);
    expect(result.usage.completionTokens).toBe(6);
    expect(result.usage.promptTokens).toBe(0);
  });

  it("sends the API key and extra headers", async () => {
    const { server } = await serve();
    const seen: Headers[] = [];
    const spy: typeof fetch = async (input, init) => {
      seen.push(new Headers(init?.headers));
      return fetch(input, init);
    };
    await backendFor(server.url, { fetch: spy, apiKey: "sk-test", headers: { "x-team": "blue" } }).generate({
      messages: HELLO,
    });
    expect(seen[0]?.get("authorization")).toBe("Bearer sk-test");
    expect(seen[0]?.get("x-team")).toBe("blue");
  });
});

describe("openai backend: failures", () => {
  it("retries 429, 500 and 503, honouring Retry-After, then succeeds", async () => {
    const { server } = await serve({
      faults: {
        byRequest: {
          1: { type: "status", status: 429, retryAfterMs: 80, retryAfterSeconds: 1 },
          2: { type: "status", status: 500 },
          3: { type: "status", status: 503 },
        },
      },
    });
    const started = performance.now();
    const result = await backendFor(server.url).generate({ messages: HELLO, maxTokens: 3 });
    expect(result.completions[0]?.completionTokens).toBe(3);
    expect(server.requests).toBe(4);
    expect(result.usage.calls).toBe(1);
    // Backoff alone is at most 5 ms per retry here; the 80 ms came from retry-after-ms.
    expect(performance.now() - started).toBeGreaterThanOrEqual(75);
  });

  it("gives up after maxRetries with the last HTTP error", async () => {
    const { server } = await serve({
      faults: { first: { count: 10, fault: { type: "status", status: 503, message: "overloaded" } } },
    });
    const error = await rejection(backendFor(server.url, { maxRetries: 2 }).generate({ messages: HELLO }));
    expect(error).toBeInstanceOf(BackendError);
    expect(error).toMatchObject({ kind: "http", status: 503, message: "503 overloaded", retryable: true });
    expect(server.requests).toBe(3);
  });

  it("retries a request that times out", async () => {
    const { server } = await serve({ faults: { byRequest: { 1: { type: "delay", ms: 5_000 } } } });
    const started = performance.now();
    const result = await backendFor(server.url, { timeoutMs: 150 }).generate({
      messages: HELLO,
      maxTokens: 2,
    });
    expect(result.completions[0]?.completionTokens).toBe(2);
    expect(server.requests).toBe(2);
    expect(performance.now() - started).toBeLessThan(3_000);
  });

  it("reports a timeout once retries are spent", async () => {
    const { server } = await serve({ faults: { first: { count: 10, fault: { type: "delay", ms: 5_000 } } } });
    const error = await rejection(
      backendFor(server.url, { timeoutMs: 60, maxRetries: 1 }).generate({ messages: HELLO }),
    );
    expect(error).toMatchObject({ kind: "timeout" });
    expect((error as Error).message).toContain("within 60 ms");
    expect(server.requests).toBe(2);
  });

  it("retries malformed JSON, streamed or whole, and reports it when it persists", async () => {
    const { server } = await serve({ faults: { byRequest: { 1: { type: "malformed" } } } });
    const result = await backendFor(server.url).generate({ messages: HELLO, maxTokens: 2 });
    expect(result.completions[0]?.completionTokens).toBe(2);
    expect(server.requests).toBe(2);

    const broken = await serve({ faults: { first: { count: 10, fault: { type: "malformed" } } } });
    const error = await rejection(
      backendFor(broken.server.url, { maxRetries: 1 }).generate({ messages: HELLO }),
    );
    expect(error).toBeInstanceOf(BackendError);
    expect(error).toMatchObject({ kind: "invalid_response" });
    expect((error as Error).message).toContain("malformed JSON");
  });

  it("parses a whole (non-streamed) JSON answer and rejects a malformed one", async () => {
    const whole: typeof fetch = async () =>
      Response.json({
        model: "m",
        choices: [{ index: 0, message: { content: "hi there" }, finish_reason: "length" }],
        usage: { prompt_tokens: 7, completion_tokens: 2 },
      });
    const result = await backendFor("http://127.0.0.1:9", { fetch: whole }).generate({ messages: HELLO });
    expect(result.completions[0]).toMatchObject({
      text: "hi there",
      finishReason: "length",
      completionTokens: 2,
    });
    expect(result.usage.promptTokens).toBe(7);

    let calls = 0;
    const malformed: typeof fetch = async () => {
      calls++;
      return new Response("{oops", { headers: { "content-type": "application/json" } });
    };
    const error = await rejection(
      backendFor("http://127.0.0.1:9", { fetch: malformed, maxRetries: 2 }).generate({ messages: HELLO }),
    );
    expect(error).toMatchObject({ kind: "invalid_response" });
    expect(calls).toBe(3);
  });

  it("retries a stream that drops before [DONE]", async () => {
    const clean = await serve();
    const expected = await backendFor(clean.server.url).generate({ messages: HELLO, temperature: 0 });

    const { server } = await serve({ faults: { byRequest: { 1: { type: "drop", afterChunks: 3 } } } });
    const deltas: string[] = [];
    const result = await backendFor(server.url).generate({
      messages: HELLO,
      temperature: 0,
      onDelta: ({ text }) => deltas.push(text),
    });
    expect(result.completions[0]?.text).toBe(expected.completions[0]?.text);
    // The retry replays the three chunks already streamed; they are not passed on twice.
    expect(deltas.join("")).toBe(result.completions[0]?.text);
    expect(server.requests).toBe(2);
    expect(result.usage.calls).toBe(1);
  });

  it("reports a stream that keeps dropping as invalid_response", async () => {
    const { server } = await serve({
      faults: { first: { count: 10, fault: { type: "drop", afterChunks: 1 } } },
    });
    const error = await rejection(backendFor(server.url, { maxRetries: 1 }).generate({ messages: HELLO }));
    expect(error).toMatchObject({ kind: "invalid_response", retryable: true });
    expect(server.requests).toBe(2);
  });

  it("fails at once on a non-retryable 4xx, with the server's message", async () => {
    const { server } = await serve({
      faults: { byRequest: { 1: { type: "status", status: 404, message: "model 'nope' not found" } } },
    });
    const error = await rejection(backendFor(server.url).generate({ messages: HELLO }));
    expect(error).toBeInstanceOf(BackendError);
    expect(error).toMatchObject({ kind: "http", status: 404, message: "404 model 'nope' not found" });
    expect(server.requests).toBe(1);
  });

  it("surfaces the server's own 400 for a bad request body", async () => {
    const { server } = await serve();
    const bad = [{ role: "robot", content: "hi" }] as unknown as GenerateRequest["messages"];
    const error = await rejection(backendFor(server.url).generate({ messages: bad }));
    expect(error).toMatchObject({ kind: "http", status: 400, retryable: false });
    expect((error as Error).message).toBe(
      "400 'messages[0].role' must be one of system, user, assistant, tool",
    );
    expect(server.requests).toBe(1);
  });

  it("gets a proper status when the backend fails before streaming, an error event when during", async () => {
    const before = createScriptedBackend({ respond: [new Error("model crashed")] });
    const early = await serve({ scripted: before });
    const earlyError = await rejection(
      backendFor(early.server.url, { maxRetries: 0 }).generate({ messages: HELLO }),
    );
    expect(earlyError).toMatchObject({
      kind: "http",
      status: 500,
      message: "500 backend failed: model crashed",
    });

    // Completion 0 streams, then completion 1 fails: the error arrives inside the 200 stream.
    const during = createScriptedBackend({
      respond: ({ index }) => (index === 0 ? "fine so far" : new Error("ran out of memory")),
    });
    const late = await serve({ scripted: during });
    const lateError = await rejection(
      backendFor(late.server.url, { maxRetries: 1 }).generate({ messages: HELLO, n: 2 }),
    );
    expect(lateError).toMatchObject({
      kind: "http",
      status: 500,
      message: "500 backend failed: ran out of memory",
      retryable: true,
    });
    expect(late.server.requests).toBe(2);

    const openai = new OpenAI({ baseURL: late.server.url, apiKey: "test", maxRetries: 0 });
    const stream = await openai.chat.completions.create({
      model: "scripted-model",
      messages: [{ role: "user", content: "x" }],
      n: 2,
      stream: true,
    });
    const consume = async (): Promise<void> => {
      for await (const _chunk of stream) {
        // drain
      }
    };
    const sdkError = await rejection(consume());
    expect(sdkError).toBeInstanceOf(OpenAI.APIError);
    expect((sdkError as Error).message).toContain("ran out of memory");
  });

  it("reports an endpoint nobody listens on as unreachable", async () => {
    const port = await closedPort();
    const error = await rejection(
      backendFor(`http://127.0.0.1:${port}`, { maxRetries: 2 }).generate({ messages: HELLO }),
    );
    expect(error).toBeInstanceOf(BackendError);
    expect(error).toMatchObject({ kind: "unreachable" });
    expect((error as Error).message).toMatch(
      new RegExp(`^cannot reach http://127\\.0\\.0\\.1:${port}/v1: .*ECONNREFUSED`),
    );
  });

  it("rejects with AbortedError, without retrying, when the caller aborts", async () => {
    const { server } = await serve({ faults: { first: { count: 10, fault: { type: "delay", ms: 5_000 } } } });
    const backend = backendFor(server.url);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 30);
    const started = performance.now();
    await expect(backend.generate({ messages: HELLO, signal: controller.signal })).rejects.toBeInstanceOf(
      AbortedError,
    );
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(server.requests).toBe(1);

    await expect(backend.generate({ messages: HELLO, signal: AbortSignal.abort() })).rejects.toBeInstanceOf(
      AbortedError,
    );
    expect(server.requests).toBe(1);
  });

  it("aborts mid-stream and across parallel requests", async () => {
    const scripted = createScriptedBackend({ tokenDelayMs: 5 });
    const { server } = await serve({ scripted, ignoreN: true });
    const backend = backendFor(server.url, { nativeN: false });
    const controller = new AbortController();
    let deltas = 0;
    const pending = backend.generate({
      messages: HELLO,
      n: 3,
      temperature: 1,
      seed: 1,
      signal: controller.signal,
      onDelta: () => {
        if (++deltas === 2) controller.abort();
      },
    });
    await expect(pending).rejects.toBeInstanceOf(AbortedError);
    expect(deltas).toBe(2);
    // Still usable afterwards.
    expect((await backend.generate({ messages: HELLO, maxTokens: 2 })).completions).toHaveLength(1);
  });

  it("passes on no delta after an abort, even from text already received", async () => {
    // Without a token delay the whole answer arrives in one read.
    const { server } = await serve();
    const controller = new AbortController();
    const deltas: string[] = [];
    const pending = backendFor(server.url).generate({
      messages: HELLO,
      signal: controller.signal,
      onDelta: ({ text }) => {
        deltas.push(text);
        controller.abort();
      },
    });
    await expect(pending).rejects.toBeInstanceOf(AbortedError);
    expect(deltas).toHaveLength(1);
  });

  it("closes idempotently, aborting calls in flight and refusing new ones", async () => {
    const { server } = await serve({ faults: { first: { count: 1, fault: { type: "delay", ms: 5_000 } } } });
    const backend = backendFor(server.url);
    const pending = backend.generate({ messages: HELLO });
    await new Promise((resolve) => setTimeout(resolve, 20));
    await backend.close();
    await backend.close();
    await expect(pending).rejects.toBeInstanceOf(AbortedError);
    await expect(backend.generate({ messages: HELLO })).rejects.toBeInstanceOf(BackendError);
  });
});

describe("openai backend: wire parsing", () => {
  /** Serves `text` as an SSE body cut into pieces of the given sizes (in bytes, cycling). */
  function sseFetch(text: string, sizes: number[]): typeof fetch {
    return async () => {
      const bytes = new TextEncoder().encode(text);
      const pieces: Uint8Array[] = [];
      for (let at = 0, i = 0; at < bytes.length; i++) {
        const size = sizes[i % sizes.length] ?? 1;
        pieces.push(bytes.slice(at, at + size));
        at += size;
      }
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          const piece = pieces.shift();
          if (piece) controller.enqueue(piece);
          else controller.close();
        },
      });
      return new Response(body, { headers: { "content-type": "text/event-stream" } });
    };
  }

  const chunk = (content: string, finish: string | null = null) =>
    JSON.stringify({ model: "m", choices: [{ index: 0, delta: { content }, finish_reason: finish }] });
  const stream = [
    ": keep-alive comment\r\n\r\n",
    `data: ${chunk("Grüße, ")}\r\n\r\n`,
    // One event's data may span several data: lines, joined with newlines.
    'event: message\ndata: {"model": "m",\n',
    'data: "choices": [{"index": 0, "delta": {"content": "🌊 "}}]}\n\n',
    `data:${chunk("river")}\r\r`,
    `data: ${chunk("", "tool_calls")}\n\n`,
    "data: [DONE]\n\n",
  ].join("");

  it.each([[[1]], [[2, 3]], [[7]], [[1000]]])("parses SSE split into pieces of %j bytes", async (sizes) => {
    const deltas: string[] = [];
    const result = await backendFor("http://127.0.0.1:9", { fetch: sseFetch(stream, sizes) }).generate({
      messages: HELLO,
      onDelta: ({ text }) => deltas.push(text),
    });
    expect(result.completions[0]?.text).toBe("Grüße, 🌊 river");
    expect(deltas).toEqual(["Grüße, ", "🌊 ", "river"]);
    // Unknown finish reasons map to stop.
    expect(result.completions[0]?.finishReason).toBe("stop");
    // No usage in the stream: completion tokens are estimated as content chunks.
    expect(result.completions[0]?.completionTokens).toBe(3);
    expect(result.usage.calls).toBe(1);
  });

  it("accepts a clean end without [DONE] once every choice finished, retries otherwise", async () => {
    const finished = `data: ${chunk("a")}\n\ndata: ${chunk("b", "length")}\n\n`;
    const result = await backendFor("http://127.0.0.1:9", { fetch: sseFetch(finished, [5]) }).generate({
      messages: HELLO,
    });
    expect(result.completions[0]).toMatchObject({ text: "ab", finishReason: "length" });

    const cut = `data: ${chunk("a")}\n\n`;
    const error = await rejection(
      backendFor("http://127.0.0.1:9", { fetch: sseFetch(cut, [5]), maxRetries: 1 }).generate({
        messages: HELLO,
      }),
    );
    expect(error).toMatchObject({ kind: "invalid_response" });
    expect((error as Error).message).toContain("ended before [DONE]");
  });

  it("raises an error event sent inside the stream", async () => {
    const body = `data: ${chunk("a")}\n\ndata: {"error": {"message": "bad grammar", "code": 400}}\n\n`;
    const error = await rejection(
      backendFor("http://127.0.0.1:9", { fetch: sseFetch(body, [64]) }).generate({ messages: HELLO }),
    );
    expect(error).toMatchObject({ kind: "http", status: 400, message: "400 bad grammar", retryable: false });
  });
});

describe("openai-compatible test server, seen by the official openai client", () => {
  async function client(options: Partial<OpenAICompatibleServerOptions> = {}) {
    const { server, scripted } = await serve(options);
    return { openai: new OpenAI({ baseURL: server.url, apiKey: "test", maxRetries: 0 }), server, scripted };
  }

  it("answers chat completions without streaming, with n and logprobs", async () => {
    const { openai } = await client();
    const completion = await openai.chat.completions.create({
      model: "scripted-model",
      messages: [{ role: "user", content: "Say something about rivers." }],
      n: 2,
      temperature: 1,
      seed: 4,
      max_tokens: 5,
      logprobs: true,
    });
    expect(completion.object).toBe("chat.completion");
    expect(completion.choices.map((c) => c.index)).toEqual([0, 1]);
    for (const choice of completion.choices) {
      expect(choice.message.role).toBe("assistant");
      expect(choice.finish_reason).toBe("length");
      const tokens = choice.logprobs?.content ?? [];
      expect(tokens).toHaveLength(5);
      expect(tokens.map((t) => t.token).join("")).toBe(choice.message.content);
      for (const t of tokens) expect(t.logprob).toBeLessThanOrEqual(0);
    }
    expect(completion.usage?.completion_tokens).toBe(10);
    expect(completion.usage?.total_tokens).toBe((completion.usage?.prompt_tokens ?? 0) + 10);
  });

  it("streams chat completion chunks with a final usage chunk", async () => {
    const { openai } = await client();
    const stream = await openai.chat.completions.create({
      model: "scripted-model",
      messages: [{ role: "user", content: "Say something about rivers." }],
      stream: true,
      stream_options: { include_usage: true },
      max_tokens: 4,
    });
    let text = "";
    let finish: string | null = null;
    let usageChunks = 0;
    for await (const chunk of stream) {
      expect(chunk.object).toBe("chat.completion.chunk");
      for (const choice of chunk.choices) {
        text += choice.delta.content ?? "";
        finish = choice.finish_reason ?? finish;
      }
      if (chunk.usage) {
        usageChunks++;
        expect(chunk.choices).toEqual([]);
        expect(chunk.usage.completion_tokens).toBe(4);
      }
    }
    expect(text.length).toBeGreaterThan(0);
    expect(finish).toBe("length");
    expect(usageChunks).toBe(1);

    // The SDK's own accumulator agrees.
    const runner = openai.chat.completions.stream({
      model: "scripted-model",
      messages: [{ role: "user", content: "Say something about rivers." }],
      max_tokens: 4,
    });
    const final = await runner.finalChatCompletion();
    expect(final.choices[0]?.message.content).toBe(text);
  });

  it("answers legacy completions, streamed and whole, and lists the model", async () => {
    const { openai } = await client();
    const whole = await openai.completions.create({ model: "scripted-model", prompt: "Once", max_tokens: 3 });
    expect(whole.object).toBe("text_completion");
    expect(whole.choices[0]?.finish_reason).toBe("length");

    const stream = await openai.completions.create({
      model: "scripted-model",
      prompt: "Once",
      max_tokens: 3,
      stream: true,
    });
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.text ?? "";
    expect(text).toBe(whole.choices[0]?.text);

    const models = await openai.models.list();
    expect(models.data.map((m) => m.id)).toEqual(["scripted-model"]);
  });

  it("passes response_format json_schema to the backend", async () => {
    const { openai, scripted } = await client();
    const schema = { type: "object", properties: { n: { type: "integer", minimum: 3 } }, required: ["n"] };
    const completion = await openai.chat.completions.create({
      model: "scripted-model",
      messages: [{ role: "user", content: "JSON please" }],
      response_format: { type: "json_schema", json_schema: { name: "out", schema, strict: true } },
    });
    expect(scripted.requests.at(-1)?.jsonSchema).toEqual(schema);
    expect(JSON.parse(completion.choices[0]?.message.content ?? "")).toEqual({ n: 3 });
  });

  it("returns OpenAI-style errors the client raises as APIError", async () => {
    const { openai, server } = await client({
      faults: {
        byRequest: { 2: { type: "status", status: 429, message: "slow down", retryAfterSeconds: 7 } },
      },
    });
    const badRequest = await rejection(
      openai.chat.completions.create({ model: "scripted-model", messages: [], max_tokens: 2 }),
    );
    expect(badRequest).toBeInstanceOf(OpenAI.BadRequestError);
    expect((badRequest as InstanceType<typeof OpenAI.APIError>).error).toMatchObject({
      message: "'messages' must be a non-empty array",
      type: "invalid_request_error",
    });

    const limited = await rejection(
      openai.chat.completions.create({ model: "scripted-model", messages: [{ role: "user", content: "x" }] }),
    );
    expect(limited).toBeInstanceOf(OpenAI.RateLimitError);
    expect((limited as InstanceType<typeof OpenAI.APIError>).headers?.get("retry-after")).toBe("7");
    expect(server.requests).toBe(2);
  });

  it("rejects bodies that are not JSON and unknown routes", async () => {
    const { server } = await serve();
    const notJson = await fetch(`${server.url}/chat/completions`, { method: "POST", body: "{nope" });
    expect(notJson.status).toBe(400);
    expect(await notJson.json()).toMatchObject({ error: { message: "request body is not valid JSON" } });
    const unknown = await fetch(`${server.url}/embeddings`, { method: "POST", body: "{}" });
    expect(unknown.status).toBe(404);
    const wrongMethod = await fetch(`${server.url}/chat/completions`);
    expect(wrongMethod.status).toBe(405);
  });
});

describeBackendConformance({
  name: "openai (loopback)",
  deterministic: true,
  create: async () => {
    const server = await startOpenAICompatibleServer({ backend: createScriptedBackend() });
    const backend = createOpenAIBackend({ baseUrl: server.url, model: "scripted", retryBaseDelayMs: 1 });
    return {
      kind: backend.kind,
      model: backend.model,
      capabilities: backend.capabilities,
      generate: (request) => backend.generate(request),
      close: async () => {
        await backend.close();
        await server.close();
      },
    };
  },
});
