import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createScriptedBackend, type ScriptedTurn } from "../src/backends/scripted/scripted-backend.js";
import type { ProblemResult } from "../src/bench/bench-runner.js";
import {
  type OpenAICompatibleServer,
  startOpenAICompatibleServer,
} from "../src/testing/openai-compatible-server.js";
import { runCli } from "../test/run-cli.js";

/**
 * A fake model for two puzzles: chain-of-thought solves 4 9 10 13 and botches 3 3 8 8 (right value,
 * a number used twice); tree search gets both through proposals and values.
 */
const PROPOSALS: Record<string, string> = {
  "4 9 10 13": "13 - 9 = 4 (left: 4 4 10)",
  "4 4 10": "10 - 4 = 6 (left: 4 6)",
  "4 6": "4 * 6 = 24 (left: 24)",
  "3 3 8 8": "8 / 3 = 2.67 (left: 2.67 3 8)",
  "8/3 3 8": "3 - 8/3 = 1/3 (left: 1/3 8)",
  "1/3 8": "8 / 1/3 = 24 (left: 24)",
};

function respond({ prompt }: ScriptedTurn): string {
  const lines = prompt.split("\n");
  if (prompt.includes("Possible next steps"))
    return PROPOSALS[(lines.at(-2) ?? "").replace("Input: ", "")] ?? "";
  if (prompt.startsWith("Evaluate if")) return "sure";
  if (prompt.startsWith("Use the numbers 4 9 10 13"))
    return "10 - 4 = 6, 13 - 9 = 4, 6 * 4 = 24.\nAnswer: (10 - 4) * (13 - 9) = 24";
  return "8 * 3 = 24.\nAnswer: 8 * 3 * (8 / 8) = 24";
}

describe("deliberate bench --format game24", { timeout: 120_000 }, () => {
  let server: OpenAICompatibleServer;
  let dir: string;
  let dataset: string;

  beforeAll(async () => {
    server = await startOpenAICompatibleServer({
      backend: createScriptedBackend({ model: "fake-24", respond }),
    });
    dir = await mkdtemp(join(tmpdir(), "bench-24-"));
    dataset = join(dir, "24.csv");
    await writeFile(dataset, "Rank,Puzzles,AMT (s)\n1,4 9 10 13,5.1\n2,3 3 8 8,9.0\n");
  });
  afterAll(async () => {
    await server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("scores cot and tot by exact checking of the expression", async () => {
    const out = join(dir, "out");
    const r = await runCli([
      "bench",
      "--dataset",
      dataset,
      "--format",
      "game24",
      "--strategy",
      "cot,tot",
      "--out",
      out,
      "--backend",
      "openai",
      "--base-url",
      server.url,
    ]);
    expect(r.stderr).not.toMatch(/deliberate:/);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^cot: accuracy 50\.0% \(1\/2\)/m);
    expect(r.stderr).toMatch(/^tot: accuracy 100\.0% \(2\/2\)/m);
    const read = async (label: string): Promise<ProblemResult[]> =>
      (await readFile(join(out, `${label}.results.jsonl`), "utf8"))
        .trimEnd()
        .split("\n")
        .map((line) => JSON.parse(line) as ProblemResult);
    const cot = await read("cot");
    expect(cot.map((p) => [p.id, p.answer, p.correct])).toEqual([
      [1, "(10 - 4) * (13 - 9)", true],
      [2, "8 * 3 * (8 / 8)", false],
    ]);
    const tot = await read("tot");
    expect(tot.map((p) => p.answer)).toEqual(["(13 - 9) * (10 - 4)", "8 / (3 - (8 / 3))"]);
  });
});
