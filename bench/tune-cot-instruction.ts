/**
 * Which chain-of-thought instruction suits the default model: greedy accuracy, completion length, and
 * how often the model keeps writing after its answer line, on train problems kept apart from the
 * benchmark's first 200 (tuning on the problems a benchmark scores would flatter it).
 *
 *   npx tsx bench/tune-cot-instruction.ts --dataset ../shared/data/gsm8k/train.jsonl --from 1000 --problems 40
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { numericFormat } from "../src/answers/numeric-format.js";
import { createBackend } from "../src/backends/create-backend.js";
import { readGsm8k } from "../src/bench/gsm8k-dataset.js";
import { userMessage } from "../src/core/message.js";
import { runStrategy } from "../src/runtime/task-context.js";
import { cot } from "../src/strategies/cot.js";

const { values } = parseArgs({
  options: {
    dataset: { type: "string", default: "../shared/data/gsm8k/train.jsonl" },
    from: { type: "string", default: "1000" },
    problems: { type: "string", default: "40" },
    "max-tokens": { type: "string", default: "512" },
    concurrency: { type: "string", default: "4" },
    model: { type: "string", default: "default" },
    out: { type: "string", default: "bench/results" },
  },
});
const command = `npx tsx bench/tune-cot-instruction.ts ${process.argv.slice(2).join(" ")}`.trim();
const from = Number(values.from);
const all = await readGsm8k(values.dataset ?? "", { limit: from + Number(values.problems) });
const problems = all.slice(from);
const maxTokens = Number(values["max-tokens"]);

const instructions: Record<string, string> = {
  current: numericFormat.instruction,
  "then-end-with": 'Think step by step, then end with "The answer is N".',
  brief: 'Solve it step by step, briefly. Then write "The answer is N", where N is the final number.',
  "short-steps":
    'Work it out in short numbered steps, one calculation per step. Finish with "The answer is N".',
};

const backend = await createBackend({ kind: "llama", model: values.model ?? "default" });

interface Row {
  name: string;
  instruction: string;
  correct: number;
  meanCompletionTokens: number;
  truncated: number;
  /** Completions with more than a few characters after their last "The answer is N". */
  wroteOn: number;
}
const rows: Row[] = [];
const samples: Record<string, string> = {};

for (const [name, instruction] of Object.entries(instructions)) {
  const format = { ...numericFormat, instruction };
  const strategy = cot({ format });
  let correct = 0;
  let tokens = 0;
  let truncated = 0;
  let wroteOn = 0;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < problems.length) {
      const problem = problems[next++];
      if (!problem) break;
      const result = await runStrategy(
        strategy,
        { messages: [userMessage(problem.question)], params: { maxTokens } },
        { backend },
      );
      const reasoning = result.details.reasoning;
      if (format.canonical(result.answer) === format.canonical(problem.gold)) correct++;
      tokens += result.details.completionTokens;
      if (result.details.completionTokens >= maxTokens) truncated++;
      const tail = reasoning.split(/the answer is/i).at(-1) ?? "";
      if (/the answer is/i.test(reasoning) && tail.replace(/^[\s$*:]*[-\d.,]+[^\n]*/, "").trim().length > 3)
        wroteOn++;
      samples[name] ??= reasoning;
    }
  };
  await Promise.all(Array.from({ length: Number(values.concurrency) }, worker));
  rows.push({
    name,
    instruction,
    correct,
    meanCompletionTokens: tokens / problems.length,
    truncated,
    wroteOn,
  });
  console.log(
    `${name}: ${correct}/${problems.length}, ${(tokens / problems.length).toFixed(0)} tok, ${truncated} truncated, ${wroteOn} wrote on`,
  );
}
await backend.close();

const lines = [
  "# Chain-of-thought instruction for the default model",
  "",
  `Greedy \`cot\`, problems ${from}–${from + problems.length - 1} of \`${values.dataset}\` (kept apart from the benchmark's first 200), max ${maxTokens} tokens, model \`${values.model}\`.`,
  "",
  "| name | instruction | correct | mean completion tokens | hit the token cap | wrote on after the answer |",
  "|---|---|---|---|---|---|",
  ...rows.map(
    (r) =>
      `| ${r.name} | ${r.instruction.replaceAll("|", "\\|")} | ${r.correct}/${problems.length} | ${r.meanCompletionTokens.toFixed(0)} | ${r.truncated} | ${r.wroteOn} |`,
  ),
  "",
  "Command:",
  "",
  "```",
  command,
  "```",
  "",
  "First completion under each instruction:",
  "",
  ...Object.entries(samples).flatMap(([name, text]) => [`**${name}**`, "", "```", text.trim(), "```", ""]),
];
mkdirSync(values.out ?? "bench/results", { recursive: true });
writeFileSync(join(values.out ?? "bench/results", "cot-instruction.md"), `${lines.join("\n")}\n`);
