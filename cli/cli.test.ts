import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createScriptedBackend } from "../src/backends/scripted/scripted-backend.js";
import {
  type OpenAICompatibleServer,
  startOpenAICompatibleServer,
} from "../src/testing/openai-compatible-server.js";
import { runCli } from "../test/run-cli.js";
import { testModelPath } from "../test/test-model.js";

const cli = (args: string[]) => runCli(args);

describe("deliberate CLI", { timeout: 120_000 }, () => {
  let server: OpenAICompatibleServer;
  beforeAll(async () => {
    server = await startOpenAICompatibleServer({
      backend: createScriptedBackend({ respond: ["forty-two"] }),
    });
  });
  afterAll(() => server?.close());

  it("rejects an unknown flag with exit 2 and a message", async () => {
    const r = await cli(["ask", "hi", "--bogus"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown option '--bogus'/);
    expect(r.stdout).toBe("");
  });

  it("rejects a malformed number with exit 2", async () => {
    const r = await cli(["ask", "hi", "--temperature", "warm"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--temperature must be a number/);
  });

  it("rejects an unknown backend and an empty question", async () => {
    const bad = await cli(["ask", "hi", "--backend", "gpt"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--backend must be one of: llama, openai/);
    const empty = await cli(["ask", "   "]);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(/question is empty/);
  });

  it("names known models when the model does not exist", async () => {
    const r = await cli(["ask", "hi", "--model", "no-such-model"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^deliberate: .*no-such-model/);
    expect(r.stderr).toMatch(/qwen2\.5-coder-0\.5b-instruct/);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
  });

  it("fails with one clear line when the endpoint is unreachable", async () => {
    const r = await cli(["ask", "hi", "--backend", "openai", "--base-url", "http://127.0.0.1:9/v1"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^deliberate: cannot reach http:\/\/127\.0\.0\.1:9\/v1/);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
  });

  it("asks an OpenAI-compatible endpoint and prints JSON", async () => {
    const r = await cli([
      "ask",
      "What is six times seven?",
      "--backend",
      "openai",
      "--base-url",
      server.url,
      "--json",
    ]);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.answer).toBe("forty-two");
    expect(out.strategy).toBe("direct");
    expect(out.traceId).toMatch(/^task_/);
    expect(Object.keys(out.usage).sort()).toEqual(["calls", "completionTokens", "promptTokens", "wallMs"]);
    expect(out.usage.calls).toBe(1);
  });

  it("reads the question from stdin with -", async () => {
    const { code, stdout } = await runCli(["ask", "-", "--backend", "openai", "--base-url", server.url], {
      stdin: "What is six times seven?\n",
    });
    expect(code).toBe(0);
    expect(stdout).toBe("forty-two\n");
  });

  it("answers on the embedded model, plain and as JSON", async () => {
    const model = await testModelPath();
    const plain = await cli([
      "ask",
      "Say hello.",
      "--model",
      model,
      "--max-tokens",
      "12",
      "--temperature",
      "0",
    ]);
    expect(plain.code).toBe(0);
    expect(plain.stdout.trim().length).toBeGreaterThan(0);
    const json = await cli([
      "ask",
      "Say hello.",
      "--model",
      model,
      "--max-tokens",
      "12",
      "--temperature",
      "0",
      "--json",
    ]);
    expect(json.code).toBe(0);
    const out = JSON.parse(json.stdout);
    // Greedy decoding: the same question gives the same answer both ways.
    expect(out.answer).toBe(plain.stdout.trim());
    expect(out.usage.completionTokens).toBeGreaterThan(0);
    expect(out.usage.completionTokens).toBeLessThanOrEqual(12);
  });
});
