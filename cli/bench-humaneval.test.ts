import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createScriptedBackend, type ScriptedBackend } from "../src/backends/scripted/scripted-backend.js";
import type { ProblemResult } from "../src/bench/bench-runner.js";
import {
  type OpenAICompatibleServer,
  startOpenAICompatibleServer,
} from "../src/testing/openai-compatible-server.js";
import { runCli } from "../test/run-cli.js";

/** Two problems in HumanEval's layout; the fake model gets the second one wrong. */
const PROBLEMS = [
  {
    task_id: "Mini/0",
    prompt: 'def add(a: int, b: int) -> int:\n    """ Sum.\n    >>> add(2, 3)\n    5\n    """\n',
    entry_point: "add",
    test: "\n\ndef check(candidate):\n    assert candidate(2, 3) == 5\n    assert candidate(-1, 1) == 0\n",
  },
  {
    task_id: "Mini/1",
    prompt: 'def twice(s: str) -> str:\n    """ s twice.\n    >>> twice("ab")\n    \'abab\'\n    """\n',
    entry_point: "twice",
    test: "\n\ndef check(candidate):\n    assert candidate('x') == 'xx'\n",
  },
];

describe("deliberate bench --format humaneval", { timeout: 240_000 }, () => {
  let server: OpenAICompatibleServer;
  let scripted: ScriptedBackend;
  let dir: string;
  let dataset: string;

  beforeAll(async () => {
    scripted = createScriptedBackend({
      model: "fake-coder",
      respond: ({ prompt }) =>
        prompt.includes("def add")
          ? "```python\ndef add(a: int, b: int) -> int:\n    return a + b\n```"
          : "```python\ndef twice(s: str) -> str:\n    return s\n```",
    });
    server = await startOpenAICompatibleServer({ backend: scripted });
    dir = await mkdtemp(join(tmpdir(), "bench-humaneval-"));
    dataset = join(dir, "mini.jsonl");
    await writeFile(dataset, `${PROBLEMS.map((p) => JSON.stringify(p)).join("\n")}\n`);
  });
  afterAll(async () => {
    await server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("scores each program by the problem's own check in the sandbox, never showing the test to the model", async () => {
    const out = join(dir, "out");
    const run = await runCli([
      "bench",
      "--dataset",
      dataset,
      "--format",
      "humaneval",
      "--strategy",
      "code",
      "--out",
      out,
      "--no-trace",
      "--backend",
      "openai",
      "--base-url",
      server.url,
    ]);
    expect(run.stderr).not.toMatch(/deliberate:/);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/^code: accuracy 50\.0% \(1\/2\)/m);
    const results = (await readFile(join(out, "code.results.jsonl"), "utf8"))
      .trimEnd()
      .split("\n")
      .map((line) => JSON.parse(line) as ProblemResult);
    expect(results.map((r) => [r.id, r.correct, r.gold])).toEqual([
      ["Mini/0", true, "check(add)"],
      ["Mini/1", false, "check(twice)"],
    ]);
    expect(results[0]?.answer).toBe("def add(a: int, b: int) -> int:\n    return a + b");
    for (const request of scripted.requests) {
      expect(JSON.stringify(request.messages)).not.toContain("def check");
    }
    expect(await readFile(join(out, "report.md"), "utf8")).toContain("code");
  });

  it("rejects a file that is not in HumanEval's layout with one line and exit 2", async () => {
    const bad = join(dir, "bad.jsonl");
    await writeFile(bad, `${JSON.stringify({ task_id: "x", prompt: "p" })}\n`);
    const run = await runCli([
      "bench",
      "--dataset",
      bad,
      "--format",
      "humaneval",
      "--strategy",
      "code",
      "--out",
      join(dir, "bad-out"),
    ]);
    expect(run.code).toBe(2);
    expect(run.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(run.stderr).toContain('expected string fields "task_id", "prompt", "entry_point" and "test"');
  });
});
