import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  type ComparisonMeta,
  type ComparisonRecord,
  MODELLED_SECONDS_CHART,
  writeComparisonReport,
} from "../bench/peers/optillm/comparison-report.js";

const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))));

const record = (
  id: number,
  correct: boolean,
  promptTokens: number,
  completionTokens: number,
): ComparisonRecord => ({
  id,
  gold: "5",
  answer: correct ? "5" : "6",
  correct,
  text: "",
  status: 200,
  seconds: 30,
  promptTokens,
  completionTokens,
  upstreamRequests: 1,
  modelCalls: 1,
  truncated: 0,
  upstreamErrors: [],
  reportedPromptTokens: null,
  reportedCompletionTokens: completionTokens,
});

const meta = (label: string, system: ComparisonMeta["system"], concurrency?: number): ComparisonMeta => ({
  label,
  system,
  method: label,
  requestModel: `${label}-default`,
  servedModel: "default",
  dataset: "gsm8k.jsonl",
  maxTokens: 512,
  prompt: "the question",
  command: `compare ${label}`,
  ...(concurrency !== undefined && { concurrency }),
});

async function folder(runs: Array<[ComparisonMeta, ComparisonRecord[]]>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "optillm-report-"));
  dirs.push(dir);
  for (const [m, records] of runs) {
    await writeFile(join(dir, `${m.label}.meta.json`), JSON.stringify(m));
    await writeFile(join(dir, `${m.label}.results.jsonl`), records.map((r) => JSON.stringify(r)).join("\n"));
  }
  return dir;
}

describe("the OptiLLM comparison's report", () => {
  it("charges both systems' counted tokens at the served model's measured speeds", async () => {
    const dir = await folder([
      [meta("re2", "optillm", 4), [record(0, true, 100, 20), record(1, false, 300, 60)]],
      [meta("cot", "deliberate", 4), [record(0, true, 50, 10), record(1, true, 50, 10)]],
    ]);
    const speedsPath = join(dir, "speeds.json");
    // "default" is served as the catalogue's qwen2.5-coder-0.5b-instruct: its speeds are the ones read.
    await writeFile(
      speedsPath,
      JSON.stringify({
        models: { "qwen2.5-coder-0.5b-instruct": { prefill: 100, decode: 10, parameters: 0.5 } },
      }),
    );
    const report = await readFile(await writeComparisonReport(dir, { speedsPath }), "utf8");
    // re2: (1 + 2) and (3 + 6) seconds, mean 6.0; cot: 0.5 + 1 each, mean 1.5.
    expect(report).toMatch(/^\| re2 \|.*\| 30\.0 \| 6\.0 \|/m);
    expect(report).toMatch(/^\| cot \|.*\| 30\.0 \| 1\.5 \|/m);
    expect(report).toContain("with 4 problem(s) in flight at once");
    expect(report).toContain(`speeds measured in \`${speedsPath}\``);
    expect(existsSync(join(dir, MODELLED_SECONDS_CHART))).toBe(true);
  });

  it("leaves modelled seconds out when the speeds do not cover the served model", async () => {
    const dir = await folder([[meta("re2", "optillm"), [record(0, true, 100, 20)]]]);
    const speedsPath = join(dir, "speeds.json");
    await writeFile(
      speedsPath,
      JSON.stringify({ models: { other: { prefill: 1, decode: 1, parameters: 1 } } }),
    );
    const report = await readFile(await writeComparisonReport(dir, { speedsPath }), "utf8");
    expect(report).not.toContain("modelled");
    expect(report).toContain("with 1 problem(s) in flight at once");
    expect(existsSync(join(dir, MODELLED_SECONDS_CHART))).toBe(false);
  });

  it("refuses a speeds file that is named but missing, rather than dropping the column", async () => {
    const dir = await folder([[meta("re2", "optillm"), [record(0, true, 100, 20)]]]);
    await expect(writeComparisonReport(dir, { speedsPath: join(dir, "absent.json") })).rejects.toThrow(
      /cannot read speeds file .*absent\.json: ENOENT/,
    );
  });

  it("compares only the problems every run answered, and says which runs hold more", async () => {
    const dir = await folder([
      // Three problems, two right; but problem 2 is not in the other run yet.
      [
        meta("re2", "optillm"),
        [record(0, false, 100, 20), record(1, false, 100, 20), record(2, true, 100, 20)],
      ],
      [meta("cot", "deliberate"), [record(0, true, 50, 10), record(1, true, 50, 10)]],
    ]);
    const report = await readFile(await writeComparisonReport(dir), "utf8");
    expect(report).toContain("over the 2 problems every run answered");
    expect(report).toContain("Left out until every run has them: 1 more of re2.");
    // re2 at 0 of 2, not 1 of 3.
    expect(report).toMatch(/^\| re2 \| optillm \| re2 \| 2 \| 0\.0% \|/m);
    // Two of two right is still a wide interval.
    expect(report).toMatch(/^\| cot \| deliberate \| cot \| 2 \| 100\.0% \| 34\.2%–100\.0% \|/m);
    // Problem by problem: cot right on both, re2 on neither; 2 against 0 is p = 2 / 4.
    expect(report).toContain("right only in cot: 2, only in re2: 0; exact McNemar p = 0.50");
    // And for each approach against its cheaper rival.
    expect(report).toMatch(
      /^- re2 \(0\.0%, 120 tokens\): below the Deliberate curve; .*right only in cot: 2, only in re2: 0/m,
    );
  });

  it("draws Deliberate's front under every run's point", async () => {
    const dir = await folder([
      [meta("re2", "optillm"), [record(0, true, 100, 20), record(1, false, 100, 20)]],
      [meta("cot", "deliberate"), [record(0, true, 50, 10), record(1, false, 50, 10)]],
      // Dearer and no better than cot: off the front.
      [meta("sc-8", "deliberate"), [record(0, true, 400, 80), record(1, false, 400, 80)]],
      [meta("auto", "deliberate"), [record(0, true, 300, 60), record(1, true, 300, 60)]],
    ]);
    await writeComparisonReport(dir);
    const svg = await readFile(join(dir, "accuracy-vs-tokens.svg"), "utf8");
    expect(svg).toContain("Deliberate&apos;s best at ≤ this cost");
    // One circle per front point: cot and auto, not sc-8.
    expect(svg.match(/class="front-point"/g)).toHaveLength(2);
    for (const legend of ["OptiLLM re2", "Deliberate cot", "Deliberate sc-8", "Deliberate auto"])
      expect(svg).toContain(`>${legend}</text>`);
    expect(svg).toContain("2 problems, the same for every run");
  });
});
