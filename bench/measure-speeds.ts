/**
 * Measures each model's single-stream speed on this machine: prefill (prompt tokens per second, from a
 * ~400-token prompt answered with one token) and decode (completion tokens per second, from a long
 * greedy answer, less its own prefill). The auto bench turns recorded token counts into seconds with
 * these numbers, so every strategy is charged the same rates whether its calls ran now or were replayed.
 * Best of `--repeats` (least disturbed by other work on the machine).
 *
 *   npx tsx bench/measure-speeds.ts [--models qwen2.5-coder-0.5b-instruct,qwen2.5-coder-1.5b-instruct] \
 *     [--repeats 3] [--out bench/results/auto-eval/speeds.json]
 */
import { writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { createBackend } from "../src/backends/create-backend.js";
import { userMessage } from "../src/core/message.js";
import { flag, numberFlag } from "./script-flags.js";

const models = flag("models", "qwen2.5-coder-0.5b-instruct,qwen2.5-coder-1.5b-instruct").split(",");
const repeats = numberFlag("repeats", 3);
const out = flag("out", "bench/results/auto-eval/speeds.json");
/** Parameters in billions (the models' cards): FLOP-equivalent tokens are tokens × this. */
const PARAMETERS: Record<string, number> = {
  "qwen2.5-coder-0.5b-instruct": 0.49,
  "qwen2.5-coder-1.5b-instruct": 1.54,
  "smollm2-135m-instruct": 0.135,
};

const filler = (i: number) =>
  Array.from(
    { length: 40 },
    (_, j) => `Line ${i}-${j}: the train leaves at ${j + 3} o'clock with ${j * 7 + i} people.`,
  ).join("\n");

const result: Record<string, { prefill: number; decode: number; parameters: number; samples: unknown[] }> =
  {};
for (const model of models) {
  const backend = await createBackend({ model });
  const samples: Array<{ prefill: number; decode: number }> = [];
  // A first call warms the weights into memory; not counted.
  await backend.generate({ messages: [userMessage("Say hi.")], maxTokens: 4, temperature: 0 });
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    const pre = await backend.generate({
      messages: [userMessage(`${filler(r)}\nHow many lines are there? Answer with a number.`)],
      maxTokens: 1,
      temperature: 0,
    });
    const prefillSeconds = (performance.now() - t0) / 1000;
    const prefill = pre.usage.promptTokens / prefillSeconds;
    const short = `Count from 1 to 300, separated by spaces, nothing else. (${r})`;
    const t1 = performance.now();
    const dec = await backend.generate({ messages: [userMessage(short)], maxTokens: 256, temperature: 0 });
    const seconds = (performance.now() - t1) / 1000 - dec.usage.promptTokens / prefill;
    const decode = dec.usage.completionTokens / seconds;
    samples.push({ prefill, decode });
    console.error(
      `${model}: prefill ${prefill.toFixed(1)} tok/s (${pre.usage.promptTokens} tokens), decode ${decode.toFixed(1)} tok/s (${dec.usage.completionTokens} tokens)`,
    );
  }
  await backend.close();
  const parameters = PARAMETERS[model];
  if (parameters === undefined) throw new Error(`no parameter count for ${model}`);
  result[model] = {
    prefill: Math.max(...samples.map((s) => s.prefill)),
    decode: Math.max(...samples.map((s) => s.decode)),
    parameters,
    samples,
  };
}
writeFileSync(
  out,
  `${JSON.stringify({ measuredAt: new Date().toISOString(), cpus: cpus().length, command: `npx tsx bench/measure-speeds.ts ${process.argv.slice(2).join(" ")}`.trim(), models: result }, null, 2)}\n`,
);
console.error(`wrote ${out}`);
