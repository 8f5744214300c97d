import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createScriptedBackend, type ScriptedBackend } from "../src/backends/scripted/scripted-backend.js";
import type { ProblemResult } from "../src/bench/bench-runner.js";
import type { Backend } from "../src/core/backend.js";
import {
  type OpenAICompatibleServer,
  startOpenAICompatibleServer,
} from "../src/testing/openai-compatible-server.js";
import { runCli } from "../test/run-cli.js";
import { runCliInProcess } from "../test/run-cli-in-process.js";

const cli = (args: string[]) => runCli(args);

/** GSM8K-format problems; the fake model gets the second one wrong. */
const PROBLEMS = [
  {
    question: "Tom has 3 apples and buys 9 more. How many apples does he have?",
    answer: "3 + 9 = 12\n#### 12",
  },
  { question: "A box holds 6 eggs. How many eggs are in 5 boxes?", answer: "6 * 5 = 30\n#### 30" },
  { question: "Sara reads 10 pages a day for 7 days. How many pages?", answer: "10 * 7 = 70\n#### 70" },
  { question: "A train runs 60 km an hour for 2 hours. How far does it go?", answer: "#### 120" },
];
const REPLIES: Array<[string, string]> = [
  ["apples", "3 + 9 = 12. The answer is 12"],
  ["eggs", "6 + 5 = 11... no, 35. The answer is 35"],
  ["pages", "The answer is 70"],
  ["train", "60 * 2 = 120. The answer is 120"],
];

describe("deliberate bench", { timeout: 120_000 }, () => {
  let server: OpenAICompatibleServer;
  let scripted: ScriptedBackend;
  let dir: string;
  let dataset: string;

  beforeAll(async () => {
    scripted = createScriptedBackend({
      model: "fake-gsm",
      respond: ({ prompt }) => REPLIES.find(([topic]) => prompt.includes(topic))?.[1] ?? "I do not know",
    });
    server = await startOpenAICompatibleServer({ backend: scripted });
    dir = await mkdtemp(join(tmpdir(), "bench-cli-"));
    dataset = join(dir, "gsm8k-mini.jsonl");
    await writeFile(dataset, `${PROBLEMS.map((p) => JSON.stringify(p)).join("\n")}\n`);
  });
  afterAll(async () => {
    await server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const endpoint = (): string[] => ["--backend", "openai", "--base-url", server.url];

  it("runs strategies into one directory and builds one report from both", async () => {
    const out = join(dir, "report-a");
    const cot = await cli(["bench", "--dataset", dataset, "--strategy", "cot", "--out", out, ...endpoint()]);
    expect(cot.stderr).not.toMatch(/deliberate:/);
    expect(cot.code).toBe(0);
    expect(cot.stdout).toBe(`${join(out, "report.md")}\n`);
    // Not a terminal: plain progress lines, then a summary line.
    expect(cot.stderr).toContain("cot: 4/4 (100%), accuracy 75.0%");
    expect(cot.stderr).toMatch(/^cot: accuracy 75\.0% \(3\/4\)/m);

    const sc = await cli([
      "bench",
      "--dataset",
      dataset,
      "--strategy",
      "sc",
      "--n",
      "3",
      "--concurrency",
      "2",
      "--out",
      out,
      ...endpoint(),
    ]);
    expect(sc.code).toBe(0);

    const lines = (await readFile(join(out, "cot.results.jsonl"), "utf8")).trimEnd().split("\n");
    const results = lines.map((line) => JSON.parse(line) as ProblemResult);
    expect(results.map((r) => [r.id, r.answer, r.gold, r.correct])).toEqual([
      [0, "12", "12", true],
      [1, "35", "30", false],
      [2, "70", "70", true],
      [3, "120", "120", true],
    ]);
    expect(
      results.every((r) => r.strategy === "cot" && r.usage.calls === 1 && r.traceId?.startsWith("task_")),
    ).toBe(true);
    const scResults = (await readFile(join(out, "sc-n3.results.jsonl"), "utf8")).trimEnd().split("\n");
    expect(scResults.map((line) => (JSON.parse(line) as ProblemResult).usage.calls)).toEqual([3, 3, 3, 3]);

    const meta = JSON.parse(await readFile(join(out, "sc-n3.meta.json"), "utf8"));
    expect(meta).toMatchObject({
      label: "sc-n3",
      strategy: "sc",
      n: 3,
      model: "fake-gsm",
      concurrency: 2,
      seed: 0,
    });

    const report = await readFile(join(out, "report.md"), "utf8");
    expect(report).toContain(`\`${dataset}\` (format gsm8k)`);
    expect(report).toContain("`fake-gsm (openai)`");
    expect(report).toMatch(/^\| cot \| 4 \| 75\.0% \(3\/4\) \| \d+ \| \d+ \| 1\.00 \|/m);
    expect(report).toMatch(/^\| sc-n3 \| 4 \| 75\.0% \(3\/4\) \| \d+ \| \d+ \| 3\.00 \|/m);
    expect(report).toContain(`deliberate bench --dataset ${dataset} --strategy cot --out ${out}`);
    expect(report).toContain("--strategy sc --n 3 --concurrency 2");
    const svg = await readFile(join(out, "accuracy-vs-seconds.svg"), "utf8");
    expect(svg.match(/class="point"/g)).toHaveLength(2);
  });

  it("gives every call --temperature, names the run by it, and will not resume it at another", async () => {
    const out = join(dir, "report-temperature");
    const args = [
      "bench",
      "--dataset",
      dataset,
      "--strategy",
      "sc",
      "--n",
      "2",
      "--limit",
      "2",
      "--out",
      out,
    ];
    const before = scripted.requests.length;
    const run = await cli([...args, "--temperature", "0.3", ...endpoint()]);
    expect(run.code).toBe(0);
    const made = scripted.requests.slice(before);
    expect(made).toHaveLength(4);
    expect(made.every((r) => r.temperature === 0.3)).toBe(true);
    const meta = JSON.parse(await readFile(join(out, "sc-n2-t0.3.meta.json"), "utf8"));
    expect(meta.temperature).toBe(0.3);
    const other = await cli([
      ...args,
      "--temperature",
      "0.5",
      "--label",
      "sc-n2-t0.3",
      "--resume",
      ...endpoint(),
    ]);
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/ran with temperature 0\.3, not 0\.5/);
    expect((await cli([...args, "--temperature", "hot"])).code).toBe(2);
  });

  it("runs a comma-separated list of strategies in turn, with --limit", async () => {
    const out = join(dir, "report-b");
    const r = await cli([
      "bench",
      "--dataset",
      dataset,
      "--strategy",
      "direct,cot",
      "--limit",
      "2",
      "--out",
      out,
      ...endpoint(),
    ]);
    expect(r.code).toBe(0);
    const report = await readFile(join(out, "report.md"), "utf8");
    expect(report).toMatch(/^\| direct \| 2 \| 50\.0% \(1\/2\) \|/m);
    expect(report).toMatch(/^\| cot \| 2 \| 50\.0% \(1\/2\) \|/m);
    const direct = (await readFile(join(out, "direct.results.jsonl"), "utf8")).trimEnd().split("\n");
    expect(JSON.parse(direct[0] ?? "{}")).toMatchObject({ answer: "12", correct: true });
  });

  it("resumes an interrupted run: keeps what finished, runs the rest, refuses changed settings", async () => {
    const out = join(dir, "report-resume");
    const base = ["bench", "--dataset", dataset, "--strategy", "cot", "--out", out, ...endpoint()];
    // A run cut short after two problems leaves their results (and a meta) behind.
    expect((await cli([...base, "--limit", "2"])).code).toBe(0);
    const resumed = await cli([...base, "--resume"]);
    expect(resumed.code).toBe(0);
    expect(resumed.stderr).toMatch(
      /^cot: accuracy 75\.0% \(3\/4\).*\(2 problems kept from the earlier run\)$/m,
    );
    // Progress starts from the kept problems, not from 1.
    expect(resumed.stderr).toMatch(/^cot: 2\/4 \(50%\) kept from the earlier run, accuracy /m);
    expect(resumed.stderr).not.toMatch(/^cot: 1\/4/m);
    const lines = (await readFile(join(out, "cot.results.jsonl"), "utf8")).trimEnd().split("\n");
    expect(lines.map((line) => (JSON.parse(line) as ProblemResult).id)).toEqual([0, 1, 2, 3]);
    const meta = JSON.parse(await readFile(join(out, "cot.meta.json"), "utf8"));
    expect(meta.partial).toBeUndefined();

    const changed = await cli([...base, "--resume", "--seed", "5"]);
    expect(changed.code).toBe(2);
    expect(changed.stderr.trim()).toBe("deliberate: cannot resume cot: it ran with seed 0, not 5");
    // The refused resume left the finished results alone.
    expect((await readFile(join(out, "cot.results.jsonl"), "utf8")).trimEnd().split("\n")).toHaveLength(4);
  });

  it("stops on SIGTERM as on Ctrl-C: keeps what finished and how long it ran, and resumes from there", async () => {
    // The train question never gets an answer until the call is aborted, so the run is mid-problem
    // when it is killed.
    const hanging: Backend = {
      kind: "scripted",
      model: scripted.model,
      capabilities: scripted.capabilities,
      generate: (request) =>
        JSON.stringify(request.messages).includes("train")
          ? new Promise((_, reject) =>
              request.signal?.addEventListener("abort", () => reject(new Error("aborted")), { once: true }),
            )
          : scripted.generate(request),
      close: async () => {},
    };
    const slowServer = await startOpenAICompatibleServer({ backend: hanging });
    const out = join(dir, "report-sigterm");
    const args = ["bench", "--dataset", dataset, "--strategy", "cot", "--out", out];
    try {
      const child = spawn(
        process.execPath,
        ["--import", "tsx", "cli/bin.ts", ...args, "--backend", "openai", "--base-url", slowServer.url],
        { cwd: join(import.meta.dirname, ".."), stdio: ["ignore", "pipe", "pipe"] },
      );
      let stderr = "";
      const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
      await new Promise<void>((resolve) =>
        child.stderr.on("data", (chunk: Buffer) => {
          stderr += chunk.toString();
          if (stderr.includes("cot: 3/4")) resolve();
        }),
      );
      child.kill("SIGTERM");
      expect(await exited).not.toBe(0);
      const meta = JSON.parse(await readFile(join(out, "cot.meta.json"), "utf8"));
      expect(meta.partial).toBe(true);
      expect(meta.elapsedMs).toBeGreaterThan(0);
      const kept = (await readFile(join(out, "cot.results.jsonl"), "utf8")).trimEnd().split("\n");
      expect(kept.map((line) => (JSON.parse(line) as ProblemResult).id)).toEqual([0, 1, 2]);
    } finally {
      await slowServer.close();
    }
    const resumed = await cli([...args, ...endpoint(), "--resume"]);
    expect(resumed.code).toBe(0);
    expect(resumed.stderr).toMatch(/\(3 problems kept from the earlier run\)$/m);
  });

  it("records a run's model calls and replays them to another strategy without the model", async () => {
    const out = join(dir, "report-replay");
    const recording = join(dir, "sc.calls.jsonl");
    const sc = ["bench", "--dataset", dataset, "--strategy", "sc", "--n", "3", "--out", out];
    expect((await cli([...sc, "--record", recording, ...endpoint()])).code).toBe(0);
    expect((await readFile(recording, "utf8")).trimEnd().split("\n")).toHaveLength(12);

    // No endpoint is given: every call is answered from the recording.
    const asc = ["bench", "--dataset", dataset, "--strategy", "asc", "--n", "3", "--out", out];
    const replayed = await cli([...asc, "--replay", recording]);
    expect(replayed.stderr).not.toMatch(/deliberate:/);
    expect(replayed.code).toBe(0);
    const report = await readFile(join(out, "report.md"), "utf8");
    expect(report).toMatch(/^\| asc-n3 \(replayed\) \| 4 \| 75\.0% \(3\/4\) \|/m);
    expect(report).toContain(`- asc-n3: replayed from \`${recording}\``);

    // Asking for samples the recording lacks fails those problems, named, instead of inventing them.
    const more = await cli([...sc.map((a) => (a === "3" ? "4" : a)), "--replay", recording]);
    expect(more.code).toBe(0);
    const first = JSON.parse(
      (await readFile(join(out, "sc-n4.results.jsonl"), "utf8")).split("\n")[0] ?? "{}",
    );
    expect(first).toMatchObject({ correct: false });
    expect(first.error).toMatch(/no call in .* matches this request \(seed 3\)/);

    // A bigger run resumed into the same recording makes only the calls it lacks: one more sample each.
    const before = server.requests;
    const sc4 = sc.map((a) => (a === "3" ? "4" : a)).map((a) => (a === out ? join(dir, "report-reuse") : a));
    const grown = await cli([...sc4, "--record", recording, "--resume", ...endpoint()]);
    expect(grown.code).toBe(0);
    expect(server.requests - before).toBe(4);
    expect((await readFile(recording, "utf8")).trimEnd().split("\n")).toHaveLength(16);

    const both = await cli([...sc, "--record", recording, "--replay", recording]);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/--record and --replay exclude each other/);
    const withModel = await cli([...asc, "--replay", recording, "--model", "other"]);
    expect(withModel.code).toBe(2);
  });

  it("will not overwrite an earlier run's results unless told to resume it or replace it", async () => {
    const out = join(dir, "report-overwrite");
    const base = ["bench", "--dataset", dataset, "--strategy", "cot", "--out", out, ...endpoint()];
    expect((await runCliInProcess([...base, "--limit", "2"])).code).toBe(0);
    const results = join(out, "cot.results.jsonl");
    const before = await readFile(results, "utf8");
    const requests = server.requests;

    const again = await runCliInProcess(base);
    expect(again.code).toBe(2);
    expect(again.stderr).toBe(
      `deliberate: ${out} already has results for cot: pass --resume to go on with that run, or --force to replace it\n`,
    );
    expect(server.requests).toBe(requests);
    expect(await readFile(results, "utf8")).toBe(before);

    const both = await runCliInProcess([...base, "--resume", "--force"]);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/^deliberate: --resume keeps .* and --force replaces them: give one\n$/);

    const replaced = await runCliInProcess([...base, "--force"]);
    expect(replaced.code).toBe(0);
    expect((await readFile(results, "utf8")).trimEnd().split("\n")).toHaveLength(4);
  });

  it("will not overwrite an earlier jsonschemabench run without --force", async () => {
    const schemas = join(dir, "schemas.jsonl");
    await writeFile(schemas, `${JSON.stringify({ id: "s1", schema: { type: "string" } })}\n`);
    const out = join(dir, "report-jsonschema");
    const args = [
      "bench",
      "--format",
      "jsonschemabench",
      "--dataset",
      schemas,
      "--coverage-only",
      "--out",
      out,
    ];
    expect((await runCliInProcess([...args, ...endpoint()])).code).toBe(0);
    const again = await runCliInProcess([...args, ...endpoint()]);
    expect(again.code).toBe(2);
    expect(again.stderr).toBe(
      `deliberate: ${out} already holds a jsonschemabench run: pass --force to replace it, or choose another --out\n`,
    );
    expect((await runCliInProcess([...args, "--force", ...endpoint()])).code).toBe(0);

    // --report-only rebuilds its report from the run's own files, with or without --format.
    const report = await readFile(join(out, "report.md"), "utf8");
    await rm(join(out, "report.md"));
    await rm(join(out, "jsonschema-bench.svg"));
    const rebuilt = await runCliInProcess(["bench", "--report-only", "--out", out]);
    expect(rebuilt.stderr).toBe("");
    expect(rebuilt.code).toBe(0);
    expect(rebuilt.stdout).toBe(`${join(out, "report.md")}\n`);
    expect(await readFile(join(out, "report.md"), "utf8")).toBe(report);
    expect(existsSync(join(out, "jsonschema-bench.svg"))).toBe(true);
    const empty = join(dir, "report-jsonschema-empty");
    const none = await runCliInProcess([
      "bench",
      "--format",
      "jsonschemabench",
      "--report-only",
      "--out",
      empty,
    ]);
    expect(none.code).toBe(2);
    expect(none.stderr).toBe(`deliberate: ${empty} holds no jsonschemabench run (no results.jsonl)\n`);
  });

  it("refuses a --record that is a directory before any problem runs", async () => {
    const out = join(dir, "report-record-dir");
    const requests = server.requests;
    const r = await runCliInProcess([
      "bench",
      "--dataset",
      dataset,
      "--strategy",
      "cot",
      "--out",
      out,
      "--record",
      dir,
      ...endpoint(),
    ]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(
      `deliberate: --record ${dir} is a directory; name a file, e.g. ${join(dir, "calls.jsonl")}\n`,
    );
    expect(server.requests).toBe(requests);
    expect(existsSync(out)).toBe(false);
  });

  // Node's mkdir(dir, { recursive: true }) spins forever on a path under /proc.
  it.runIf(existsSync("/proc/self"))(
    "fails in one line when --out cannot be made, before any problem runs",
    async () => {
      const requests = server.requests;
      const r = await runCliInProcess([
        "bench",
        "--dataset",
        dataset,
        "--strategy",
        "cot",
        "--out",
        "/proc/deliberate-bench/out",
        ...endpoint(),
      ]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(
        /^deliberate: cannot use --out \/proc\/deliberate-bench\/out: ENOENT[^\n]*\n$/,
      );
      expect(server.requests).toBe(requests);
    },
  );

  it("records n only for strategies that read it", async () => {
    const out = join(dir, "report-n");
    const r = await runCliInProcess([
      "bench",
      "--dataset",
      dataset,
      "--strategy",
      "cot,sc",
      "--n",
      "2",
      "--limit",
      "1",
      "--out",
      out,
      ...endpoint(),
    ]);
    expect(r.code).toBe(0);
    const cot = JSON.parse(await readFile(join(out, "cot.meta.json"), "utf8"));
    expect(cot.strategy).toBe("cot");
    expect(cot).not.toHaveProperty("n");
    expect(JSON.parse(await readFile(join(out, "sc-n2.meta.json"), "utf8"))).toMatchObject({
      strategy: "sc",
      n: 2,
    });
    // A resumed cot run made before this (n recorded) still resumes: n never changed what cot did.
    await writeFile(join(out, "cot.meta.json"), JSON.stringify({ ...cot, n: 8 }));
    const resumed = await runCliInProcess([
      "bench",
      "--dataset",
      dataset,
      "--strategy",
      "cot",
      "--limit",
      "1",
      "--out",
      out,
      "--resume",
      ...endpoint(),
    ]);
    expect(resumed.stderr).not.toMatch(/deliberate:/);
    expect(resumed.code).toBe(0);
  });

  it("skips --offset problems, keeping their ids and seeds, and gives auto a recorded large tier", async () => {
    const out = join(dir, "report-offset");
    const recording = join(dir, "large.calls.jsonl");
    const run = await cli([
      "bench",
      "--dataset",
      dataset,
      "--strategy",
      "auto",
      "--offset",
      "2",
      "--limit",
      "1",
      "--large-model",
      "fake-large",
      "--large-record",
      recording,
      "--out",
      out,
      ...endpoint(),
    ]);
    expect(run.stderr).not.toMatch(/deliberate:/);
    expect(run.code).toBe(0);
    const lines = (await readFile(join(out, "auto.results.jsonl"), "utf8")).trimEnd().split("\n");
    expect(lines).toHaveLength(1);
    const result = JSON.parse(lines[0] ?? "{}") as { id: number; seed: number; correct: boolean };
    // Problem 2 of the file, with the seed it has in a run from the start.
    expect(result).toMatchObject({ id: 2, seed: 2000, correct: true });
    const meta = JSON.parse(await readFile(join(out, "auto.meta.json"), "utf8")) as Record<string, unknown>;
    expect(meta).toMatchObject({ offset: 2, limit: 1 });
    // Whichever tier auto's policy used, every large-tier call is in the large recording only.
    const large = existsSync(recording)
      ? (await readFile(recording, "utf8")).split("\n").filter((line) => line !== "")
      : [];
    for (const line of large) expect(JSON.parse(line)).toMatchObject({ model: "fake-large" });
    expect(meta.largeModel).toBe("fake-large");
  });

  it("rebuilds the report from --out alone with --report-only, charging tokens at --speeds", async () => {
    const out = join(dir, "report-only");
    const ran = await cli(["bench", "--dataset", dataset, "--strategy", "cot", "--out", out, ...endpoint()]);
    expect(ran.code).toBe(0);
    const speeds = join(dir, "speeds.json");
    await writeFile(
      speeds,
      JSON.stringify({ models: { "fake-gsm": { prefill: 100, decode: 10, parameters: 0.5 } } }),
    );
    const before = scripted.requests.length;
    const r = await cli(["bench", "--out", out, "--report-only", "--speeds", speeds]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${join(out, "report.md")}\n`);
    // Nothing ran: the report comes from the results on disk.
    expect(scripted.requests.length).toBe(before);
    const results = (await readFile(join(out, "cot.results.jsonl"), "utf8"))
      .trimEnd()
      .split("\n")
      .map((line) => JSON.parse(line) as ProblemResult);
    const seconds =
      results.reduce((sum, { usage }) => sum + usage.promptTokens / 100 + usage.completionTokens / 10, 0) /
      results.length;
    const report = await readFile(join(out, "report.md"), "utf8");
    expect(report).toContain("| mean wall s | mean modelled s | B-param tokens |");
    // The modelled-seconds cell sits between wall seconds and B-param tokens (– for an unknown size).
    expect(report).toMatch(new RegExp(`^\\| cot \\|.*\\| ${seconds.toFixed(2)} \\| – \\| 0 \\|$`, "m"));
    expect(report).toContain(`speeds measured in \`${speeds}\``);
    expect(report).toContain("Pareto front by mean modelled seconds");
    expect(existsSync(join(out, "accuracy-vs-modelled-seconds.svg"))).toBe(true);
  });

  const usageCases: Array<[string, string[], RegExp]> = [
    [
      "a --large-record without --large-model",
      ["--dataset", "DATA", "--strategy", "auto", "--large-record", "x.jsonl", "--out", "OUT"],
      /^deliberate: --large-record needs --large-model \(the model whose calls it records\)$/,
    ],
    [
      "a --large-replay beside --large-model",
      [
        "--dataset",
        "DATA",
        "--strategy",
        "auto",
        "--large-model",
        "m",
        "--large-replay",
        "DATA",
        "--out",
        "OUT",
      ],
      /^deliberate: --large-replay answers from the recording's model; leave out --large-model$/,
    ],
    [
      "--report-only on a folder without results",
      ["--report-only", "--out", "OUT"],
      /^deliberate: .*unused-.* has no results \(\*\.results\.jsonl\) to report$/,
    ],
    [
      "--report-only with a dataset to run",
      ["--report-only", "--dataset", "DATA", "--out", "OUT"],
      /^deliberate: --report-only runs nothing: leave out --dataset and --strategy$/,
    ],
    [
      "a speeds file that is not JSON",
      ["--report-only", "--out", "OUT", "--speeds", "DATA"],
      /^deliberate: .*gsm8k-mini\.jsonl: not valid JSON$/,
    ],
    [
      "a missing --dataset",
      ["--strategy", "cot", "--out", "OUT"],
      /^deliberate: --dataset <file> is required$/,
    ],
    [
      "an unknown strategy",
      ["--dataset", "DATA", "--strategy", "cot,magic", "--out", "OUT"],
      /^deliberate: unknown strategy "magic" \(have: .*\bsc\b.*\)$/,
    ],
    [
      "a misspelt strategy",
      ["--dataset", "DATA", "--strategy", "cot,scc", "--out", "OUT"],
      /^deliberate: unknown strategy "scc" \(did you mean "sc"\?\)$/,
    ],
    [
      "an unknown format",
      ["--dataset", "DATA", "--format", "mmlu", "--strategy", "cot", "--out", "OUT"],
      /^deliberate: unknown --format "mmlu" \(have: gsm8k, game24, humaneval, jsonschemabench\)$/,
    ],
    [
      "a dataset file that does not exist",
      ["--dataset", "NOWHERE", "--strategy", "cot", "--out", "OUT"],
      /^deliberate: dataset file not found: .*nowhere\.jsonl$/,
    ],
    [
      "a malformed number",
      ["--dataset", "DATA", "--strategy", "sc", "--n", "many", "--out", "OUT"],
      /^deliberate: --n must be a whole number, not "many"$/,
    ],
  ];
  for (const [what, args, message] of usageCases) {
    it(`rejects ${what} with exit 2 and one line`, async () => {
      const out = join(dir, `unused-${what.replace(/\W+/g, "-")}`);
      const filled = args.map((a) =>
        a === "DATA" ? dataset : a === "OUT" ? out : a === "NOWHERE" ? join(dir, "nowhere.jsonl") : a,
      );
      const r = await cli(["bench", ...filled, ...endpoint()]);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe("");
      expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
      expect(r.stderr.trimEnd()).toMatch(message);
      expect(existsSync(out)).toBe(false);
    });
  }
});
