import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createScriptedBackend, type ScriptedTurn } from "../src/backends/scripted/scripted-backend.js";
import {
  type OpenAICompatibleServer,
  startOpenAICompatibleServer,
} from "../src/testing/openai-compatible-server.js";
import { runCliInProcess } from "../test/run-cli-in-process.js";

const LONG_REASONING =
  "First we count the apples in each basket and then we add them up before taking away the ones eaten";

/** A fake model: Game of 24 proposals that lead nowhere, else an answer in words, or long reasoning. */
function respond({ prompt }: ScriptedTurn): string {
  if (prompt.includes("Possible next steps")) return "1 + 1 = 2 (left: 1 1 2)";
  if (prompt.includes("can reach 24")) return "impossible";
  if (prompt.includes("apples")) return LONG_REASONING;
  return "The answer is forty-two.";
}

describe("deliberate ask without an answer", { timeout: 120_000 }, () => {
  let server: OpenAICompatibleServer;
  const ask = (...args: string[]) =>
    runCliInProcess(["ask", ...args, "--backend", "openai", "--base-url", server.url]);
  beforeAll(async () => {
    server = await startOpenAICompatibleServer({ backend: createScriptedBackend({ respond }) });
  });
  afterAll(() => server?.close());

  it("prints nothing, says why in one line and exits 3 when max tokens cut every sample", async () => {
    const r = await ask("How many apples are left?", "--strategy", "sc", "--n", "2", "--max-tokens", "3");
    expect(r.code).toBe(3);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(
      "deliberate: no answer: the output was cut at 3 tokens (max tokens) before an answer was written; raise --max-tokens\n",
    );
  });

  it("prints answer null and the reason with --json, and still exits 3", async () => {
    const r = await ask(
      "How many apples are left?",
      "--strategy",
      "sc",
      "--n",
      "2",
      "--max-tokens",
      "3",
      "--json",
    );
    expect(r.code).toBe(3);
    const out = JSON.parse(r.stdout);
    expect(out.answer).toBeNull();
    expect(out.noAnswer).toEqual({
      reason: "truncated",
      message: "no answer: the output was cut at 3 tokens (max tokens) before an answer was written",
    });
    expect(out.usage.calls).toBeGreaterThan(0);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
  });

  it("says a Game of 24 search is unsolved", async () => {
    const r = await ask("1 1 1 1", "--strategy", "tot", "--json");
    expect(r.code).toBe(3);
    expect(JSON.parse(r.stdout)).toMatchObject({ answer: null, noAnswer: { reason: "unsolved" } });
    expect(r.stderr).toMatch(/^deliberate: no answer: the search found no way to make 24/);
  });

  it("names the budget flag when a budget cut the run short", async () => {
    const r = await ask("What is it?", "--strategy", "asc", "--n", "8", "--budget-calls", "1");
    expect(r.code).toBe(3);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(
      /^deliberate: no answer: the call budget \(1\) ran out.*; raise --budget-calls\n$/,
    );
  });

  it("takes --format like the server's deliberate.format", async () => {
    // A numeric answer is expected by default, and "forty-two" is none; as an exact answer it is one.
    const numeric = await ask("What is it?", "--strategy", "sc", "--n", "2", "--json");
    expect(numeric.code).toBe(3);
    expect(JSON.parse(numeric.stdout).noAnswer.reason).toBe("no_extractable_answer");
    const exact = await ask("What is it?", "--strategy", "sc", "--n", "2", "--format", "exact", "--json");
    expect(exact.code).toBe(0);
    expect(exact.stderr).toBe("");
    expect(JSON.parse(exact.stdout)).toMatchObject({ answer: "forty-two" });
  });

  it("rejects an unknown --format with exit 2 and one line naming the valid ones", async () => {
    const r = await ask("What is it?", "--format", "roman");
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe("deliberate: --format must be one of: numeric, choice, exact, json, game24\n");
  });
});
