import { describe, expect, it } from "vitest";
import { betaLeaderProbability, shouldStop, type VoteState } from "./stopping-rules.js";

const state = (
  votes: Record<string, number>,
  drawn: number,
  remaining: number,
  sequence: string[] = [],
): VoteState => ({
  ranked: Object.entries(votes)
    .map(([answer, v]) => ({ answer, votes: v, weight: v }))
    .sort((a, b) => b.weight - a.weight),
  drawn,
  remaining,
  sequence,
});

describe("betaLeaderProbability", () => {
  it("is 1/2 with no evidence and grows with the leader's margin", () => {
    expect(betaLeaderProbability(0, 0)).toBeCloseTo(0.5, 10);
    expect(betaLeaderProbability(1, 1)).toBeCloseTo(0.5, 10);
    // Beta(4, 1): P(X > 1/2) = 1 - 0.5^4.
    expect(betaLeaderProbability(3, 0)).toBeCloseTo(1 - 0.5 ** 4, 10);
    // Beta(3, 2): P(X > 1/2) = 11/16.
    expect(betaLeaderProbability(2, 1)).toBeCloseTo(11 / 16, 10);
    expect(betaLeaderProbability(8, 1)).toBeGreaterThan(betaLeaderProbability(5, 1));
  });

  it("stays finite for large counts", () => {
    const p = betaLeaderProbability(600, 400);
    expect(p).toBeGreaterThan(0.999);
    expect(p).toBeLessThanOrEqual(1);
  });
});

describe("shouldStop", () => {
  it("leader rule stops only when the runner-up cannot catch up", () => {
    expect(shouldStop({ kind: "leader" }, state({ a: 5, b: 1 }, 6, 3)).stop).toBe(true);
    expect(shouldStop({ kind: "leader" }, state({ a: 5, b: 2 }, 7, 3)).stop).toBe(false);
    expect(shouldStop({ kind: "leader" }, state({ a: 4 }, 4, 4)).stop).toBe(false);
  });

  it("beta rule waits for minimum samples and then for confidence", () => {
    const rule = { kind: "beta" as const, confidence: 0.95, minSamples: 3 };
    expect(shouldStop(rule, state({ a: 2 }, 2, 10)).stop).toBe(false); // below minimum
    expect(shouldStop(rule, state({ a: 4 }, 4, 10)).stop).toBe(true); // 1 - 0.5^5 = 0.969
    expect(shouldStop(rule, state({ a: 3 }, 3, 10)).stop).toBe(false); // 1 - 0.5^4 = 0.9375
    expect(shouldStop(rule, state({ a: 4, b: 2 }, 6, 10)).stop).toBe(false);
  });

  it("window rule needs the last samples to agree, ignoring missing answers", () => {
    const rule = { kind: "window" as const, window: 3 };
    expect(shouldStop(rule, state({ a: 3, b: 1 }, 4, 4, ["b", "a", "a", "a"])).stop).toBe(true);
    expect(shouldStop(rule, state({ a: 3, b: 1 }, 4, 4, ["a", "a", "b", "a"])).stop).toBe(false);
  });

  it("futility rule gives up once enough samples are in and no answer leads clearly", () => {
    const rule = { kind: "futility" as const, after: 8, maxLeaderVotes: 3 };
    expect(shouldStop(rule, state({ a: 3, b: 2, c: 2 }, 6, 10)).stop).toBe(false); // too early
    expect(shouldStop(rule, state({ a: 3, b: 2, c: 2, d: 1 }, 8, 8))).toEqual({
      stop: true,
      reason: "futile: no answer has more than 3 of 8 votes",
    });
    expect(shouldStop(rule, state({ a: 4, b: 2, c: 2 }, 8, 8)).stop).toBe(false); // a clear leader
    expect(shouldStop(rule, state({}, 8, 8)).stop).toBe(true); // no sample gave an answer
  });

  it("'any' stops on the first inner rule that fires and reports it", () => {
    const rule = {
      kind: "any" as const,
      rules: [
        { kind: "beta" as const, confidence: 0.95, minSamples: 3 },
        { kind: "futility" as const, after: 6, maxLeaderVotes: 2 },
      ],
    };
    expect(shouldStop(rule, state({ a: 5 }, 5, 11)).reason).toMatch(/^P\(leader\)/);
    expect(shouldStop(rule, state({ a: 2, b: 2, c: 2 }, 6, 10)).reason).toMatch(/^futile/);
    expect(shouldStop(rule, state({ a: 3, b: 2, c: 1 }, 6, 10)).stop).toBe(false);
  });

  it("always stops when nothing remains and never stops under 'none' otherwise", () => {
    expect(shouldStop({ kind: "none" }, state({ a: 1 }, 1, 0))).toEqual({
      stop: true,
      reason: "all samples drawn",
    });
    expect(shouldStop({ kind: "none" }, state({ a: 9 }, 9, 1)).stop).toBe(false);
  });
});
