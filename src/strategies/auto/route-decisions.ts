/**
 * auto's decisions as pure functions of the predicted P(correct) and the budget's thresholds. The
 * strategy (auto.ts) takes them with models in the loop; the policy fit and the held-out evaluation
 * (bench/auto-policy.ts) take them on recorded action rows. One definition, so the simulation that
 * picks the thresholds cannot drift from what ships.
 */

/**
 * The large model's greedy CoT accuracy on GSM8K train 0–54 (39 of 55, bench/results/gsm8k-large):
 * the confidence of its answer when the router has no fitted model for it. A prior, not conditioned on
 * the question; such answers say `calibrated: false`.
 */
export const LARGE_COT_PRIOR = 39 / 55;

/** With a large tier, whether the first pass is its chain of thought rather than the small probe. */
export const startsOnLarge = (entry: "small" | "large" | undefined): boolean => entry === "large";

/** What follows the small probe. */
export type AfterProbe = "accept" | "verify" | "large-cot" | "small-vote";

/**
 * After the small probe: its answer stands at P ≥ acceptAt (or when the budget cut the probe short).
 * Below, with a large tier, the large tier checks the answer when P is high enough to be worth
 * checking (≥ verifyFrom) and it can, else solves the problem itself; without one, a small vote.
 */
export function afterProbe(
  p: number,
  o: { acceptAt: number; verifyFrom: number; hasLarge: boolean; canVerify: boolean; cut?: boolean },
): AfterProbe {
  if (p >= o.acceptAt || o.cut === true) return "accept";
  if (!o.hasLarge) return "small-vote";
  return o.canVerify && p >= o.verifyFrom ? "verify" : "large-cot";
}

/** After the large tier's P(Yes) on the probe's answer: it stands, or the large tier solves the problem. */
export const afterVerify = (p: number, acceptAt: number): "accept" | "large-cot" =>
  p >= acceptAt ? "accept" : "large-cot";

/** After the large tier's first chain of thought: it stands, or more large samples and a vote. */
export const afterLargeFirst = (p: number, acceptAt: number, cut = false): "accept" | "large-vote" =>
  p >= acceptAt || cut ? "accept" : "large-vote";

/**
 * Whether the large tier's answer replaces the best so far: when the two agree, or when the router
 * trusts it at least as much (a verified probe can outrank a doubtful large answer).
 */
export const takesLargeAnswer = (
  large: { answer: string; confidence: number },
  best: { answer: string; confidence: number },
): boolean => large.answer === best.answer || large.confidence >= best.confidence;

/**
 * In an adaptive large vote, after the one more large sample: the first answer stands when the sample
 * agrees with it (or the budget cut the sample short); else two more samples and a vote of four.
 */
export const afterLargeSecond = (agrees: boolean, cut = false): "accept" | "large-vote" =>
  agrees || cut ? "accept" : "large-vote";
