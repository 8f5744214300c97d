import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createScriptedBackend } from "../src/backends/scripted/scripted-backend.js";
import type { ProblemResult } from "../src/bench/bench-runner.js";
import { userMessage } from "../src/core/message.js";
import { runStrategy } from "../src/runtime/task-context.js";
import { openStore } from "../src/store/open-store.js";
import { openDatabaseReadOnly } from "../src/store/sqlite-database.js";
import { TraceStore } from "../src/store/trace-store.js";
import { createStrategy } from "../src/strategies/catalog.js";
import { startOpenAICompatibleServer } from "../src/testing/openai-compatible-server.js";
import { runCliInProcess } from "../test/run-cli-in-process.js";

describe("deliberate trace", () => {
  let dir: string;
  let db: string;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "deliberate-trace-cli-"));
    db = join(dir, "deliberate.db");
    const store = openStore(db);
    try {
      await runStrategy(
        createStrategy({ name: "sc", n: 2 }),
        { messages: [userMessage("What is 6 * 7?")] },
        {
          backend: createScriptedBackend({ respond: ["6 * 7 = 42. The answer is 42", "The answer is 41"] }),
          taskId: "task_sc",
          strategyName: "sc",
          onEvent: (event) => store.traces.append(event),
        },
      );
      await runStrategy(
        createStrategy({ name: "react" }),
        { messages: [userMessage("Compute 6 * 7")] },
        {
          backend: createScriptedBackend({
            respond: ["Action: calculator\nAction Input: 6*7", "Final Answer: 42"],
          }),
          taskId: "task_react",
          strategyName: "react",
          onEvent: (event) => store.traces.append(event),
        },
      );
    } finally {
      store.close();
    }
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("prints a trace as a tree: steps nested, samples and the vote under their step, usage, answer", async () => {
    const r = await runCliInProcess(["trace", "task_sc", "--db", db]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^trace task_sc · sc · scripted · \d{4}-/);
    expect(lines[1]).toBe("question: What is 6 * 7?");
    expect(lines[2]).toMatch(/^├─ sample "sample 1" \[s1\] {2}\d+\+\d+ tok · 1 call · \d+ ms$/);
    expect(lines[3]).toMatch(/^│ {2}├─ cot \[s2\] {2}\d+\+\d+ tok · 1 call/);
    expect(lines[4]).toMatch(
      /^│ {2}└─ sample #0: answer 42 · stop · \d+ tok · conf 0\.\d\d {2}"6 \* 7 = 42\./,
    );
    // Each sample keeps the index it was drawn as.
    expect(r.stdout).toMatch(/^│ {2}└─ sample #1: answer 41 /m);
    expect(r.stdout).toMatch(/^└─ vote \{4[12]: 1, 4[12]: 1\} → 4[12]$/m);
    expect(r.stdout).toMatch(/^answer: 4[12]$/m);
    expect(r.stdout).toMatch(/^usage: \d+\+\d+ tok · 2 calls · \d+ ms$/m);
  });

  it("shows tool calls and results under their step", async () => {
    const r = await runCliInProcess(["trace", "--db", db, "task_react"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^├─ tool "calculator" \[s2\]/m);
    expect(r.stdout).toMatch(/^│ {2}├─ tool calculator \[call_\w+\] \{"expression":"6\*7"\}$/m);
    expect(r.stdout).toMatch(/^│ {2}└─ tool result calculator \[call_\w+\] "42"$/m);
    expect(r.stdout).toMatch(/^answer: 42$/m);
  });

  it("prints the tree as JSON with --json", async () => {
    const r = await runCliInProcess(["trace", "show", "task_sc", "--db", db, "--json"]);
    expect(r.code).toBe(0);
    const tree = JSON.parse(r.stdout);
    expect(tree).toMatchObject({ taskId: "task_sc", strategy: "sc", model: "scripted" });
    expect(tree.children.map((n: { type: string }) => n.type)).toEqual(["step", "step", "vote"]);
    expect(tree.children[0].children.map((n: { type: string }) => n.type)).toEqual(["step", "sample"]);
    expect(tree.usage.calls).toBe(2);
  });

  it("lists recent traces, newest first, with --limit and --json", async () => {
    const r = await runCliInProcess(["trace", "list", "--db", db]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^ID\s+STARTED \(UTC\)\s+STATE\s+STRATEGY\s+EVENTS\s+ANSWER\s+QUESTION$/);
    expect(lines[1]).toMatch(
      /^task_react\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+ended\s+react\s+\d+\s+42\s+Compute 6 \* 7$/,
    );
    expect(lines[2]).toMatch(/^task_sc\s+.*ended\s+sc\s+\d+\s+4[12]\s+What is 6 \* 7\?$/);
    const limited = await runCliInProcess(["trace", "list", "--db", db, "--limit", "1", "--json"]);
    expect(JSON.parse(limited.stdout).map((t: { taskId: string }) => t.taskId)).toEqual(["task_react"]);
  });

  it("exits 1 with one clear line for an unknown id, without creating a missing database", async () => {
    const unknown = await runCliInProcess(["trace", "task_nope", "--db", db]);
    expect(unknown.code).toBe(1);
    expect(unknown.stdout).toBe("");
    expect(unknown.stderr).toBe(`deliberate: no trace task_nope in ${db}\n`);
    const missing = join(dir, "missing.db");
    expect((await runCliInProcess(["trace", "task_sc", "--db", missing])).code).toBe(1);
    expect(existsSync(missing)).toBe(false);
    const empty = await runCliInProcess(["trace", "list", "--db", missing]);
    expect(empty).toEqual({ code: 0, stdout: `no traces in ${missing}\n`, stderr: "" });
  });

  it("exits 2 on bad flags and a missing id", async () => {
    const limit = await runCliInProcess(["trace", "list", "--db", db, "--limit", "0"]);
    expect(limit.code).toBe(2);
    expect(limit.stderr).toMatch(/--limit must be at least 1/);
    const flag = await runCliInProcess(["trace", "task_sc", "--db", db, "--bogus"]);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/unknown option '--bogus'/);
    expect((await runCliInProcess(["trace"])).code).toBe(2);
  });

  it("ask --trace-db stores the trace that trace then prints", async () => {
    const server = await startOpenAICompatibleServer({
      backend: createScriptedBackend({ respond: ["forty-two"] }),
    });
    try {
      const file = join(dir, "asked.db");
      const asked = await runCliInProcess([
        "ask",
        "What is six times seven?",
        "--backend",
        "openai",
        "--base-url",
        server.url,
        "--strategy",
        "direct",
        "--trace-db",
        file,
        "--json",
      ]);
      expect(asked.code).toBe(0);
      const { traceId } = JSON.parse(asked.stdout);
      const shown = await runCliInProcess(["trace", traceId, "--db", file]);
      expect(shown.code).toBe(0);
      expect(shown.stdout).toMatch(/^question: What is six times seven\?$/m);
      expect(shown.stdout).toMatch(/^└─ generate \[s1\] {2}\d+\+\d+ tok · 1 call/m);
      expect(shown.stdout).toMatch(/^answer: forty-two$/m);
    } finally {
      await server.close();
    }
  });

  it("refuses someone else's SQLite file with one line, leaving it byte-identical", async () => {
    const foreign = join(dir, "other.db");
    const raw = new Database(foreign);
    raw.exec("CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('mine');");
    raw.close();
    const hash = () => createHash("sha256").update(readFileSync(foreign)).digest("hex");
    const before = hash();
    const files = readdirSync(dir).sort();
    const expected = `deliberate: ${foreign} is not a Deliberate database: it holds another application's tables\n`;
    for (const args of [
      ["trace", "show", "abc", "--db", foreign],
      ["trace", "list", "--db", foreign],
    ]) {
      const r = await runCliInProcess(args);
      expect(r).toEqual({ code: 2, stdout: "", stderr: expected });
    }
    expect(hash()).toBe(before);
    // No journal or WAL files beside it either: nothing was written.
    expect(readdirSync(dir).sort()).toEqual(files);
  });

  it("refuses a file that is not SQLite, or lacks Deliberate's tables, with one line", async () => {
    const text = join(dir, "notes.txt");
    writeFileSync(text, "these are not the traces you are looking for\n".repeat(40));
    const before = readFileSync(text);
    const r = await runCliInProcess(["trace", "abc", "--db", text]);
    expect(r).toEqual({
      code: 2,
      stdout: "",
      stderr: `deliberate: ${text} is not a Deliberate database: it is not an SQLite database\n`,
    });
    expect(readFileSync(text).equals(before)).toBe(true);

    // Another application that happens to set user_version is still not Deliberate's.
    const versioned = join(dir, "versioned.db");
    const raw = new Database(versioned);
    raw.exec("CREATE TABLE traces (x); PRAGMA user_version = 1;");
    raw.close();
    const listed = await runCliInProcess(["trace", "list", "--db", versioned]);
    expect(listed.code).toBe(2);
    expect(listed.stderr).toMatch(
      /^deliberate: .* is not a Deliberate database: it has no trace_events, tasks table\n$/,
    );
  });
});

describe("trace ids printed by ask and bench resolve with no flags", () => {
  let dir: string;
  let saved: string | undefined;
  let defaultDb: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "deliberate-trace-default-"));
    // The default database, as the server and `deliberate trace` find it.
    defaultDb = join(dir, "home", "deliberate.db");
    saved = process.env.DELIBERATE_DB;
    process.env.DELIBERATE_DB = defaultDb;
  });
  afterEach(() => {
    if (saved === undefined) delete process.env.DELIBERATE_DB;
    else process.env.DELIBERATE_DB = saved;
    rmSync(dir, { recursive: true, force: true });
  });

  it("ask --json stores its trace in the default database; --no-trace stores none and prints no id", async () => {
    const server = await startOpenAICompatibleServer({
      backend: createScriptedBackend({ respond: ["forty-two"] }),
    });
    try {
      const endpoint = ["--backend", "openai", "--base-url", server.url, "--strategy", "direct"];
      const untraced = await runCliInProcess([
        "ask",
        "What is six times seven?",
        ...endpoint,
        "--no-trace",
        "--json",
      ]);
      expect(untraced.code).toBe(0);
      expect(JSON.parse(untraced.stdout)).not.toHaveProperty("traceId");
      expect(existsSync(defaultDb)).toBe(false);

      const asked = await runCliInProcess(["ask", "What is six times seven?", ...endpoint, "--json"]);
      expect(asked).toMatchObject({ code: 0, stderr: "" });
      const { traceId } = JSON.parse(asked.stdout);
      expect(traceId).toMatch(/^task_/);
      const shown = await runCliInProcess(["trace", "show", traceId]);
      expect(shown.code).toBe(0);
      expect(shown.stdout).toMatch(/^question: What is six times seven\?$/m);
      expect(shown.stdout).toMatch(/^answer: forty-two$/m);
      const listed = await runCliInProcess(["trace", "list", "--json"]);
      expect(JSON.parse(listed.stdout).map((t: { taskId: string }) => t.taskId)).toEqual([traceId]);

      const both = await runCliInProcess([
        "ask",
        "q",
        ...endpoint,
        "--no-trace",
        "--trace-db",
        join(dir, "x.db"),
      ]);
      expect(both).toEqual({
        code: 2,
        stdout: "",
        stderr: "deliberate: --trace-db and --no-trace exclude each other\n",
      });
    } finally {
      await server.close();
    }
  });

  it("trace list says there are no traces yet when the default database does not exist, creating nothing", async () => {
    const r = await runCliInProcess(["trace", "list"]);
    expect(r).toEqual({ code: 0, stdout: `no traces in ${defaultDb}\n`, stderr: "" });
    expect(existsSync(join(dir, "home"))).toBe(false);
  });

  it("bench stores every problem's trace, recorded or replayed, so each traceId in its results resolves", async () => {
    const dataset = join(dir, "gsm8k.jsonl");
    writeFileSync(
      dataset,
      [
        { question: "Tom has 3 apples and buys 9 more. How many?", answer: "#### 12" },
        { question: "A box holds 6 eggs. How many eggs in 5 boxes?", answer: "#### 30" },
      ]
        .map((p) => JSON.stringify(p))
        .join("\n"),
    );
    const server = await startOpenAICompatibleServer({
      backend: createScriptedBackend({
        respond: ({ prompt }) => (prompt.includes("apples") ? "The answer is 12" : "The answer is 35"),
      }),
    });
    const recording = join(dir, "calls.jsonl");
    const out = join(dir, "out");
    const bench = ["bench", "--dataset", dataset, "--strategy", "cot", "--out", out];
    try {
      const recorded = await runCliInProcess([
        ...bench,
        "--record",
        recording,
        "--backend",
        "openai",
        "--base-url",
        server.url,
      ]);
      expect(recorded.code).toBe(0);
    } finally {
      await server.close();
    }
    const replayed = await runCliInProcess([...bench, "--label", "cot-replayed", "--replay", recording]);
    expect(replayed.code).toBe(0);

    const resultsOf = (label: string): ProblemResult[] =>
      readFileSync(join(out, `${label}.results.jsonl`), "utf8")
        .trimEnd()
        .split("\n")
        .map((line) => JSON.parse(line) as ProblemResult);
    const results = [...resultsOf("cot"), ...resultsOf("cot-replayed")];
    expect(results).toHaveLength(4);
    const db = openDatabaseReadOnly(defaultDb);
    try {
      const traces = new TraceStore(db);
      for (const result of results) {
        expect(traces.get(result.traceId ?? "missing")).toMatchObject({
          state: "ended",
          input: result.question,
          strategy: result.strategy,
        });
      }
    } finally {
      db.close();
    }
    const shown = await runCliInProcess(["trace", results[3]?.traceId ?? "missing"]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/^question: A box holds 6 eggs\. How many eggs in 5 boxes\?$/m);
    expect(shown.stdout).toMatch(/^answer: 35$/m);

    // Without traces, results name none.
    const untraced = await runCliInProcess([
      ...bench,
      "--label",
      "cot-untraced",
      "--replay",
      recording,
      "--no-trace",
    ]);
    expect(untraced.code).toBe(0);
    expect(resultsOf("cot-untraced").some((r) => "traceId" in r)).toBe(false);
  });
});
