import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createScriptedBackend } from "../src/backends/scripted/scripted-backend.js";
import {
  type OpenAICompatibleServer,
  startOpenAICompatibleServer,
} from "../src/testing/openai-compatible-server.js";
import { runCli } from "../test/run-cli.js";
import { runCliInProcess } from "../test/run-cli-in-process.js";
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

  it("takes the longest deadline a timer can wait, and refuses a longer one instead of running with 1 ms", async () => {
    const endpoint = ["--backend", "openai", "--base-url", server.url, "--strategy", "direct"];
    const longest = await runCliInProcess([
      "ask",
      "What is six times seven?",
      ...endpoint,
      "--deadline-ms",
      "2147483647",
    ]);
    expect(longest.code).toBe(0);
    expect(longest.stdout).toBe("forty-two\n");
    // Node fires a timer set past 2^31 - 1 ms after 1 ms, so this would have run out of time at once.
    const longer = await runCliInProcess([
      "ask",
      "What is six times seven?",
      ...endpoint,
      "--deadline-ms",
      "2147483648",
    ]);
    expect(longer.code).toBe(2);
    expect(longer.stdout).toBe("");
    expect(longer.stderr).toBe("deliberate: --deadline-ms must be at most 2147483647\n");
  });

  it("asks an OpenAI-compatible endpoint and prints JSON", async () => {
    const r = await cli([
      "ask",
      "What is six times seven?",
      "--backend",
      "openai",
      "--base-url",
      server.url,
      "--strategy",
      "direct",
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
    const endpoint = ["--backend", "openai", "--base-url", server.url, "--strategy", "direct"];
    const { code, stdout } = await runCli(["ask", "-", ...endpoint], {
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
      "--strategy",
      "direct",
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
      "--strategy",
      "direct",
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

describe("deliberate CLI: usage errors, in process", () => {
  const parserErrors: Array<[string, string[], string]> = [
    ["an unknown option", ["ask", "hi", "--bogus"], "unknown option '--bogus' (run with --help for usage)"],
    [
      "a misspelt option",
      ["ask", "hi", "--strategi", "sc"],
      "unknown option '--strategi' (did you mean --strategy?)",
    ],
    ["a missing argument", ["ask"], "missing required argument 'question' (run with --help for usage)"],
    ["an unknown command", ["nope"], "unknown command 'nope' (run with --help for usage)"],
    ["a bad number", ["ask", "hi", "--temperature", "warm"], '--temperature must be a number, not "warm"'],
    ["a fractional count", ["ask", "hi", "--n", "1.5"], '--n must be a whole number, not "1.5"'],
  ];
  for (const [what, args, message] of parserErrors) {
    it(`reports ${what} in one line like every other error, exit 2`, async () => {
      const r = await runCliInProcess(args);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe("");
      expect(r.stderr).toBe(`deliberate: ${message}\n`);
    });
  }

  it("suggests the strategy a typo was meant to be, and lists them all when none is close", async () => {
    const typo = await runCliInProcess(["ask", "hi", "--strategy", "scc"]);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toBe('deliberate: unknown strategy "scc" (did you mean "sc"?)\n');
    const far = await runCliInProcess(["ask", "hi", "--strategy", "magic"]);
    expect(far.code).toBe(2);
    expect(far.stderr).toMatch(/^deliberate: unknown strategy "magic" \(have: direct, cot, sc, .*\)\n$/);
  });

  // Node's mkdirSync(dir, { recursive: true }) never returns for a path under /proc.
  it.runIf(existsSync("/proc/self"))(
    "fails in one line when --trace-db's folder cannot be made",
    async () => {
      const r = await runCliInProcess(["ask", "hi", "--trace-db", "/proc/deliberate-test/t.db"]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/^deliberate: ENOENT[^\n]*\/proc\/deliberate-test[^\n]*\n$/);
    },
  );

  it("says in one line that a GGUF file cut short is incomplete", async () => {
    const dir = await mkdtemp(join(tmpdir(), "cli-gguf-"));
    try {
      const model = await readFile(await testModelPath());
      for (const length of [24, 100, 2_000_000]) {
        const cut = join(dir, `cut-${length}.gguf`);
        await writeFile(cut, model.subarray(0, length));
        const r = await runCliInProcess(["models", "info", cut]);
        expect(r.code, `cut at ${length}`).toBe(1);
        expect(r.stdout).toBe("");
        expect(r.stderr).toMatch(
          new RegExp(`^deliberate: \\S*cut-${length}\\.gguf is not a complete GGUF file: [^\\n]+\\n$`),
        );
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
