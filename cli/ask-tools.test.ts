import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createScriptedBackend, type ScriptedResponder } from "../src/backends/scripted/scripted-backend.js";
import type { DeliberateEvent } from "../src/core/event.js";
import { openStore } from "../src/store/open-store.js";
import {
  type OpenAICompatibleServer,
  type OpenAICompatibleServerOptions,
  startOpenAICompatibleServer,
} from "../src/testing/openai-compatible-server.js";
import { type CliRun, runCli } from "../test/run-cli.js";
import { runCliInProcess } from "../test/run-cli-in-process.js";

/** Flags for the openai backend at `url` (a fake OpenAI-compatible server). */
const openaiAt = (url: string): string[] => ["--backend", "openai", "--base-url", url];

/** What a successful `ask --json` printed; a test fails on anything written to stderr or a non-zero exit. */
function printedJson(run: CliRun): { answer: string; strategy: string; usage: { calls: number } } {
  expect(run.stderr).toBe("");
  expect(run.code).toBe(0);
  return JSON.parse(run.stdout);
}

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
      ...openaiAt(server.url),
      "--json",
    ]);
    const out = printedJson(r);
    expect(out).toMatchObject({ answer: "391", strategy: "react" });
    expect(out.usage.calls).toBe(2);
  });

  it("rejects unknown tools and a strategy that cannot use tools, with exit 2", async () => {
    const unknown = await runCli(["ask", "hi", "--tools", "shell", ...openaiAt(server.url)]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown tool "shell"/);
    const wrong = await runCli(["ask", "hi", "--tools", "calculator", "--strategy", "cot"]);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/--tools works with --strategy react or pipeline/);
  });
});

/** Flags for a backend that cannot be reached: usage errors must come before any connection. */
const NOWHERE = openaiAt("http://127.0.0.1:9/v1");

describe("deliberate ask --tools: search, web-fetch, limits and protocols", { timeout: 120_000 }, () => {
  let dir: string;
  const servers: Array<{ close(): unknown }> = [];
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "deliberate-ask-tools-"));
    mkdirSync(join(dir, "docs"));
    writeFileSync(
      join(dir, "docs", "reactor.md"),
      "# Zephyr reactor\n\nDuring the night shift the Zephyr reactor runs at 451 kelvin.\n",
    );
    writeFileSync(join(dir, "docs", "canteen.txt"), "The canteen opens at 7 and serves 12 kinds of soup.\n");
  });
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => server.close()));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function model(
    respond: ScriptedResponder,
    options: Partial<OpenAICompatibleServerOptions> = {},
  ): Promise<OpenAICompatibleServer> {
    const server = await startOpenAICompatibleServer({
      backend: createScriptedBackend({ respond }),
      ...options,
    });
    servers.push(server);
    return server;
  }

  /** The events of the one trace in a --trace-db file. */
  function traceEvents(db: string): DeliberateEvent[] {
    const store = openStore(db);
    try {
      const [trace] = store.traces.list();
      return trace ? store.traces.events(trace.taskId) : [];
    } finally {
      store.close();
    }
  }

  /** Number of the form "N kelvin" in the last tool result, or a search call. */
  const searcher: ScriptedResponder = ({ request }) => {
    const last = request.messages?.at(-1);
    if (last?.role !== "tool") {
      return { toolCalls: [{ name: "search", arguments: { query: "Zephyr reactor night shift" } }] };
    }
    const kelvin = last.content.match(/(\d+) kelvin/)?.[1];
    return kelvin ? `The reactor runs at ${kelvin} kelvin.` : "I could not find it.";
  };

  it("answers through react from a --docs folder with --tools search", async () => {
    const server = await model(searcher);
    const db = join(dir, "search.db");
    const r = await runCli([
      "ask",
      "How hot does the Zephyr reactor run at night?",
      "--tools",
      "search",
      "--docs",
      join(dir, "docs"),
      ...openaiAt(server.url),
      "--json",
      "--trace-db",
      db,
    ]);
    expect(printedJson(r)).toMatchObject({ answer: "451", strategy: "react" });
    const events = traceEvents(db);
    expect(events.find((e) => e.type === "tool.call")).toMatchObject({
      tool: "search",
      input: { query: "Zephyr reactor night shift" },
    });
    const result = events.find((e) => e.type === "tool.result");
    expect(result).toMatchObject({ tool: "search", isError: false });
    // The answer is grounded: the passage it came from was the best hit, with its file.
    expect((result as { output: Array<{ path: string; text: string }> }).output[0]).toMatchObject({
      path: "reactor.md",
      text: expect.stringContaining("451 kelvin"),
    });
  });

  it("lets pipeline use --tools search too", async () => {
    const server = await model(({ prompt }) => {
      if (prompt.startsWith("Classify")) return '{"intent": "factual", "difficulty": "hard"}';
      if (prompt.startsWith("Write a plan")) {
        return '{"steps": [{"id": 1, "instruction": "Look up the reactor temperature", "tool": "search"}]}';
      }
      if (prompt.includes("Write the input for the search tool")) return '{"query": "Zephyr reactor"}';
      if (prompt.includes("Give a verdict")) return '{"verdict": "correct", "issues": []}';
      const kelvin = prompt.match(/(\d+) kelvin/)?.[1];
      return `The answer is ${kelvin ?? "unknown"}.`;
    });
    const r = await runCli([
      "ask",
      "How hot does the Zephyr reactor run at night?",
      "--strategy",
      "pipeline",
      "--tools",
      "search",
      "--docs",
      join(dir, "docs"),
      ...openaiAt(server.url),
      "--json",
    ]);
    expect(printedJson(r)).toMatchObject({ answer: "451", strategy: "pipeline" });
  });

  it("exits 2 when search has no --docs, web-fetch no --allow-host, or a flag has no tool to configure", async () => {
    const cases: Array<[string[], RegExp]> = [
      [["--tools", "search"], /--tools search needs --docs DIR/],
      [["--strategy", "pipeline", "--tools", "calculator,search"], /--tools search needs --docs DIR/],
      [["--tools", "search", "--docs", join(dir, "missing")], /is not a directory/],
      [["--tools", "web-fetch"], /web fetch is off by default: .*--allow-host HOST/],
      [["--tools", "web-fetch", "--allow-host", "*"], /not a host name/],
      [["--tools", "calculator", "--docs", dir], /--docs is for the search tool/],
      [["--tools", "calculator", "--allow-host", "example.org"], /--allow-host is for the web-fetch tool/],
      [["--strategy", "pipeline", "--max-tool-calls", "2"], /--max-tool-calls works with --strategy react/],
      [["--tools", "calculator", "--max-tool-calls", "0"], /--max-tool-calls/],
    ];
    for (const [flags, message] of cases) {
      // In-process: each case fails on its flags, before a backend exists, so no child is needed.
      const r = await runCliInProcess(["ask", "hi", ...flags, ...NOWHERE]);
      expect({ flags, code: r.code }).toEqual({ flags, code: 2 });
      expect(r.stderr).toMatch(message);
    }
  });

  it("fetches only allow-listed public hosts: test mode answers from a loopback server after the policy", async () => {
    let hits: string[] = [];
    const site: Server = createServer((req, res) => {
      hits.push(`${req.headers.host}${req.url}`);
      res.setHeader("content-type", "text/html");
      res.end("<html><body><p>The launch code is <b>7741</b>.</p></body></html>");
    });
    await new Promise<void>((resolve) => site.listen(0, "127.0.0.1", resolve));
    servers.push({ close: () => new Promise((resolve) => site.close(resolve)) });
    const origin = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
    const urls = ["http://127.0.0.1/secret", "http://evil.example.com/", "http://docs.example.org/launch"];
    const server = await model(({ request }) => {
      const results = (request.messages ?? []).filter((m) => m.role === "tool");
      const url = urls[results.length];
      if (url) return { toolCalls: [{ name: "web-fetch", arguments: { url } }] };
      return `The code is ${results.at(-1)?.content.match(/launch code is (\d+)/)?.[1] ?? "unknown"}.`;
    });
    const db = join(dir, "fetch.db");
    const r = await runCli(
      [
        "ask",
        "What is the launch code?",
        "--tools",
        "web-fetch",
        "--allow-host",
        "docs.example.org,127.0.0.1",
        "--max-tool-calls",
        "3",
        ...openaiAt(server.url),
        "--json",
        "--trace-db",
        db,
      ],
      { env: { DELIBERATE_TEST_WEB_FETCH_ORIGIN: origin } },
    );
    expect(printedJson(r)).toMatchObject({ answer: "7741" });
    const results = traceEvents(db).filter((e) => e.type === "tool.result");
    expect(results.map((e) => (e as { output: unknown }).output)).toEqual([
      expect.stringMatching(/private or reserved address \(127\.0\.0\.1\)/),
      expect.stringMatching(/"evil\.example\.com" is not on the allow-list/),
      expect.objectContaining({
        url: "http://docs.example.org/launch",
        status: 200,
        text: "The launch code is 7741.",
      }),
    ]);
    // Only the allowed fetch reached the server.
    expect(hits).toEqual(["docs.example.org/launch"]);
    hits = [];

    // Without the operator's opt-in the tool does not exist, test mode or not.
    const off = await runCli(["ask", "What is the launch code?", "--tools", "web-fetch", ...NOWHERE], {
      env: { DELIBERATE_TEST_WEB_FETCH_ORIGIN: origin },
    });
    expect(off.code).toBe(2);
    expect(off.stderr).toMatch(/web fetch is off by default/);
    expect(hits).toEqual([]);
  });

  it("stops react after --max-tool-calls and makes the model answer", async () => {
    const server = await model(({ request }) =>
      request.toolChoice === "none"
        ? "The answer is 5."
        : { toolCalls: [{ name: "calculator", arguments: { expression: "2 + 3" } }] },
    );
    const r = await runCli([
      "ask",
      "What is 2 + 3?",
      "--tools",
      "calculator",
      "--max-tool-calls",
      "2",
      ...openaiAt(server.url),
      "--json",
    ]);
    const out = printedJson(r);
    expect(out.answer).toBe("5");
    // Two turns that called the tool, then one with tools off.
    expect(out.usage.calls).toBe(3);
  });

  /** A model in the Thought / Action text protocol, behind a server that refuses `tools`. */
  const textModel: ScriptedResponder = ({ request }) => {
    const last = request.messages?.at(-1)?.content ?? "";
    const observed = last.match(/^Observation: (\d+)/)?.[1];
    return observed
      ? `Thought: I have it.\nFinal Answer: ${observed}`
      : 'Thought: multiply.\nAction: calculator\nAction Input: {"expression": "17 * 23"}';
  };

  it("uses the text protocol with --no-native-tools, and falls back to it when the server refuses tools", async () => {
    const server = await model(textModel, { rejectTools: true });
    const args = ["ask", "What is 17 times 23?", "--tools", "calculator", "--backend", "openai"];
    const plain = await runCli([...args, "--base-url", server.url, "--no-native-tools", "--json"]);
    expect(printedJson(plain)).toMatchObject({ answer: "391", usage: { calls: 2 } });
    expect(server.requests).toBe(2);

    const db = join(dir, "fallback.db");
    const fallback = await runCli([...args, "--base-url", server.url, "--json", "--trace-db", db]);
    expect(printedJson(fallback)).toMatchObject({ answer: "391", usage: { calls: 2 } });
    // One refused request, then the two of the text protocol.
    expect(server.requests).toBe(5);
    expect(traceEvents(db).filter((e) => e.type === "error")).toEqual([
      expect.objectContaining({ recovered: true, message: expect.stringMatching(/--jinja/) }),
    ]);

    const llama = await runCli(["ask", "hi", "--no-native-tools", "--model", join(dir, "none.gguf")]);
    expect(llama.code).toBe(2);
    expect(llama.stderr).toMatch(/--no-native-tools works with --backend openai/);
  });
});
