import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { UsageError } from "../core/errors.js";
import {
  type BenchRunMeta,
  FLOP_CHART_FILE,
  groupSweeps,
  readBenchResults,
  readBenchRuns,
  resultsPath,
  SECONDS_CHART_FILE,
  writeBenchReport,
  writeBenchRun,
} from "./bench-report.js";
import type { ProblemResult } from "./bench-runner.js";

const tempDirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "bench-report-"));
  tempDirs.push(dir);
  return dir;
}
afterAll(() => Promise.all(tempDirs.map((dir) => rm(dir, { recursive: true, force: true }))));

function result(
  label: string,
  id: number,
  correct: boolean,
  tokens: number,
  extra: Partial<ProblemResult> = {},
) {
  return {
    id,
    question: `question ${id} | with a pipe`,
    answer: correct ? "5" : "6",
    gold: "5",
    correct,
    usage: {
      promptTokens: tokens / 2,
      completionTokens: tokens / 2,
      calls: label === "cot" ? 1 : 4,
      wallMs: 1500,
    },
    traceId: `task_${label}${id}`,
    strategy: label,
    budgetExhausted: false,
    seed: id * 1000,
    ...extra,
  } satisfies ProblemResult;
}

function meta(label: string, strategy: string, command: string): BenchRunMeta {
  return {
    label,
    strategy,
    dataset: "data/gsm8k-test.jsonl",
    format: "gsm8k",
    model: "qwen2.5-coder-0.5b-instruct",
    backend: "llama",
    command,
    seed: 0,
    concurrency: 2,
    maxTokens: 512,
    startedAt: "2025-03-01T10:00:00.000Z",
    finishedAt: "2025-03-01T10:05:00.000Z",
    elapsedMs: 300_000,
  };
}

const cotResults = [result("cot", 0, true, 100), result("cot", 1, false, 120)];
const scResults = [
  result("sc-n4", 0, true, 400),
  result("sc-n4", 1, true, 440, { error: "boom", correct: false, answer: "" }),
];

describe("bench report", () => {
  it("round-trips results through JSONL, one result per line", async () => {
    const dir = await tempDir();
    const withRaw = [...cotResults, result("cot", 2, true, 90, { rawAnswer: "It is 5.\nDone", id: "x-2" })];
    await writeBenchRun(dir, "cot", withRaw, meta("cot", "cot", "deliberate bench --strategy cot"));
    const text = await readFile(resultsPath(dir, "cot"), "utf8");
    expect(text.trimEnd().split("\n")).toHaveLength(3);
    expect(await readBenchResults(resultsPath(dir, "cot"))).toEqual(withRaw);
  });

  it("builds one table and one chart from every run in the directory", async () => {
    const dir = await tempDir();
    // Written dearest first: the report orders runs by tokens, not by file or write order.
    await writeBenchRun(dir, "sc-n4", scResults, meta("sc-n4", "sc", "deliberate bench --strategy sc --n 4"));
    await writeBenchRun(dir, "cot", cotResults, meta("cot", "cot", "deliberate bench --strategy cot"));
    const reportPath = await writeBenchReport(dir, { generatedAt: new Date("2025-03-02T00:00:00Z") });
    expect(reportPath).toBe(join(dir, "report.md"));

    const report = await readFile(reportPath, "utf8");
    expect(report).toContain("`data/gsm8k-test.jsonl` (format gsm8k)");
    expect(report).toContain("`qwen2.5-coder-0.5b-instruct (llama)`");
    expect(report).toContain("2025-03-01; report generated 2025-03-02T00:00:00.000Z");
    expect(report).toContain("deliberate bench --strategy sc --n 4\n");
    expect(report).toContain("deliberate bench --strategy cot\n");
    const rows = report.split("\n").filter((line) => /^\| (cot|sc-n4) /.test(line));
    // B-param tokens: results without usage by model are all on the run's model (0.49B): 110 × 0.49.
    expect(rows).toEqual([
      "| cot | 2 | 50.0% (1/2) | 110 | 55 | 1.00 | 1.50 | 54 | 0 |",
      "| sc-n4 | 2 | 50.0% (1/2) | 420 | 210 | 4.00 | 1.50 | 206 | 1 |",
    ]);
    expect(report).toContain(`![accuracy vs mean wall seconds](${SECONDS_CHART_FILE})`);
    expect(report).toContain(`![accuracy vs B-param tokens](${FLOP_CHART_FILE})`);
    expect(report).not.toContain("not strictly comparable");

    for (const file of [SECONDS_CHART_FILE, FLOP_CHART_FILE]) {
      const svg = await readFile(join(dir, file), "utf8");
      expect(svg.startsWith("<svg")).toBe(true);
      expect(svg.match(/class="point"/g)).toHaveLength(2);
      expect(svg).toContain(">cot</text>");
      expect(svg).toContain(">sc-n4</text>");
      expect(svg).toContain("qwen2.5-coder-0.5b-instruct");
      expect(svg).not.toContain("NaN");
    }
  });

  it("joins each sweep into one line, marks the Pareto front by seconds and by B-param tokens", async () => {
    const dir = await tempDir();
    /** Four problems, `right` of them answered correctly, each at `wallMs` and `tokens`. */
    const run = async (
      label: string,
      right: number,
      wallMs: number,
      tokens: number,
      options: { meta?: Partial<BenchRunMeta>; byModel?: Record<string, number> } = {},
    ) => {
      const results = [0, 1, 2, 3].map((id) =>
        result(label, id, id < right, tokens, {
          usage: {
            promptTokens: tokens / 2,
            completionTokens: tokens / 2,
            calls: 1,
            wallMs,
            ...(options.byModel && {
              byModel: Object.fromEntries(
                Object.entries(options.byModel).map(([model, t]) => [
                  model,
                  { promptTokens: t / 2, completionTokens: t / 2, calls: 1 },
                ]),
              ),
            }),
          },
        }),
      );
      await writeBenchRun(dir, label, results, { ...meta(label, label, `bench ${label}`), ...options.meta });
    };
    await run("cot", 1, 1000, 100);
    await run("sc-n2", 2, 2000, 200);
    await run("sc-n4", 2, 4000, 400);
    await run("sc-n8", 3, 8000, 800);
    await run("sc-n8-t0.3", 3, 9000, 800, { meta: { temperature: 0.3 } });
    await run("auto", 4, 6000, 400, {
      meta: { largeModel: "qwen2.5-coder-1.5b-instruct" },
      byModel: { "qwen2.5-coder-0.5b-instruct": 300, "qwen2.5-coder-1.5b-instruct": 100 },
    });
    // A replay costs what its recorded calls did in tokens, but its wall time is the replay's.
    await run("asc-n8", 4, 1, 150, { meta: { replayOf: "calls.jsonl" } });
    // An endpoint's model has no known size.
    await run("direct", 0, 500, 100, { meta: { model: "gpt-4o-mini", backend: "openai" } });

    const runs = await readBenchRuns(dir);
    expect(groupSweeps(runs).map((sweep) => [sweep.label, sweep.runs.map((r) => r.n)])).toEqual([
      ["cot", [undefined]],
      ["direct", [undefined]],
      ["asc", [8]],
      ["sc", [2, 4, 8]],
      ["auto", [undefined]],
      ["sc-t0.3", [8]],
    ]);

    const report = await readFile(await writeBenchReport(dir), "utf8");
    // 300 × 0.49 + 100 × 1.54 = 301.
    expect(report).toMatch(
      /^\| auto \| 4 \| 100\.0% \(4\/4\) \| 400 \| 200 \| 1\.00 \| 6\.00 \| 301 \| 0 \|$/m,
    );
    expect(report).toMatch(/^\| direct \| .* \| 0\.50 \| – \| 0 \|$/m);
    expect(report).toContain("large tier qwen2.5-coder-1.5b-instruct");
    expect(report).toContain(
      "- auto: qwen2.5-coder-0.5b-instruct 300 (1.00), qwen2.5-coder-1.5b-instruct 100 (1.00)",
    );
    expect(report).toContain(
      "Pareto front by mean wall seconds (no other run is both more accurate and cheaper): direct → cot → sc-n2 → auto.",
    );
    expect(report).toContain("Not in this chart (replayed, so no wall time of their own): asc-n8.");
    expect(report).toContain(
      "Pareto front by B-param tokens (no other run is both more accurate and cheaper): cot → asc-n8.",
    );
    expect(report).toContain("Not in this chart (model size unknown): direct.");

    const seconds = await readFile(join(dir, SECONDS_CHART_FILE), "utf8");
    // One line for the sc sweep, its points in order of cost and labelled by n; the rest markers.
    const lines = [...seconds.matchAll(/<path d="([^"]+)"/g)].map(([, d = ""]) => d);
    expect(lines).toHaveLength(1);
    const xs = [...(lines[0] ?? "").matchAll(/[ML]([\d.]+),/g)].map(([, x]) => Number(x));
    expect(xs).toHaveLength(3);
    expect(xs).toEqual([...xs].sort((a, b) => a - b));
    for (const label of ["n=2", "n=4", "n=8", "sc-n8-t0.3", "auto", "cot", "direct"]) {
      expect(seconds).toContain(`>${label}</text>`);
    }
    expect(seconds).toContain(">sc (by n)</text>");
    expect(seconds.match(/class="point"/g)).toHaveLength(7);
    expect(seconds.match(/class="front-point"/g)).toHaveLength(4);
    expect(seconds).toContain("Not shown (replayed, so no wall time of their own): asc-n8");
    const flop = await readFile(join(dir, FLOP_CHART_FILE), "utf8");
    expect(flop.match(/class="point"/g)).toHaveLength(7);
    expect(flop).toContain(">asc-n8</text>");
    expect(flop).toContain("Not shown (model size unknown): direct");
  });

  it("adds sandbox runs and repairs per problem when a run made any (the code strategies)", async () => {
    const dir = await tempDir();
    await writeBenchRun(dir, "cot", cotResults, meta("cot", "cot", "deliberate bench --strategy cot"));
    const codeTest = [
      result("code-test", 0, true, 300, { toolCalls: 1 }),
      result("code-test", 1, true, 500, { toolCalls: 3, repairs: 2 }),
    ];
    await writeBenchRun(
      dir,
      "code-test",
      codeTest,
      meta("code-test", "code-test", "deliberate bench --strategy code-test"),
    );
    const report = await readFile(await writeBenchReport(dir), "utf8");
    expect(report).toContain("| errors | mean tool calls | mean repairs |");
    const rows = report.split("\n").filter((line) => /^\| (cot|code-test) /.test(line));
    expect(rows).toEqual([
      "| cot | 2 | 50.0% (1/2) | 110 | 55 | 1.00 | 1.50 | 54 | 0 | 0.00 | 0.00 |",
      "| code-test | 2 | 100.0% (2/2) | 400 | 200 | 4.00 | 1.50 | 196 | 0 | 2.00 | 1.00 |",
    ]);
  });

  it("replaces a run written again under the same label and flags runs that differ in size", async () => {
    const dir = await tempDir();
    await writeBenchRun(dir, "cot", cotResults, meta("cot", "cot", "deliberate bench --strategy cot"));
    await writeBenchRun(
      dir,
      "cot",
      [...cotResults, result("cot", 2, true, 100)],
      meta("cot", "cot", "again"),
    );
    await writeBenchRun(dir, "sc-n4", scResults, meta("sc-n4", "sc", "deliberate bench --strategy sc --n 4"));
    const runs = await readBenchRuns(dir);
    expect(runs.map((r) => [r.label, r.summary.problems])).toEqual([
      ["cot", 3],
      ["sc-n4", 2],
    ]);
    const report = await readFile(await writeBenchReport(dir), "utf8");
    expect(report.match(/^\| cot /gm)).toHaveLength(1);
    expect(report).toContain("not strictly comparable");
    expect(report).not.toContain("deliberate bench --strategy cot\n");
  });

  it("reports runs without a meta file and rejects labels that are not safe file names", async () => {
    const dir = await tempDir();
    await expect(writeBenchRun(dir, "../escape", cotResults, meta("x", "cot", "c"))).rejects.toBeInstanceOf(
      UsageError,
    );
    await writeFile(resultsPath(dir, "bare"), cotResults.map((r) => JSON.stringify(r)).join("\n"));
    const runs = await readBenchRuns(dir);
    expect(runs.map((r) => [r.label, r.meta])).toEqual([["bare", undefined]]);
    const report = await readFile(await writeBenchReport(dir), "utf8");
    expect(report).toContain("- Dataset: unknown");
    expect(report).toContain("(not recorded)");
    expect(report).toMatch(/^\| bare \| 2 \| 50\.0% \(1\/2\) \|/m);
  });

  it("charges tokens at measured speeds when given them, the run's model standing for results without byModel", async () => {
    const dir = await tempDir();
    await writeBenchRun(dir, "cot", cotResults, meta("cot", "cot", "deliberate bench --strategy cot"));
    await writeBenchRun(dir, "sc-n4", scResults, {
      ...meta("sc-n4", "sc", "deliberate bench --strategy sc --n 4"),
      model: "unmeasured",
    });
    const table = { "qwen2.5-coder-0.5b-instruct": { prefill: 100, decode: 10, parameters: 0.5 } };
    const runs = await readBenchRuns(dir, table);
    // cot: 50 + 50 tokens (0.5 s + 5 s) and 60 + 60 (0.6 s + 6 s); sc's model has no speed.
    expect(runs.find((r) => r.label === "cot")?.meanModelledSeconds).toBeCloseTo(6.05);
    expect(runs.find((r) => r.label === "sc-n4")?.meanModelledSeconds).toBeUndefined();
    const report = await readFile(
      await writeBenchReport(dir, { speeds: { path: "speeds.json", table } }),
      "utf8",
    );
    expect(report).toMatch(/^\| cot \| 2 \|.*\| 1\.50 \| 6\.05 \|/m);
    expect(report).toMatch(/^\| sc-n4 \| 2 \|.*\| 1\.50 \| – \|/m);
    expect(report).toContain("Not in this chart (no measured speed for a model they used): sc-n4.");
    expect(report).toContain("![accuracy vs mean modelled seconds](accuracy-vs-modelled-seconds.svg)");
    expect(await readFile(join(dir, "accuracy-vs-modelled-seconds.svg"), "utf8")).toContain("<svg");
    // Without speeds the report has no such column.
    expect(await readFile(await writeBenchReport(dir), "utf8")).not.toContain("modelled");
  });
});
