import { describe, expect, it } from "vitest";
import { createScriptedBackend, type ScriptedBackend } from "../backends/scripted/scripted-backend.js";
import type { Backend, BackendCapabilities } from "../core/backend.js";
import { UsageError } from "../core/errors.js";
import type { DeliberateEvent } from "../core/event.js";
import { userMessage } from "../core/message.js";
import { runStrategy } from "../runtime/task-context.js";
import { llmJudgeVerifier, type PairwiseVerdict, pairwiseJudge } from "./llm-judge-verifier.js";
import { scoreCandidate } from "./score-candidate.js";
import type { Candidate, Verifier, VerifierScore } from "./verifier.js";

const question = { messages: [userMessage("What is 6 * 7?")] };
const candidate: Candidate = { index: 2, text: "6 * 7 = 42. The answer is 42", answer: "42" };

/** The scripted backend with some capabilities switched, sharing its request log. */
const withCapabilities = (backend: ScriptedBackend, overrides: Partial<BackendCapabilities>): Backend => ({
  kind: backend.kind,
  model: backend.model,
  capabilities: { ...backend.capabilities, ...overrides },
  generate: (request) => backend.generate(request),
  close: () => backend.close(),
});

async function scoreWith(
  verifier: Verifier,
  backend: Backend,
  backends?: Record<string, Backend>,
): Promise<{ score: VerifierScore; events: DeliberateEvent[] }> {
  const events: DeliberateEvent[] = [];
  const score = await scoreCandidate(verifier, candidate, question, {
    backend,
    ...(backends && { backends }),
    onEvent: (e) => events.push(e),
  });
  return { score, events };
}

describe("llm judge verifier", () => {
  it("grades in a JSON object where the backend enforces schemas, and reports the score", async () => {
    const backend = createScriptedBackend({ respond: ['{"reasoning": "each step checks out", "score": 8}'] });
    const { score, events } = await scoreWith(llmJudgeVerifier(), backend);
    expect(score.score).toBeCloseTo(0.8);
    expect(score.rationale).toBe("8/10: each step checks out");
    const request = backend.requests[0];
    expect(request?.temperature).toBe(0);
    expect(request?.jsonSchema).toMatchObject({
      properties: { score: { enum: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] } },
      required: ["reasoning", "score"],
    });
    expect(request?.messages?.[0]?.content).toContain("What is 6 * 7?");
    expect(request?.messages?.[0]?.content).toContain("The answer is 42");
    const scoreEvent = events.find((e) => e.type === "score");
    expect(scoreEvent).toMatchObject({ target: "candidate 2", verifier: "llm-judge", score: 0.8 });
  });

  it('asks for and parses "Score: N" where schemas are not enforced', async () => {
    const scripted = createScriptedBackend({ respond: ["Step two is wrong.\nScore: 3"] });
    const backend = withCapabilities(scripted, { jsonSchema: false });
    const { score } = await scoreWith(llmJudgeVerifier(), backend);
    expect(score.score).toBeCloseTo(0.3);
    expect(score.rationale).toBe("3/10: Step two is wrong.");
    expect(scripted.requests[0]?.jsonSchema).toBeUndefined();
    expect(scripted.requests[0]?.messages?.[0]?.content).toContain('"Score: N"');
  });

  it("uses its scale and scores a reply without a grade as 0", async () => {
    const scripted = createScriptedBackend({ respond: ["Mostly fine. Score: 4/5", "I cannot tell."] });
    const backend = withCapabilities(scripted, { jsonSchema: false });
    expect((await scoreWith(llmJudgeVerifier({ scale: 5 }), backend)).score.score).toBeCloseTo(0.8);
    const { score } = await scoreWith(llmJudgeVerifier({ scale: 5 }), backend);
    expect(score).toEqual({ score: 0, rationale: "judge gave no score" });
    expect(() => llmJudgeVerifier({ scale: 1 })).toThrow(UsageError);
  });

  it("judges with a named backend, reading that backend's capabilities", async () => {
    const main = createScriptedBackend({ respond: ['{"reasoning": "", "score": 1}'] });
    const judgeModel = createScriptedBackend({ respond: ["Looks right.\nScore: 9"] });
    const judge = withCapabilities(judgeModel, { jsonSchema: false });
    const { score } = await scoreWith(llmJudgeVerifier({ backend: "judge" }), main, { judge });
    expect(score.score).toBeCloseTo(0.9);
    expect(main.requests).toHaveLength(0);
    expect(judgeModel.requests).toHaveLength(1);
    await expect(scoreWith(llmJudgeVerifier({ backend: "missing" }), main)).rejects.toThrow(UsageError);
  });
});

describe("pairwise judge", () => {
  const good: Candidate = { index: 0, text: "6 * 7 = 42. The answer is 42", answer: "42" };
  const bad: Candidate = { index: 1, text: "6 + 7 = 13. The answer is 13", answer: "13" };

  async function compare(backend: Backend, a: Candidate, b: Candidate): Promise<PairwiseVerdict> {
    const result = await runStrategy(
      async (ctx, input) => ({
        answer: "",
        strategy: "compare",
        budgetExhausted: false,
        details: { verdict: await pairwiseJudge(ctx, input, a, b) },
      }),
      question,
      { backend },
    );
    return result.details?.verdict as PairwiseVerdict;
  }

  /** Prefers whichever solution says 42, wherever it is shown. */
  const fairJudge = createScriptedBackend({
    respond: ({ prompt }) => {
      const first = prompt.split("Solution 2:")[0] ?? "";
      return `{"reasoning": "checked", "better": ${first.includes("answer is 42") ? 1 : 2}}`;
    },
  });

  it("asks in both orders and reports a preference that survives the swap", async () => {
    expect(await compare(fairJudge, good, bad)).toEqual({ better: "a", votes: { a: 2, b: 0 } });
    expect(await compare(fairJudge, bad, good)).toEqual({ better: "b", votes: { a: 0, b: 2 } });
    const prompts = fairJudge.requests.slice(0, 2).map((r) => r.messages?.[0]?.content ?? "");
    expect(prompts[0]?.indexOf("answer is 42")).toBeLessThan(prompts[0]?.indexOf("answer is 13") ?? 0);
    expect(prompts[1]?.indexOf("answer is 13")).toBeLessThan(prompts[1]?.indexOf("answer is 42") ?? 0);
  });

  it("calls a judge that always picks the first position a tie", async () => {
    const biased = withCapabilities(
      createScriptedBackend({ respond: ["Solution 1 is clearer.\nBetter: 1"] }),
      {
        jsonSchema: false,
      },
    );
    expect(await compare(biased, good, bad)).toEqual({ better: "tie", votes: { a: 1, b: 1 } });
  });
});
