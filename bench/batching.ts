/**
 * Batching bench: generation tokens/s of n samples decoded together as parallel sequences of one
 * context, against the same n samples generated one after another.
 *
 *   npm run bench -- [--model default] [--max-tokens 128] [--repeats 3] [--out bench/results]
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, totalmem } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createLlamaBackend } from "../src/backends/llama/llama-backend.js";
import { renderLineChart } from "../src/bench/svg-line-chart.js";
import { userMessage } from "../src/core/message.js";
import { resolveModel } from "../src/models/model-store.js";

const { values } = parseArgs({
  options: {
    model: { type: "string", default: "default" },
    "max-tokens": { type: "string", default: "128" },
    repeats: { type: "string", default: "3" },
    sizes: { type: "string", default: "1,2,4,8" },
    out: { type: "string", default: "bench/results" },
  },
});
const maxTokens = Number(values["max-tokens"]);
const repeats = Number(values.repeats);
const sizes = (values.sizes ?? "").split(",").map(Number);
const command = `npm run bench -- ${process.argv.slice(2).join(" ")}`.trim();

const resolved = await resolveModel(values.model ?? "default");
const modelName = resolved.spec?.name ?? values.model ?? "model";
const backend = createLlamaBackend({
  modelPath: resolved.path,
  modelName,
  contextSize: 1024,
  parallelSequences: Math.max(...sizes),
});
const messages = [
  userMessage("Write a long, detailed story about a lighthouse keeper who finds a message in a bottle."),
];

async function timed(run: () => Promise<number>): Promise<{ tokens: number; ms: number }> {
  const started = performance.now();
  const tokens = await run();
  return { tokens, ms: performance.now() - started };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2
    ? (s[(s.length - 1) / 2] ?? 0)
    : ((s[s.length / 2 - 1] ?? 0) + (s[s.length / 2] ?? 0)) / 2;
};

// Sampled (not greedy) like real self-consistency; fixed seeds keep runs comparable.
const request = (n: number, seed: number) => ({ messages, n, maxTokens, temperature: 0.8, seed });

await backend.generate(request(1, 0)); // warm-up: load weights, allocate the context

interface Row {
  n: number;
  batchedTokS: number;
  sequentialTokS: number;
  speedup: number;
  batchedMs: number;
  sequentialMs: number;
  tokens: number;
}
const rows: Row[] = [];
for (const n of sizes) {
  const batched: number[] = [];
  const sequential: number[] = [];
  let batchedMs = 0;
  let sequentialMs = 0;
  let tokens = 0;
  for (let r = 0; r < repeats; r++) {
    const seed = 1000 * r;
    const b = await timed(async () => (await backend.generate(request(n, seed))).usage.completionTokens);
    const s = await timed(async () => {
      let total = 0;
      for (let i = 0; i < n; i++)
        total += (await backend.generate(request(1, seed + i))).usage.completionTokens;
      return total;
    });
    batched.push((b.tokens / b.ms) * 1000);
    sequential.push((s.tokens / s.ms) * 1000);
    batchedMs += b.ms;
    sequentialMs += s.ms;
    tokens += b.tokens;
  }
  const row = {
    n,
    batchedTokS: median(batched),
    sequentialTokS: median(sequential),
    speedup: median(batched) / median(sequential),
    batchedMs: batchedMs / repeats,
    sequentialMs: sequentialMs / repeats,
    tokens: tokens / repeats,
  };
  rows.push(row);
  process.stderr.write(
    `n=${n}: batched ${row.batchedTokS.toFixed(1)} tok/s, sequential ${row.sequentialTokS.toFixed(1)} tok/s, ×${row.speedup.toFixed(2)}\n`,
  );
}
await backend.close();

const stamp = new Date().toISOString();
const base = `batching-${modelName}`;
mkdirSync(values.out ?? "bench/results", { recursive: true });
const svg = renderLineChart({
  title: `Generation tokens/s, ${modelName}, ${availableParallelism()} CPU threads`,
  xLabel: "samples n",
  yLabel: "generated tokens / s",
  logX: true,
  series: [
    { label: "batched (n sequences)", points: rows.map((r) => ({ x: r.n, y: r.batchedTokS })) },
    { label: "sequential", points: rows.map((r) => ({ x: r.n, y: r.sequentialTokS })) },
  ],
});
const table = rows
  .map(
    (r) =>
      `| ${r.n} | ${r.batchedTokS.toFixed(1)} | ${r.sequentialTokS.toFixed(1)} | ${r.speedup.toFixed(2)}× | ${(r.batchedMs / 1000).toFixed(1)} | ${(r.sequentialMs / 1000).toFixed(1)} | ${r.tokens.toFixed(0)} |`,
  )
  .join("\n");
const md = `# Batching: parallel sequences vs one after another

- Model: \`${modelName}\` (${resolved.path.split("/").at(-1)})
- Machine: ${cpus()[0]?.model ?? "cpu"}, ${availableParallelism()} threads, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, no GPU
- Workload: ${maxTokens} max new tokens per sample, temperature 0.8, fixed seeds, median of ${repeats} repeats
- Run: ${stamp}

Command:

\`\`\`
${command}
\`\`\`

| n | batched tok/s | sequential tok/s | speed-up | batched wall s | sequential wall s | tokens |
|---|---|---|---|---|---|---|
${table}

![tokens/s by n](${base}.svg)
`;
writeFileSync(join(values.out ?? "bench/results", `${base}.md`), md);
writeFileSync(join(values.out ?? "bench/results", `${base}.svg`), svg);
writeFileSync(
  join(values.out ?? "bench/results", `${base}.json`),
  `${JSON.stringify({ stamp, command, modelName, maxTokens, repeats, rows }, null, 2)}\n`,
);
process.stderr.write(`wrote ${join(values.out ?? "bench/results", `${base}.md`)}\n`);
