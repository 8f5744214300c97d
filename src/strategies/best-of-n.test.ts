import { describe, expect, it } from "vitest";
import { createScriptedBackend } from "../backends/scripted/scripted-backend.js";
import { UsageError } from "../core/errors.js";
import type { DeliberateEvent } from "../core/event.js";
import { userMessage } from "../core/message.js";
import { runStrategy } from "../runtime/task-context.js";
import { llmJudgeVerifier } from "../verifiers/llm-judge-verifier.js";
import { programVerifier } from "../verifiers/program-verifier.js";
import { type BestOfNResult, bestOfN } from "./best-of-n.js";

/** Candidate i is drawn with seed 100 + i. */
const input = { messages: [userMessage("What is 6 * 7?")], params: { seed: 100 } };

const isJudging = (prompt: string) =>
  prompt.startsWith("Grade this solution") || prompt.startsWith("Two solutions");

/**
 * Candidate i answers answers[i]. The grader gives each answer its grade in `grades`; the pairwise judge
 * prefers 42, then the larger number, wherever the solutions are shown (or always the first, if biased).
 */
function scripted(answers: string[], options: { grades?: Record<string, number>; biased?: boolean } = {}) {
  return createScriptedBackend({
    respond: ({ request, prompt }) => {
      if (prompt.startsWith("Grade this solution")) {
        const answer = prompt.match(/Solution:\n[\s\S]*?answer is (\d+)/)?.[1] ?? "";
        return `{"reasoning": "graded", "score": ${options.grades?.[answer] ?? 1}}`;
      }
      if (prompt.startsWith("Two solutions")) {
        const [, first = "", second = ""] =
          prompt.match(/Solution 1:\n[\s\S]*?answer is (\d+)[\s\S]*Solution 2:\n[\s\S]*?answer is (\d+)/) ??
          [];
        const rank = (a: string) => (a === "42" ? 1000 : Number(a));
        const better = options.biased ? 1 : rank(first) >= rank(second) ? 1 : 2;
        return `{"reasoning": "compared", "better": ${better}}`;
      }
      return `Working it out. The answer is ${answers[(request.seed ?? 0) - 100]}`;
    },
  });
}

const is42 = programVerifier((c) => c.answer === "42");

describe("best-of-n", () => {
  it("draws n candidates with their own seeds, scores each and keeps the best", async () => {
    const backend = scripted(["10", "42", "7", "42"], { grades: { "10": 3, "42": 9, "7": 5 } });
    const events: DeliberateEvent[] = [];
    const result = await runStrategy(bestOfN({ n: 4, verifier: llmJudgeVerifier() }), input, {
      backend,
      onEvent: (e) => events.push(e),
    });
    expect(result.answer).toBe("42");
    expect(result.strategy).toBe("best-of-n");
    const details = result.details as BestOfNResult["details"];
    expect(details.chosen).toBe(1);
    expect(details.candidates.map((c) => c.score)).toEqual([0.3, 0.9, 0.5, 0.9]);
    expect(details.candidates.map((c) => c.answer)).toEqual(["10", "42", "7", "42"]);
    expect(details.reasoning).toBe("Working it out. The answer is 42");
    expect(details.stoppedEarly).toBe(false);
    const draws = backend.requests.filter((r) => !isJudging(r.messages?.at(-1)?.content ?? ""));
    expect(draws.map((r) => r.seed)).toEqual([100, 101, 102, 103]);
    expect(draws.every((r) => r.temperature === 0.7)).toBe(true);
    expect(backend.requests).toHaveLength(8);
    const scores = events.filter((e) => e.type === "score");
    expect(scores.map((e) => e.type === "score" && e.target)).toEqual([
      "candidate 0",
      "candidate 1",
      "candidate 2",
      "candidate 3",
    ]);
  });

  it("breaks equal scores in favour of the more common answer", async () => {
    const backend = scripted(["5", "9", "5", "9", "9"]);
    const flat = programVerifier(() => 0.5);
    const result = await runStrategy(bestOfN({ n: 5, verifier: flat }), input, { backend });
    expect(result.answer).toBe("9");
    expect(result.details?.chosen).toBe(1);
  });

  it("stops drawing once a candidate reaches the threshold", async () => {
    const all = scripted(["10", "42", "7", "42"]);
    await runStrategy(bestOfN({ n: 4, verifier: is42 }), input, { backend: all });
    expect(all.requests).toHaveLength(4);

    const early = scripted(["10", "42", "7", "42"]);
    const result = await runStrategy(bestOfN({ n: 4, verifier: is42, threshold: 1 }), input, {
      backend: early,
    });
    expect(early.requests).toHaveLength(2);
    expect(result.answer).toBe("42");
    expect(result.details).toMatchObject({ drawn: 2, stoppedEarly: true, chosen: 1 });
  });

  it("draws all n when no candidate reaches the threshold", async () => {
    const backend = scripted(["10", "11", "12", "13"]);
    const result = await runStrategy(bestOfN({ n: 4, verifier: is42, threshold: 0.5 }), input, { backend });
    expect(backend.requests).toHaveLength(4);
    expect(result.details).toMatchObject({ drawn: 4, stoppedEarly: false, chosen: 0 });
    expect(() => bestOfN({ verifier: is42, threshold: 2 })).toThrow(UsageError);
  });

  it("returns the best scored candidate when the budget runs out while scoring", async () => {
    const backend = scripted(["10", "42", "7", "42"], { grades: { "10": 6, "42": 9 } });
    const strategy = bestOfN({ n: 4, verifier: llmJudgeVerifier(), threshold: 0.95 });
    // draw 0, judge 0, draw 1, then the judge of candidate 1 is refused.
    const result = await runStrategy(strategy, input, { backend, budget: { maxCalls: 3 } });
    expect(result.budgetExhausted).toBe(true);
    expect(result.answer).toBe("10");
    expect(result.details?.candidates).toEqual([
      { index: 0, answer: "10", score: 0.6, rationale: "6/10: graded" },
      { index: 1, answer: "42", score: undefined, rationale: undefined },
    ]);
    expect(backend.requests).toHaveLength(3);
    expect(result.usage.calls).toBe(3);
  });

  it("returns the best candidate drawn when the budget runs out while drawing", async () => {
    const backend = scripted(["10", "42", "42", "42"]);
    const strategy = bestOfN({ n: 4, roundSize: 2, verifier: is42 });
    const result = await runStrategy(strategy, input, { backend, budget: { maxCalls: 2 } });
    expect(result.budgetExhausted).toBe(true);
    expect(result.answer).toBe("42");
    expect(result.details).toMatchObject({ drawn: 2, chosen: 1, stoppedEarly: false });
    expect(backend.requests).toHaveLength(2);
  });
});

describe("best-of-n tournament", () => {
  it("runs a knockout of pairwise judgements asked in both orders", async () => {
    const backend = scripted(["10", "42", "7", "13"]);
    const result = await runStrategy(bestOfN({ n: 4, mode: "tournament" }), input, { backend });
    expect(result.answer).toBe("42");
    expect(result.strategy).toBe("best-of-n-tournament");
    const details = result.details as BestOfNResult["details"];
    expect(details.matches?.map((m) => [m.round, m.a, m.b, m.winner, m.decidedBy])).toEqual([
      [1, 0, 1, 1, "judge"],
      [1, 2, 3, 3, "judge"],
      [2, 1, 3, 1, "judge"],
    ]);
    expect(details.matches?.[0]?.votes).toEqual({ a: 0, b: 2 });
    expect(details.candidates.map((c) => c.score)).toEqual([0, 1, 0, 0.5]);
    expect(details.candidates[3]?.rationale).toBe("lost to candidate 1 in round 2");
    // 4 draws and 2 calls per match.
    expect(backend.requests).toHaveLength(10);
  });

  it("needs no judge between candidates with the same answer", async () => {
    const backend = scripted(["42", "42", "7", "42"]);
    const result = await runStrategy(bestOfN({ n: 4, mode: "tournament" }), input, { backend });
    expect(result.answer).toBe("42");
    expect(result.details?.matches).toMatchObject([
      { a: 0, b: 1, winner: 0, decidedBy: "same answer" },
      { a: 2, b: 3, winner: 3, decidedBy: "judge" },
      { a: 0, b: 3, winner: 0, decidedBy: "same answer" },
    ]);
    expect(backend.requests).toHaveLength(6);
  });

  it("settles a position-biased judgement by the more common answer", async () => {
    const backend = scripted(["10", "42", "42", "7"], { biased: true });
    const result = await runStrategy(bestOfN({ n: 4, mode: "tournament" }), input, { backend });
    expect(result.answer).toBe("42");
    expect(result.details?.matches).toMatchObject([
      { winner: 1, decidedBy: "tie-break", votes: { a: 1, b: 1 } },
      { winner: 2, decidedBy: "tie-break" },
      { winner: 1, decidedBy: "same answer" },
    ]);
  });

  it("gives a bye to an odd candidate out", async () => {
    const backend = scripted(["10", "13", "42"]);
    const result = await runStrategy(bestOfN({ n: 3, mode: "tournament" }), input, { backend });
    expect(result.answer).toBe("42");
    expect(result.details?.matches).toMatchObject([
      { round: 1, a: 0, b: 1, winner: 1 },
      { round: 2, a: 1, b: 2, winner: 2 },
    ]);
  });

  it("finishes the bracket without the judge once the budget runs out", async () => {
    const backend = scripted(["10", "42", "7", "13"]);
    const result = await runStrategy(bestOfN({ n: 4, mode: "tournament" }), input, {
      backend,
      budget: { maxCalls: 8 },
    });
    expect(result.budgetExhausted).toBe(true);
    expect(result.answer).toBe("42");
    expect(result.details?.matches).toMatchObject([
      { winner: 1, decidedBy: "judge" },
      { winner: 3, decidedBy: "judge" },
      { winner: 1, decidedBy: "budget" },
    ]);
    expect(backend.requests).toHaveLength(8);
  });
});
