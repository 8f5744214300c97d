import { afterAll, describe, expect, it } from "vitest";
import { createScriptedBackend, type ScriptedBackend } from "../src/backends/scripted/scripted-backend.js";
import { UsageError } from "../src/core/errors.js";
import { defaultRouter } from "../src/strategies/auto/auto.js";
import { CODE_ROUTES } from "../src/strategies/auto/code-route.js";
import { ADD_STUB, addProgram, SANDBOX_TEST_TIMEOUT_MS } from "../src/strategies/code/add-stub-fixture.js";
import { pythonPool } from "../src/tools/python/python-pool.js";
import { createApp } from "./create-app.js";
import { parseServerConfig, parseServerSettings } from "./server-config.js";
import { parseEventStream, sseData, startTestApp, type TestApp } from "./test-app.js";

const question = [
  { role: "user", content: "Tom has 3 apples and buys 9 more. How many apples does he have?" },
];
const json = (body: unknown) => ({
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify(body),
});

interface Completion {
  choices: { message: { content: string } }[];
  deliberate: { strategy: string; confidence: number | null; calibrated: boolean | null };
}

/**
 * A small model whose two probe samples disagree (so auto's router doubts the answer and escalates)
 * and a large one that works the problem out: whose answer it is shows in the answer.
 */
const tiers = () => ({
  small: createScriptedBackend({
    model: "small",
    respond: ({ call, index }) =>
      (call + index) % 2 === 0 ? "3 + 9 = 11. The answer is 11" : "3 + 9 = 13. The answer is 13",
  }),
  large: createScriptedBackend({ model: "large", respond: ["3 + 9 = 12. The answer is 12"] }),
});

describe("model tiers and auto as the server's default", () => {
  const apps: TestApp[] = [];
  const start = async (config: Parameters<typeof startTestApp>[0]) => {
    const app = await startTestApp(config);
    apps.push(app);
    return app;
  };
  afterAll(async () => {
    await Promise.all(apps.map((app) => app.close()));
    await pythonPool.close();
  });

  it(
    "runs a Python request's candidate programs in the sandbox only where tools.code allows it",
    async () => {
      const coder = () => createScriptedBackend({ respond: [addProgram("return a + b")] });
      const stub = { model: "m", messages: [{ role: "user", content: ADD_STUB }] };
      const off = coder();
      const closed = await start({ models: { m: off }, defaultStrategy: "auto" });
      const plain = await closed.fetch("/v1/chat/completions", json(stub));
      expect(plain.status).toBe(200);
      expect(((await plain.json()) as Completion).choices[0]?.message.content).toContain("return a + b");
      expect(off.requests).toHaveLength(1);

      const on = coder();
      const open = await start({ models: { m: on }, defaultStrategy: "auto", tools: { code: true } });
      const selected = await open.fetch("/v1/chat/completions", json(stub));
      expect(selected.status).toBe(200);
      expect(((await selected.json()) as Completion).choices[0]?.message.content).toContain("return a + b");
      // Greedy, the model's tests and one batched request for the other candidates.
      expect(CODE_ROUTES.smallOnly.balanced.candidates).toBeGreaterThan(1);
      expect(on.requests).toHaveLength(3);
    },
    SANDBOX_TEST_TIMEOUT_MS,
  );

  it("runs auto for a bare model name unless the config names another default", () => {
    expect(parseServerSettings({}).defaultStrategy).toBe("auto");
    expect(parseServerSettings({ defaultStrategy: "direct" }).defaultStrategy).toBe("direct");
  });

  it("gives a run the large tier, which auto escalates to, and says how sure it is of the answer", async () => {
    const { small, large } = tiers();
    const app = await start({ models: { small, large }, defaultStrategy: "auto", tiers: { large: "large" } });
    const response = await app.fetch("/v1/chat/completions", json({ model: "small", messages: question }));
    expect(response.status).toBe(200);
    const body = (await response.json()) as Completion;
    expect(body.choices[0]?.message.content).toBe("12");
    // The shipped policy decides whether the small model's probe comes first; the large tier answers either way.
    if (defaultRouter().policy?.tiered.balanced.entry === "large") expect(small.requests).toHaveLength(0);
    else expect(small.requests.length).toBeGreaterThan(0);
    expect(large.requests.length).toBeGreaterThan(0);
    expect(body.deliberate.strategy).toBe("auto");
    expect(body.deliberate.confidence).toBeGreaterThan(0);
    expect(body.deliberate.confidence).toBeLessThanOrEqual(1);
    expect(typeof body.deliberate.calibrated).toBe("boolean");
  });

  it("gives a run on the large model itself no large tier", async () => {
    const { small, large } = tiers();
    const app = await start({ models: { small, large }, defaultStrategy: "auto", tiers: { large: "large" } });
    const response = await app.fetch("/v1/chat/completions", json({ model: "large", messages: question }));
    expect(response.status).toBe(200);
    expect(((await response.json()) as Completion).choices[0]?.message.content).toBe("12");
    expect(small.requests).toHaveLength(0);
  });

  it("without tiers, auto stays on the requested model", async () => {
    const { small, large } = tiers();
    const app = await start({ models: { small, large }, defaultStrategy: "auto" });
    const response = await app.fetch("/v1/chat/completions", json({ model: "small", messages: question }));
    expect(response.status).toBe(200);
    expect(large.requests).toHaveLength(0);
  });

  it("streams the confidence in the final chunk's deliberate object", async () => {
    const { small, large } = tiers();
    const app = await start({ models: { small, large }, defaultStrategy: "auto", tiers: { large: "large" } });
    const response = await app.fetch(
      "/v1/chat/completions",
      json({ model: "small", messages: question, stream: true }),
    );
    expect(response.status).toBe(200);
    const chunks = sseData(await response.text()) as unknown[];
    expect(chunks.at(-1)).toBe("[DONE]");
    const last = chunks.at(-2) as { choices: unknown[]; deliberate: { result: Completion["deliberate"] } };
    expect(last.choices).toEqual([]);
    expect(last.deliberate.result.strategy).toBe("auto");
    expect(last.deliberate.result.confidence).toBeGreaterThan(0);
    expect(typeof last.deliberate.result.calibrated).toBe("boolean");
  });

  it("keeps defaultStrategy direct working, with no confidence where the strategy reports none", async () => {
    const model = createScriptedBackend({ respond: ["Twelve apples."] });
    const app = await start({ models: { m: model }, defaultStrategy: "direct" });
    const response = await app.fetch("/v1/chat/completions", json({ model: "m", messages: question }));
    const body = (await response.json()) as Completion;
    expect(body.choices[0]?.message.content).toBe("Twelve apples.");
    expect(model.requests).toHaveLength(1);
    expect(body.deliberate).toMatchObject({ strategy: "direct", confidence: null, calibrated: null });
  });

  it("runs direct for a bare name with client tools or a response_format, which auto cannot serve", async () => {
    const model = createScriptedBackend({ tools: true, respond: ['{"city": "Paris"}'] });
    const app = await start({ models: { m: model }, defaultStrategy: "auto" });
    const tools = [
      {
        type: "function",
        function: { name: "get_weather", description: "Weather", parameters: { type: "object" } },
      },
    ];
    const withTools = await app.fetch(
      "/v1/chat/completions",
      json({ model: "m", messages: question, tools }),
    );
    expect(withTools.status).toBe(200);
    expect(((await withTools.json()) as Completion).deliberate.strategy).toBe("direct");
    const response_format = { type: "json_object" };
    const withFormat = await app.fetch(
      "/v1/chat/completions",
      json({ model: "m", messages: question, response_format }),
    );
    expect(withFormat.status).toBe(200);
    const formatted = (await withFormat.json()) as Completion;
    expect(formatted.deliberate.strategy).toBe("direct");
    expect(JSON.parse(formatted.choices[0]?.message.content ?? "")).toEqual({ city: "Paris" });
    // Named, auto is still refused with tools, as any strategy that cannot take them is.
    const named = await app.fetch(
      "/v1/chat/completions",
      json({ model: "auto/m", messages: question, tools }),
    );
    expect(named.status).toBe(400);
    expect(model.requests).toHaveLength(2);
  });

  it("gives a task the large tier too", async () => {
    const { small, large } = tiers();
    const app = await start({ models: { small, large }, defaultStrategy: "auto", tiers: { large: "large" } });
    const posted = await app.fetch("/v1/tasks", json({ model: "small", messages: question }));
    expect(posted.status).toBe(202);
    const { id } = (await posted.json()) as { id: string };
    // The event stream ends with the task.
    parseEventStream(await (await app.fetch(`/v1/tasks/${id}/events`)).text());
    const task = (await (await app.fetch(`/v1/tasks/${id}`)).json()) as {
      status: string;
      strategy: string;
      result: { answer: string } | null;
    };
    expect(task).toMatchObject({ status: "succeeded", strategy: "auto", result: { answer: "12" } });
    expect(large.requests.length).toBeGreaterThan(0);
  });

  it("refuses tiers that name no served model, in a config file and in an app", () => {
    const models = { small: createScriptedBackend({ respond: ["x"] }) } satisfies Record<
      string,
      ScriptedBackend
    >;
    expect(() => createApp({ models, tiers: { large: "big" } })).toThrow(
      new UsageError("tiers.large: 'big' is not a served model (have: small)"),
    );
    expect(() =>
      parseServerConfig(
        { models: { small: { backend: "llama" } }, tiers: { large: "big" } },
        "deliberate.json",
      ),
    ).toThrow(new UsageError("deliberate.json: tiers.large: 'big' is not a served model (have: small)"));
    expect(() => parseServerConfig({ tiers: { medium: "small" } }, "deliberate.json")).toThrow(
      /deliberate\.json: .*medium/,
    );
  });
});
