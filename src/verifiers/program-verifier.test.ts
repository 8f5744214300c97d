import { describe, expect, it } from "vitest";
import { createScriptedBackend } from "../backends/scripted/scripted-backend.js";
import type { DeliberateEvent } from "../core/event.js";
import { userMessage } from "../core/message.js";
import type { StrategyInput } from "../core/strategy.js";
import { type ProgramCheck, programVerifier } from "./program-verifier.js";
import { scoreCandidate } from "./score-candidate.js";
import type { Candidate, Verifier, VerifierScore } from "./verifier.js";

const question = { messages: [userMessage("Write add(a, b).")] };
const candidate: Candidate = { index: 0, text: "function add(a, b) { return a + b; }", answer: "a + b" };

async function scoreWith(verifier: Verifier): Promise<{ score: VerifierScore; events: DeliberateEvent[] }> {
  const events: DeliberateEvent[] = [];
  const backend = createScriptedBackend();
  const score = await scoreCandidate(verifier, candidate, question, {
    backend,
    onEvent: (e) => events.push(e),
  });
  return { score, events };
}

const scoreOf = async (check: ProgramCheck): Promise<VerifierScore> =>
  (await scoreWith(programVerifier(check))).score;

describe("program verifier", () => {
  it("maps pass and fail to 1 and 0 and reports under its name", async () => {
    expect(await scoreOf(() => true)).toEqual({ score: 1, rationale: "check passed" });
    expect(await scoreOf(() => false)).toEqual({ score: 0, rationale: "check failed" });
    const { events } = await scoreWith(programVerifier(() => true, "unit-tests"));
    expect(events.find((e) => e.type === "score")).toMatchObject({
      target: "candidate 0",
      verifier: "unit-tests",
      score: 1,
    });
  });

  it("keeps numeric scores within 0..1 and accepts async checks with a rationale", async () => {
    expect((await scoreOf(() => 0.4)).score).toBe(0.4);
    expect((await scoreOf(() => 3)).score).toBe(1);
    expect((await scoreOf(() => Number.NaN)).score).toBe(0);
    expect(await scoreOf(async () => ({ score: 0.75, rationale: "3 of 4 tests pass" }))).toEqual({
      score: 0.75,
      rationale: "3 of 4 tests pass",
    });
  });

  it("scores a check that throws as 0 with the error as rationale", async () => {
    expect(
      await scoreOf(() => {
        throw new Error("ReferenceError: ad is not defined");
      }),
    ).toEqual({ score: 0, rationale: "ReferenceError: ad is not defined" });
    expect(await scoreOf(async () => Promise.reject(new Error("timeout")))).toEqual({
      score: 0,
      rationale: "timeout",
    });
  });

  it("hands the check the candidate and the question", async () => {
    const seen: Array<[Candidate, StrategyInput]> = [];
    await scoreOf((c, q) => {
      seen.push([c, q]);
      return true;
    });
    expect(seen).toEqual([[candidate, question]]);
  });
});
