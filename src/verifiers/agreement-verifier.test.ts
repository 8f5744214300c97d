import { describe, expect, it } from "vitest";
import { exactFormat } from "../answers/exact-format.js";
import { createScriptedBackend } from "../backends/scripted/scripted-backend.js";
import { userMessage } from "../core/message.js";
import { runStrategy } from "../runtime/task-context.js";
import { agreementVerifier } from "./agreement-verifier.js";
import type { Candidate, Verifier, VerifierScore } from "./verifier.js";

const question = { messages: [userMessage("How many?")] };

const candidates = (answers: Array<string | undefined>): Candidate[] =>
  answers.map((answer, index) => ({ index, text: `The answer is ${answer}`, answer }));

async function scoreAll(verifier: Verifier, all: Candidate[]): Promise<VerifierScore[]> {
  const backend = createScriptedBackend();
  const result = await runStrategy(
    async (ctx, input) => {
      const scores: VerifierScore[] = [];
      for (const c of all) scores.push(await verifier.score(ctx, c, all, input));
      return { answer: "", strategy: "verify", budgetExhausted: false, details: { scores } };
    },
    question,
    { backend },
  );
  expect(backend.requests).toHaveLength(0);
  return result.details?.scores as VerifierScore[];
}

describe("agreement verifier", () => {
  it("scores the share of other candidates with an equivalent answer", async () => {
    const scores = await scoreAll(agreementVerifier(), candidates(["72", "72.0", "$72", "18", undefined]));
    expect(scores.map((s) => s.score)).toEqual([0.5, 0.5, 0.5, 0, 0]);
    expect(scores[0]?.rationale).toBe("2 of 4 others agree");
    expect(scores[4]?.rationale).toBe("no answer");
  });

  it("uses the given format's notion of sameness", async () => {
    const scores = await scoreAll(
      agreementVerifier({ format: exactFormat }),
      candidates(["Paris", "paris.", "Rome"]),
    );
    expect(scores.map((s) => s.score)).toEqual([0.5, 0.5, 0]);
  });

  it("gives a lone candidate 0", async () => {
    expect(await scoreAll(agreementVerifier(), candidates(["7"]))).toEqual([
      { score: 0, rationale: "no other candidates" },
    ]);
  });
});
