/**
 * Does a draft model make the large tier cheaper here? Greedy decoding of the 1.5B model on GSM8K
 * chain-of-thought prompts, plain and with the 0.5B model drafting (node-llama-cpp's
 * DraftSequenceTokenPredictor: the target checks the draft's tokens in one batch, so at temperature 0
 * the text is the target's own, token for token). Prints tokens per second of each and whether the
 * texts match.
 *
 *   npx tsx bench/speculative-speed.ts [--predictor draft|lookup] [--problems 3] [--max-tokens 256] [--draft-tokens 8]
 */
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import {
  DraftSequenceTokenPredictor,
  InputLookupTokenPredictor,
  type LlamaContextSequence,
  type Token,
} from "node-llama-cpp";
import { loadModel } from "../src/backends/llama/llama-runtime.js";
import { flag, numberFlag } from "./script-flags.js";

const problems = numberFlag("problems", 3);
const maxTokens = numberFlag("max-tokens", 256);
const draftTokens = numberFlag("draft-tokens", 8);
/** "draft": the 0.5B model drafts; "lookup": tokens are looked up in the prompt (no second model). */
const predictor = flag("predictor", "draft");
const dir = join(homedir(), ".cache/deliberate/models");
const target = await loadModel(join(dir, "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"));
const draft = await loadModel(join(dir, "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"));
const targetContext = await target.createContext({ sequences: 2, contextSize: 2048 });
const draftContext = await draft.createContext({ sequences: 1, contextSize: 2048 });
const plainSequence = targetContext.getSequence();
const draftedSequence = targetContext.getSequence({
  tokenPredictor:
    predictor === "lookup"
      ? new InputLookupTokenPredictor()
      : new DraftSequenceTokenPredictor(draftContext.getSequence(), {
          maxTokens: draftTokens,
          minConfidence: 0.5,
        }),
});

const questions = readFileSync("../shared/data/gsm8k/train.jsonl", "utf8")
  .trim()
  .split("\n")
  .slice(500, 500 + problems)
  .map((l) => (JSON.parse(l) as { question: string }).question);

async function decode(
  sequence: LlamaContextSequence,
  prompt: Token[],
): Promise<{ tokens: Token[]; seconds: number }> {
  await sequence.clearHistory();
  const t0 = performance.now();
  const tokens: Token[] = [];
  for await (const token of sequence.evaluate(prompt, { temperature: 0 })) {
    tokens.push(token);
    if (tokens.length >= maxTokens || target.isEogToken(token)) break;
  }
  return { tokens, seconds: (performance.now() - t0) / 1000 };
}

let plainTokens = 0;
let plainSeconds = 0;
let draftedTokens = 0;
let draftedSeconds = 0;
for (const question of questions) {
  const text = `<|im_start|>user\n${question}\nThink step by step. End with a line of the form "The answer is N", where N is a number.<|im_end|>\n<|im_start|>assistant\n`;
  const prompt = target.tokenize(text, true);
  const plain = await decode(plainSequence, prompt);
  const drafted = await decode(draftedSequence, prompt);
  plainTokens += plain.tokens.length;
  plainSeconds += plain.seconds;
  draftedTokens += drafted.tokens.length;
  draftedSeconds += drafted.seconds;
  const same =
    plain.tokens.length === drafted.tokens.length && plain.tokens.every((t, i) => t === drafted.tokens[i]);
  console.log(
    `plain ${plain.tokens.length} tok in ${plain.seconds.toFixed(1)} s (${(plain.tokens.length / plain.seconds).toFixed(1)} tok/s); drafted ${drafted.tokens.length} tok in ${drafted.seconds.toFixed(1)} s (${(drafted.tokens.length / drafted.seconds).toFixed(1)} tok/s); same text: ${same}`,
  );
}
console.log(
  `total: plain ${(plainTokens / plainSeconds).toFixed(1)} tok/s, drafted ${(draftedTokens / draftedSeconds).toFixed(1)} tok/s, speed-up ${(plainSeconds / plainTokens / (draftedSeconds / draftedTokens)).toFixed(2)}×`,
);
await draftContext.dispose();
await targetContext.dispose();
