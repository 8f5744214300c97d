/**
 * Every registered strategy through `deliberate serve` on the real default model, with the official
 * openai client (stream and non-stream) and curl: the server issue's end-to-end check, written down.
 *
 *   npx tsx bench/serve-every-strategy.ts [--model default] [--out bench/results/serve-every-strategy.md]
 *
 * Not a test: it loads a real model and takes about a quarter of an hour on 2 CPU cores.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs, promisify } from "node:util";
import OpenAI from "openai";
import { startServe } from "../cli/commands/serve-command.js";
import { describeStrategies, strategyNamesWhere } from "../src/strategies/catalog.js";

const { values } = parseArgs({
  options: {
    model: { type: "string", default: "default" },
    out: { type: "string", default: "bench/results/serve-every-strategy.md" },
  },
});

const WORD_PROBLEM =
  "Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May. " +
  "How many clips did Natalia sell altogether in April and May?";
// Rank 809 of 24.csv, one that `tot` solved in bench/results/game24; unsolved, a search answers "".
const PUZZLE = "Use the numbers 2 3 4 11 and basic arithmetic operations (+ - * /) to obtain 24.";
const TREE_SEARCH = new Set(strategyNamesWhere((entry) => entry.treeSearch));
/** Small n where a strategy reads one, so the whole list runs in minutes. */
const N_FOR: Record<string, number> = {
  sc: 4,
  asc: 8,
  "sc-conf": 4,
  "best-of-n": 3,
  "best-of-n-tournament": 2,
  "pal-sc": 3,
};

const dir = mkdtempSync(join(tmpdir(), "deliberate-serve-"));
const configPath = join(dir, "config.json");
// pal and pal-sc run model-written code: on only because this check asks for it.
writeFileSync(configPath, JSON.stringify({ tools: { code: true }, defaultStrategy: "direct" }));
const handle = await startServe(
  { port: 0, model: values.model, config: configPath, db: join(dir, "t.db") } as never,
  {
    flagsGiven: true,
  },
);
const baseURL = `${handle.server.url}/v1`;
const client = new OpenAI({ baseURL, apiKey: "unused", maxRetries: 0, timeout: 20 * 60_000 });

interface Row {
  strategy: string;
  mode: string;
  answer: string;
  ok: boolean;
  seconds: number;
  tokens: number;
  calls: number;
  extensionChunks?: number;
  note?: string;
}
const rows: Row[] = [];

const modelName = (name: string) =>
  N_FOR[name] !== undefined ? `${name}-${N_FOR[name]}/default` : `${name}/default`;
const questionFor = (name: string) => (TREE_SEARCH.has(name) ? PUZZLE : WORD_PROBLEM);

for (const { name } of describeStrategies()) {
  const started = performance.now();
  try {
    const completion = await client.chat.completions.create({
      model: modelName(name),
      messages: [{ role: "user", content: questionFor(name) }],
      max_tokens: 384,
      seed: 0,
      // No cache: strategies share seeded samples, and each row should show its own compute.
      // game24 answers are expressions, not numbers.
      deliberate: { cache: false, ...(TREE_SEARCH.has(name) && { format: "game24" }) },
    } as never);
    const ext = (completion as unknown as { deliberate?: { calls?: number } }).deliberate;
    rows.push({
      strategy: name,
      mode: "non-stream",
      answer: completion.choices[0]?.message.content ?? "",
      ok: (completion.choices[0]?.message.content ?? "") !== "",
      seconds: (performance.now() - started) / 1000,
      tokens: completion.usage?.total_tokens ?? 0,
      calls: ext?.calls ?? 0,
    });
  } catch (error) {
    rows.push({
      strategy: name,
      mode: "non-stream",
      answer: "",
      ok: false,
      seconds: (performance.now() - started) / 1000,
      tokens: 0,
      calls: 0,
      note: error instanceof Error ? error.message.slice(0, 120) : String(error),
    });
  }
  process.stderr.write(`${name}: ${JSON.stringify(rows.at(-1))}\n`);
}

for (const name of ["direct", "cot", "sc", "tot"]) {
  const started = performance.now();
  let content = "";
  let extensionChunks = 0;
  let tokens = 0;
  const stream = await client.chat.completions.create({
    model: modelName(name),
    messages: [{ role: "user", content: questionFor(name) }],
    max_tokens: 384,
    seed: 0,
    stream: true,
    stream_options: { include_usage: true },
    deliberate: { cache: false, ...(TREE_SEARCH.has(name) && { format: "game24" }) },
  } as never);
  for await (const chunk of stream as unknown as AsyncIterable<OpenAI.ChatCompletionChunk>) {
    if (chunk.choices.length === 0 && (chunk as { deliberate?: unknown }).deliberate) extensionChunks++;
    content += chunk.choices[0]?.delta.content ?? "";
    if (chunk.usage) tokens = chunk.usage.total_tokens;
  }
  rows.push({
    strategy: name,
    mode: "stream",
    answer: content,
    ok: content !== "",
    seconds: (performance.now() - started) / 1000,
    tokens,
    calls: 0,
    extensionChunks,
  });
  process.stderr.write(`${name} (stream): ${JSON.stringify(rows.at(-1))}\n`);
}

const curlStarted = performance.now();
// Async: the server runs in this process, so a blocking child would deadlock it.
const { stdout: curlOut } = await promisify(execFile)("curl", [
  "-s",
  `${baseURL}/chat/completions`,
  "-H",
  "content-type: application/json",
  "-d",
  JSON.stringify({
    model: "cot/default",
    messages: [{ role: "user", content: WORD_PROBLEM }],
    seed: 0,
    deliberate: { cache: false },
  }),
]);
const curlAnswer = (JSON.parse(curlOut) as { choices?: Array<{ message?: { content?: string } }> })
  .choices?.[0]?.message?.content;
rows.push({
  strategy: "cot",
  mode: "curl",
  answer: curlAnswer ?? curlOut.slice(0, 80),
  ok: typeof curlAnswer === "string" && curlAnswer !== "",
  seconds: (performance.now() - curlStarted) / 1000,
  tokens: 0,
  calls: 0,
});

await handle.close();
rmSync(dir, { recursive: true, force: true });

const cell = (text: string) => text.replaceAll("|", "\\|").replaceAll("\n", " ").slice(0, 60);
const lines = [
  "# Every strategy through `deliberate serve`, real default model",
  "",
  `Command: \`npx tsx bench/serve-every-strategy.ts --model ${values.model}\` (${new Date().toISOString()}).`,
  "",
  "Word problem (gold 72) for most strategies; the Game of 24 puzzle 2 3 4 11 (rank 809, solved by `tot` in",
  "bench/results/game24) for the tree searches, which answer nothing when they find no expression.",
  "Every row is one HTTP request answered 200; `answered` means the answer is non-empty. Correctness is the benchmarks' job.",
  "",
  "| strategy | mode | answer | answered | s | tokens | calls | extension chunks |",
  "|---|---|---|---|---|---|---|---|",
  ...rows.map(
    (r) =>
      `| ${r.strategy} | ${r.mode} | ${cell(r.answer || r.note || "")} | ${r.ok ? "yes" : "no"} | ${r.seconds.toFixed(1)} | ${r.tokens} | ${r.calls || ""} | ${r.extensionChunks ?? ""} |`,
  ),
  "",
];
writeFileSync(values.out, lines.join("\n"));
process.stderr.write(`wrote ${values.out}\n`);
