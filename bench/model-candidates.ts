/**
 * Candidate models on this machine: GGUF metadata, single-sequence generation speed, and a small
 * GSM8K probe (greedy chain-of-thought) as a first signal of answer quality.
 *
 *   npx tsx bench/model-candidates.ts --dataset ../shared/data/gsm8k/train.jsonl --problems 20
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { extractNumericAnswer } from "../src/answers/numeric-answer.js";
import { createLlamaBackend } from "../src/backends/llama/llama-backend.js";
import { readGsm8k } from "../src/bench/gsm8k-dataset.js";
import { userMessage } from "../src/core/message.js";
import { listCatalog } from "../src/models/catalog.js";
import { modelInfo, resolveModel } from "../src/models/model-store.js";

const { values } = parseArgs({
  options: {
    dataset: { type: "string", default: "../shared/data/gsm8k/train.jsonl" },
    problems: { type: "string", default: "20" },
    models: { type: "string" },
    out: { type: "string", default: "bench/results" },
  },
});
const command = `npx tsx bench/model-candidates.ts ${process.argv.slice(2).join(" ")}`.trim();
const problems = await readGsm8k(values.dataset ?? "", { limit: Number(values.problems) });
const names = values.models?.split(",") ?? listCatalog().map((m) => m.name);

interface Row {
  name: string;
  architecture: string;
  parameters: string;
  quantization: string;
  sizeMB: number;
  chatTemplate: boolean;
  license: string;
  loadMs: number;
  tokS: number;
  gsm8kCorrect: number;
  gsm8kTotal: number;
  meanTokens: number;
  sample: string;
}
const rows: Row[] = [];

for (const name of names) {
  const resolved = await resolveModel(name);
  const info = await modelInfo(resolved.path);
  const backend = createLlamaBackend({
    modelPath: resolved.path,
    modelName: name,
    contextSize: 1024,
    parallelSequences: 1,
  });
  const loadStarted = performance.now();
  await backend.load();
  const loadMs = performance.now() - loadStarted;

  // Speed: 128 greedy tokens of free text, median of three runs after a warm-up.
  const speedPrompt = [userMessage("Write a long story about a lighthouse keeper.")];
  await backend.generate({ messages: speedPrompt, maxTokens: 16, temperature: 0 });
  const speeds: number[] = [];
  for (let i = 0; i < 3; i++) {
    const result = await backend.generate({
      messages: speedPrompt,
      maxTokens: 128,
      temperature: 0.8,
      seed: i,
    });
    speeds.push((result.usage.completionTokens / result.usage.wallMs) * 1000);
  }
  speeds.sort((a, b) => a - b);

  let correct = 0;
  let tokens = 0;
  let sample = "";
  for (const problem of problems) {
    const result = await backend.generate({
      messages: [userMessage(`${problem.question}\nThink step by step, then end with "The answer is N".`)],
      maxTokens: 320,
      temperature: 0,
    });
    const text = result.completions[0]?.text ?? "";
    if (!sample) sample = text.replace(/\s+/g, " ").slice(0, 160);
    tokens += result.usage.completionTokens;
    if (extractNumericAnswer(text) === problem.gold) correct++;
  }
  await backend.close();
  const row: Row = {
    name,
    architecture: info.architecture,
    parameters: info.sizeLabel ?? resolved.spec?.parameters ?? "?",
    quantization: info.fileType ?? resolved.spec?.quantization ?? "?",
    sizeMB: Math.round(info.fileSizeBytes / 1e6),
    chatTemplate: info.hasChatTemplate,
    license: info.license ?? resolved.spec?.license ?? "?",
    loadMs: Math.round(loadMs),
    tokS: speeds[1] ?? 0,
    gsm8kCorrect: correct,
    gsm8kTotal: problems.length,
    meanTokens: tokens / problems.length,
    sample,
  };
  rows.push(row);
  process.stderr.write(`${JSON.stringify(row)}\n`);
}

const table = rows
  .map(
    (r) =>
      `| ${r.name} | ${r.architecture} | ${r.parameters} | ${r.quantization} | ${r.sizeMB} | ${r.chatTemplate ? "yes" : "no"} | ${r.license} | ${(r.loadMs / 1000).toFixed(1)} | ${r.tokS.toFixed(1)} | ${r.gsm8kCorrect}/${r.gsm8kTotal} | ${r.meanTokens.toFixed(0)} |`,
  )
  .join("\n");
const md = `# Candidate models on this machine

- Machine: ${cpus()[0]?.model ?? "cpu"}, ${availableParallelism()} threads, no GPU
- Speed: generated tokens/s of one sequence, 128 tokens at temperature 0.8, median of 3 after warm-up
- GSM8K: the first ${problems.length} problems of \`${values.dataset}\`, greedy, zero-shot "think step by step", 320 max tokens, last-number extraction
- Run: ${new Date().toISOString()}

Command:

\`\`\`
${command}
\`\`\`

| model | arch | params | quant | MB | chat template | licence | load s | tok/s | GSM8K | mean tokens |
|---|---|---|---|---|---|---|---|---|---|---|
${table}

First GSM8K answer of each model (start):

${rows.map((r) => `- **${r.name}**: ${r.sample.replace(/\|/g, "\\|")}`).join("\n")}
`;
mkdirSync(values.out ?? "bench/results", { recursive: true });
writeFileSync(join(values.out ?? "bench/results", "model-candidates.md"), md);
writeFileSync(
  join(values.out ?? "bench/results", "model-candidates.json"),
  `${JSON.stringify({ command, rows }, null, 2)}\n`,
);
process.stderr.write(`wrote ${join(values.out ?? "bench/results", "model-candidates.md")}\n`);
