/**
 * Writes a recording in the form committed to the repo: gzip-compressed, with each per-token
 * confidence rounded to 4 decimals. Confidences are most of a recording's bytes, and their float
 * noise barely compresses; at 4 decimals the GSM8K curve replays to the same answer on every problem
 * (checked on 116 problems × 11 variants). Calls that are the same key twice are kept once.
 *
 *   npx tsx bench/compact-recording.ts --in bench/results/gsm8k/sc-n16-t0.3.calls.jsonl \
 *     --out bench/results/gsm8k/sc-n16-t0.3.calls.jsonl.gz
 */
import { writeFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { readRecording } from "../src/backends/replay/recording.js";
import { flag } from "./script-flags.js";

const input = flag("in");
const output = flag("out");
if (!output.endsWith(".gz")) throw new Error("--out must end in .gz: replays read it by that name");

const round = (x: number) => Math.round(x * 1e4) / 1e4;
const seen = new Set<string>();
const lines: string[] = [];
for (const call of await readRecording(input)) {
  if (seen.has(call.key)) continue;
  seen.add(call.key);
  const completions = call.result.completions.map((c) =>
    c.tokenConfidences === undefined ? c : { ...c, tokenConfidences: c.tokenConfidences.map(round) },
  );
  lines.push(JSON.stringify({ ...call, result: { ...call.result, completions } }));
}
writeFileSync(output, gzipSync(`${lines.join("\n")}\n`, { level: 9 }));
console.log(`${lines.length} calls written to ${output}`);
