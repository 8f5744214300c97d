import type { SelfConsistencyOptions } from "./self-consistency.js";
import type { StoppingRule } from "./stopping-rules.js";

/**
 * The settings that make self-consistency's named variants, defined once for their plain and their
 * schema-answering forms.
 */
export type VoteSettings = Pick<
  SelfConsistencyOptions,
  "roundSize" | "stopping" | "confidence" | "greedyFirst"
>;

/** Adaptive self-consistency (asc, asc-greedy): rounds of 2, stop once a Beta rule is 95% sure. asc-futility swaps the rule. */
export const ADAPTIVE: VoteSettings = {
  roundSize: 2,
  stopping: { kind: "beta", confidence: 0.95, minSamples: 3 },
};

/** sc-conf, after DeepConf: votes weighted by token confidence, the least confident quarter dropped. */
export const CONFIDENCE_WEIGHTED: VoteSettings = {
  confidence: { weight: true, filterBottom: 0.25 },
};

/**
 * asc-futility: stop at 70% confidence, or for futility once half of n is in and no answer holds more
 * than 3/8 of it (3 of 8 at n = 16). Both settings were picked on GSM8K problems 0–62 of a recorded
 * n = 16 run, among the rules that kept n = 16's accuracy there (bench/results/gsm8k-curve/NOTES.md).
 */
export function futilityStopping(n: number): StoppingRule {
  const after = Math.max(2, Math.floor(n / 2));
  return {
    kind: "any",
    rules: [
      { kind: "beta", confidence: 0.7, minSamples: 3 },
      { kind: "futility", after, maxLeaderVotes: Math.floor((after * 3) / 8) },
    ],
  };
}
