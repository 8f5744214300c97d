/**
 * When to stop drawing samples. Each rule looks at the vote so far and how many samples may still come.
 */
export interface VoteState {
  /** Vote weights per canonical answer, highest first. */
  ranked: Array<{ answer: string; weight: number; votes: number }>;
  /** Samples drawn so far (including ones with no answer). */
  drawn: number;
  /** Samples still allowed. */
  remaining: number;
  /** Canonical answers of the samples in the order drawn (undefined for no answer). */
  sequence: Array<string | undefined>;
}

export type StoppingRule =
  /** Draw every sample. */
  | { kind: "none" }
  /** Stop once the leader cannot be overtaken by the samples still allowed. */
  | { kind: "leader" }
  /**
   * Adaptive-Consistency (Aggarwal et al., 2023): model leader vs runner-up votes as Beta(a+1, b+1)
   * and stop when P(leader's share > runner-up's) ≥ confidence.
   */
  | { kind: "beta"; confidence: number; minSamples?: number }
  /** Early-Stopping SC (Li et al., 2024): stop when the last `window` samples all agree. */
  | { kind: "window"; window: number }
  /**
   * Stop for futility, as a clinical trial does: once `after` samples are in and no answer holds more
   * than `maxLeaderVotes` of them, the model is guessing, and more samples rarely turn that into a right
   * majority. The leader so far is returned.
   */
  | { kind: "futility"; after: number; maxLeaderVotes: number }
  /** Stop as soon as any of these rules would (e.g. beta for a settled vote, futility for a hopeless one). */
  | { kind: "any"; rules: StoppingRule[] };

/** P(X > 1/2) for X ~ Beta(a + 1, b + 1) with whole a, b: a binomial tail, exact. */
export function betaLeaderProbability(a: number, b: number): number {
  // For integer α, β: P(X ≤ x) = Σ_{j=α}^{α+β−1} C(α+β−1, j) x^j (1−x)^{α+β−1−j}; at x = 1/2 every term shares 2^−m.
  const alpha = a + 1;
  const m = a + b + 1;
  let logCoefficient = 0; // log C(m, 0)
  let below = 0;
  for (let j = 0; j <= m; j++) {
    if (j > 0) logCoefficient += Math.log(m - j + 1) - Math.log(j);
    if (j >= alpha) below += Math.exp(logCoefficient - m * Math.LN2);
  }
  return 1 - below;
}

/** Whether to stop, and which rule fired. */
export function shouldStop(rule: StoppingRule, state: VoteState): { stop: boolean; reason?: string } {
  if (state.remaining <= 0) return { stop: true, reason: "all samples drawn" };
  const [leader, runnerUp] = state.ranked;
  switch (rule.kind) {
    case "none":
      return { stop: false };
    case "leader": {
      if (!leader) return { stop: false };
      // A sample weighs at most 1, so the runner-up gains at most `remaining` on the leader.
      const gap = leader.weight - (runnerUp?.weight ?? 0);
      return gap > state.remaining ? { stop: true, reason: "leader cannot be overtaken" } : { stop: false };
    }
    case "beta": {
      if (!leader || state.drawn < (rule.minSamples ?? 3)) return { stop: false };
      const p = betaLeaderProbability(leader.votes, runnerUp?.votes ?? 0);
      return p >= rule.confidence
        ? { stop: true, reason: `P(leader) = ${p.toFixed(3)} ≥ ${rule.confidence}` }
        : { stop: false };
    }
    case "window": {
      const last = state.sequence.slice(-rule.window);
      const agreed = last.length === rule.window && last[0] !== undefined && last.every((a) => a === last[0]);
      return agreed ? { stop: true, reason: `last ${rule.window} samples agree` } : { stop: false };
    }
    case "futility": {
      // Counted in votes, not weight, so confidence weighting cannot hide a repeated answer. No
      // answer at all after `after` samples is futile too.
      const mostVotes = Math.max(0, ...state.ranked.map((r) => r.votes));
      return state.drawn >= rule.after && mostVotes <= rule.maxLeaderVotes
        ? {
            stop: true,
            reason: `futile: no answer has more than ${rule.maxLeaderVotes} of ${state.drawn} votes`,
          }
        : { stop: false };
    }
    case "any": {
      for (const inner of rule.rules) {
        const decision = shouldStop(inner, state);
        if (decision.stop) return decision;
      }
      return { stop: false };
    }
  }
}
