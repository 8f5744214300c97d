import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createScriptedBackend } from "../src/backends/scripted/scripted-backend.js";
import {
  type OpenAICompatibleServer,
  startOpenAICompatibleServer,
} from "../src/testing/openai-compatible-server.js";
import { runCli } from "../test/run-cli.js";

describe("deliberate ask --tools", { timeout: 120_000 }, () => {
  let server: OpenAICompatibleServer;
  beforeAll(async () => {
    // A model that calls the calculator once, then answers with what it observed. The openai
    // backend has native function calling, so the call and its result travel as tool_calls.
    server = await startOpenAICompatibleServer({
      backend: createScriptedBackend({
        respond: ({ request }) => {
          const last = request.messages?.at(-1);
          return last?.role === "tool"
            ? `The product is ${last.content}.`
            : { toolCalls: [{ name: "calculator", arguments: { expression: "17 * 23" } }] };
        },
      }),
    });
  });
  afterAll(() => server?.close());

  it("runs react with the named tools and prints the answer", async () => {
    const r = await runCli([
      "ask",
      "What is 17 times 23?",
      "--tools",
      "calculator,code",
      "--backend",
      "openai",
      "--base-url",
      server.url,
      "--json",
    ]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ answer: "391", strategy: "react" });
    expect(out.usage.calls).toBe(2);
  });

  it("rejects unknown tools and a strategy that cannot use tools, with exit 2", async () => {
    const unknown = await runCli([
      "ask",
      "hi",
      "--tools",
      "shell",
      "--backend",
      "openai",
      "--base-url",
      server.url,
    ]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown tool "shell"/);
    const wrong = await runCli(["ask", "hi", "--tools", "calculator", "--strategy", "cot"]);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/--tools works with --strategy react/);
  });
});
