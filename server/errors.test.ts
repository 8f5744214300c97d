import OpenAI from "openai";
import { afterEach, describe, expect, it } from "vitest";
import { createScriptedBackend } from "../src/backends/scripted/scripted-backend.js";
import type { Backend } from "../src/core/backend.js";
import type { AppConfig } from "./create-app.js";
import { sseData, startTestApp, type TestApp, testBackendOptions } from "./test-app.js";

const apps: TestApp[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

async function start(config: Partial<AppConfig> = {}): Promise<TestApp> {
  const app = await startTestApp({
    models: { default: createScriptedBackend(testBackendOptions) },
    ...config,
  });
  apps.push(app);
  return app;
}

const validBody = { model: "default", messages: [{ role: "user", content: "What is 2 + 2?" }] };

const post = (app: TestApp, body: unknown, headers: Record<string, string> = {}) =>
  app.fetch("/v1/chat/completions", {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" || body instanceof Uint8Array ? body : JSON.stringify(body),
  });

/** Checks the OpenAI error shape and returns the error object. */
async function expectError(
  response: Response,
  status: number,
  code: string,
): Promise<{ message: string; type: string; code: string; param: string | null }> {
  expect(response.status).toBe(status);
  expect(response.headers.get("content-type")).toMatch(/application\/json/);
  const body = (await response.json()) as { error: { message: string; type: string; code: string } };
  expect(Object.keys(body)).toEqual(["error"]);
  expect(body.error).toMatchObject({ code, message: expect.any(String), type: expect.any(String) });
  expect(body.error.message.length).toBeGreaterThan(0);
  expect(body.error).toHaveProperty("param");
  return body.error as never;
}

describe("authentication and per-key limits", () => {
  const keys = [
    { key: "sk-good", name: "good" },
    { key: "sk-limited", name: "limited", rateLimitPerMinute: 2 },
    { key: "sk-small", name: "small", tokenBudget: 21 },
  ];

  it("401 without a key or with a wrong one; 200 with a configured key", async () => {
    const app = await start({ apiKeys: keys });
    const missing = await expectError(await post(app, validBody), 401, "invalid_api_key");
    expect(missing.type).toBe("authentication_error");
    await expectError(
      await post(app, validBody, { authorization: "Bearer sk-wrong" }),
      401,
      "invalid_api_key",
    );
    await expectError(await app.fetch("/v1/models"), 401, "invalid_api_key");
    expect((await post(app, validBody, { authorization: "Bearer sk-good" })).status).toBe(200);
    // Health checks need no key.
    expect((await app.fetch("/health")).status).toBe(200);
    // The official client raises AuthenticationError.
    await expect(
      app
        .client("sk-wrong")
        .chat.completions.create({ model: "default", messages: validBody.messages as never }),
    ).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
  });

  it("429 rate_limit_exceeded past a key's requests per minute, with Retry-After; the minute rolls", async () => {
    let now = 1_000_000;
    const app = await start({ apiKeys: keys, now: () => now });
    const auth = { authorization: "Bearer sk-limited" };
    expect((await post(app, validBody, auth)).status).toBe(200);
    expect((await post(app, validBody, auth)).status).toBe(200);
    const limited = await post(app, validBody, auth);
    expect(limited.headers.get("retry-after")).toBe("60");
    const error = await expectError(limited, 429, "rate_limit_exceeded");
    expect(error.message).toMatch(/2 requests per minute/);
    // Other keys are not affected; a minute later the key may call again.
    expect((await post(app, validBody, { authorization: "Bearer sk-good" })).status).toBe(200);
    now += 60_001;
    expect((await post(app, validBody, auth)).status).toBe(200);
  });

  it("429 insufficient_quota once a key has spent its token budget; runs are capped to what is left", async () => {
    const app = await start({ apiKeys: keys });
    const auth = { authorization: "Bearer sk-small" };
    // 6 prompt + 12 completion tokens: 18 of 21 spent.
    const first = (await (await post(app, validBody, auth)).json()) as { usage: { total_tokens: number } };
    expect(first.usage.total_tokens).toBe(18);
    // 3 tokens left: the run may generate only that much.
    const second = (await (await post(app, validBody, auth)).json()) as {
      usage: { completion_tokens: number };
      choices: Array<{ finish_reason: string }>;
    };
    expect(second.usage.completion_tokens).toBe(3);
    expect(second.choices[0]?.finish_reason).toBe("length");
    const error = await expectError(await post(app, validBody, auth), 429, "insufficient_quota");
    expect(error.type).toBe("insufficient_quota");
  });

  it("keys are per app: two apps in one process count separately", async () => {
    const a = await start({ apiKeys: keys });
    const b = await start({ apiKeys: keys });
    const auth = { authorization: "Bearer sk-limited" };
    for (let i = 0; i < 2; i++) expect((await post(a, validBody, auth)).status).toBe(200);
    await expectError(await post(a, validBody, auth), 429, "rate_limit_exceeded");
    expect((await post(b, validBody, auth)).status).toBe(200);
  });
});

describe("malformed requests", () => {
  it("413 for a body over the limit, declared or streamed without a length", async () => {
    const app = await start({ bodyLimitBytes: 2_048 });
    const big = { ...validBody, messages: [{ role: "user", content: "x".repeat(4_000) }] };
    await expectError(await post(app, big), 413, "request_too_large");
    const chunked = await app.fetch("/v1/chat/completions", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: new ReadableStream({
        start(controller) {
          for (let i = 0; i < 8; i++) controller.enqueue(new TextEncoder().encode(" ".repeat(1_000)));
          controller.close();
        },
      }),
      duplex: "half",
    } as RequestInit);
    await expectError(chunked, 413, "request_too_large");
    expect((await post(app, validBody)).status).toBe(200);
  });

  it("400 for bad JSON, an empty body, invalid UTF-8 and a non-object", async () => {
    const app = await start();
    const error = await expectError(
      await post(app, '{"model": "default", "messages": ['),
      400,
      "invalid_json",
    );
    expect(error.type).toBe("invalid_request_error");
    await expectError(await post(app, ""), 400, "invalid_json");
    await expectError(await post(app, new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])), 400, "invalid_encoding");
    await expectError(await post(app, [1, 2, 3]), 400, "invalid_request_body");
  });

  it("400 naming the parameter for wrong types and missing fields", async () => {
    const app = await start();
    const cases: Array<[unknown, string]> = [
      [{ model: "default" }, "messages"],
      [{ ...validBody, messages: [] }, "messages"],
      [{ ...validBody, temperature: "hot" }, "temperature"],
      [{ ...validBody, n: 0 }, "n"],
      [{ ...validBody, messages: [{ role: "wizard", content: "hi" }] }, "messages[0].role"],
      [
        { ...validBody, messages: [{ role: "user", content: [{ type: "image_url" }] }] },
        "messages[0].content",
      ],
      [{ ...validBody, response_format: { type: "xml" } }, "response_format.type"],
      [{ ...validBody, deliberate: { strategy: "sc", bogus: 1 } }, "deliberate"],
      [{ ...validBody, deliberate: { budget: { deadlineMs: 1e12 } } }, "deliberate.budget.deadlineMs"],
      [{ ...validBody, n: 100 }, "n"],
      [{ ...validBody, deliberate: { strategy: "nope" } }, "deliberate.strategy"],
      [{ ...validBody, deliberate: { n: 4 } }, "deliberate.n"],
      [{ ...validBody, model: "sc-1000/default" }, "model"],
      [{ ...validBody, deliberate: { format: "roman" } }, "deliberate.format"],
      [{ ...validBody, model: "cot/default", response_format: { type: "json_object" } }, "response_format"],
    ];
    for (const [body, param] of cases) {
      const response = await post(app, body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      const error = (await response.json()) as { error: { param: string; code: string; type: string } };
      expect(error.error.param, JSON.stringify(body)).toBe(param);
      expect(error.error.type).toBe("invalid_request_error");
    }
  });

  it("400 unsupported_parameter for tools except with direct (a model with function calling) or react", async () => {
    const app = await start();
    const tools = [{ type: "function", function: { name: "get_weather", parameters: {} } }];
    // The scripted model here has no native function calling, so direct cannot pass tools on.
    const error = await expectError(await post(app, { ...validBody, tools }), 400, "unsupported_parameter");
    expect(error.param).toBe("tools");
    expect(error.message).toMatch(/no native function calling/);
    const cotError = await expectError(
      await post(app, { ...validBody, model: "cot/default", tools }),
      400,
      "unsupported_parameter",
    );
    expect(cotError.message).toMatch(/direct .*react/);
    await expectError(await post(app, { ...validBody, tool_choice: "auto" }), 400, "invalid_value");
    const reactError = await expectError(
      await post(app, { ...validBody, model: "react/default", tools }),
      400,
      "unsupported_parameter",
    );
    expect(reactError.message).toMatch(/calculator/);
    // Naming a tool the server runs is fine with react.
    const calculator = [{ type: "function", function: { name: "calculator" } }];
    expect((await post(app, { ...validBody, model: "react/default", tools: calculator })).status).toBe(200);
  });

  it("403 for strategies that run code while tools.code is off", async () => {
    const app = await start();
    await expectError(await post(app, { ...validBody, model: "pal/default" }), 403, "strategy_disabled");
  });
});

describe("routing", () => {
  it("404 model_not_found for unknown models and strategy prefixes", async () => {
    const app = await start();
    for (const model of ["gpt-4o", "sc-8/other", "nope/default", "cot-4/default"]) {
      const error = await expectError(await post(app, { ...validBody, model }), 404, "model_not_found");
      expect(error.type).toBe("not_found_error");
    }
    await expect(
      app.client().chat.completions.create({ model: "gpt-4o", messages: validBody.messages as never }),
    ).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await expectError(await app.fetch("/v1/models/gpt-4o"), 404, "model_not_found");
  });

  it("404 for unknown routes and 405 for wrong methods, never an HTML page", async () => {
    const app = await start();
    await expectError(await app.fetch("/v1/embeddings", { method: "POST" }), 404, "unknown_route");
    // (`/` itself is the web viewer's page: see trace-routes.test.ts.)
    await expectError(await app.fetch("/v1"), 404, "unknown_route");
    await expectError(await app.fetch("/runs"), 404, "unknown_route");
    const wrongMethod = await app.fetch("/v1/chat/completions");
    expect(wrongMethod.headers.get("allow")).toBe("POST");
    await expectError(wrongMethod, 405, "method_not_allowed");
    await expectError(await app.fetch("/v1/models", { method: "DELETE" }), 405, "method_not_allowed");
    await expectError(await app.fetch("/health", { method: "POST" }), 405, "method_not_allowed");
  });
});

describe("overload and failures", () => {
  it("503 server_overloaded once the running slots and the queue are full", async () => {
    const slow = createScriptedBackend({ respond: ["a b c d e f g h i j"], tokenDelayMs: 50 });
    const app = await start({ models: { default: slow }, maxConcurrent: 1, maxQueue: 1 });
    const running = post(app, validBody);
    const queued = post(app, validBody);
    await expect.poll(() => slow.requests.length).toBe(1);
    const refused = await post(app, validBody);
    expect(refused.headers.get("retry-after")).toBe("1");
    const error = await expectError(refused, 503, "server_overloaded");
    expect(error.type).toBe("server_error");
    // The two admitted requests both finish.
    expect((await running).status).toBe(200);
    expect((await queued).status).toBe(200);
  });

  it("502 when the backend fails, 500 for anything unexpected; the server keeps answering", async () => {
    const failing = createScriptedBackend({ respond: [new Error("upstream exploded")] });
    const broken: Backend = {
      kind: "broken",
      model: "broken",
      capabilities: failing.capabilities,
      generate: async () => {
        throw new TypeError("cannot read properties of undefined");
      },
      close: async () => {},
    };
    const app = await start({ models: { failing, broken } });
    const upstream = await expectError(
      await post(app, { ...validBody, model: "failing" }),
      502,
      "backend_internal",
    );
    expect(upstream.message).toMatch(/upstream exploded/);
    const internal = await expectError(
      await post(app, { ...validBody, model: "broken" }),
      500,
      "internal_error",
    );
    expect(internal.type).toBe("server_error");
    expect((await app.fetch("/health")).status).toBe(200);
  });

  it("a failure mid-stream ends the stream with one error chunk, which the SDK raises", async () => {
    const failing = createScriptedBackend({ respond: [new Error("upstream exploded")] });
    const app = await start({ models: { failing } });
    const response = await post(app, { ...validBody, model: "failing", stream: true });
    expect(response.status).toBe(200);
    const events = sseData(await response.text());
    const last = events.at(-1) as { error: { code: string; message: string; type: string } };
    expect(last.error).toMatchObject({ code: "backend_internal", type: "server_error" });
    expect(events).not.toContain("[DONE]");

    const stream = await app.client().chat.completions.create({
      model: "failing",
      messages: validBody.messages as never,
      stream: true,
    });
    await expect(
      (async () => {
        for await (const _ of stream) {
          // drain
        }
      })(),
    ).rejects.toBeInstanceOf(OpenAI.APIError);
  });
});
