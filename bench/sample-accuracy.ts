/**
 * How often a single self-consistency sample is right, against how often the vote is: replays a
 * recorded `sc` run (no model) and scores every sample of every finished problem.
 *
 *   npx tsx bench/sample-accuracy.ts --results bench/results/gsm8k/sc-n16.results.jsonl \
 *     --recording bench/results/gsm8k/sc-n16.calls.jsonl --n 16 [--max-tokens 512] [--temperature T] \
 *     [--strategy sc-greedy] [--dump samples.jsonl]
 *
 * `--dump` writes one line per problem (gold, and each sample's canonical answer in seed order, with its
 * confidence when the recording has token confidences) for studying stopping and voting rules offline.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { numericFormat } from "../src/answers/numeric-format.js";
import { createReplayBackend } from "../src/backends/replay/replay-backend.js";
import { userMessage } from "../src/core/message.js";
import { runStrategy } from "../src/runtime/task-context.js";
import { createStrategy } from "../src/strategies/catalog.js";
import type { SelfConsistencyResult } from "../src/strategies/self-consistency.js";
import { flag, optionalFlag } from "./script-flags.js";

const n = Number(flag("n", "16"));
// Any self-consistency variant (sc, sc-greedy, asc, sc-conf): each reports its samples.
const strategyName = flag("strategy", "sc");
const maxTokens = Number(flag("max-tokens", "512"));
// As the run was made: `bench --temperature` puts it in every call's parameters.
const temperatureFlag = optionalFlag("temperature");
const temperature = temperatureFlag === undefined ? undefined : Number(temperatureFlag);
const backend = await createReplayBackend({ path: flag("recording") });
const rows = readFileSync(flag("results"), "utf8")
  .trim()
  .split("\n")
  .map((line) => JSON.parse(line) as { id: string; question: string; gold: string; seed: number });
const same = (a: string | undefined, b: string) =>
  a !== undefined && numericFormat.canonical(a) === numericFormat.canonical(b);

const dumpPath = optionalFlag("dump");
const dump: string[] = [];
let samples = 0;
let right = 0;
let voted = 0;
for (const row of rows) {
  const result = await runStrategy(
    createStrategy({ name: strategyName, n }),
    {
      messages: [userMessage(row.question)],
      params: { maxTokens, seed: row.seed, ...(temperature !== undefined && { temperature }) },
    },
    { backend },
  );
  const recorded = (result.details as SelfConsistencyResult["details"]).samples;
  const answers = recorded.map((s) => s.answer);
  dump.push(
    JSON.stringify({
      id: row.id,
      gold: numericFormat.canonical(row.gold),
      answers: answers.map((a) => (a === undefined ? null : numericFormat.canonical(a))),
      // Absent when the backend that was recorded gave no token confidences.
      ...(recorded.some((s) => s.confidence !== undefined) && {
        confidences: recorded.map((s) => s.confidence ?? null),
      }),
    }),
  );
  const ok = answers.filter((a) => same(a, row.gold)).length;
  samples += answers.length;
  right += ok;
  if (same(result.answer, row.gold)) voted++;
  console.log(
    `problem ${row.id}: ${ok}/${answers.length} samples right, vote ${same(result.answer, row.gold) ? "right" : "wrong"}`,
  );
}
console.log(
  `${rows.length} problems: single-sample accuracy ${((right / samples) * 100).toFixed(1)}% (${right}/${samples}), vote ${voted}/${rows.length}`,
);
if (dumpPath !== undefined) writeFileSync(dumpPath, `${dump.join("\n")}\n`);
