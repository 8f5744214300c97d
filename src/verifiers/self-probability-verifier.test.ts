import { describe, expect, it } from "vitest";
import {
  createScriptedBackend,
  type ScriptedBackend,
  type ScriptedReply,
} from "../backends/scripted/scripted-backend.js";
import type { Backend } from "../core/backend.js";
import type { DeliberateEvent } from "../core/event.js";
import { userMessage } from "../core/message.js";
import { scoreCandidate } from "./score-candidate.js";
import { selfProbabilityVerifier } from "./self-probability-verifier.js";
import type { Candidate, VerifierScore } from "./verifier.js";

const question = { messages: [userMessage("What is 6 * 7?")] };
const candidate: Candidate = { index: 1, text: "6 * 7 = 42. The answer is 42", answer: "42" };

/** The scripted backend claiming to enforce GBNF grammars, sharing its request log. */
const withGrammar = (backend: ScriptedBackend): Backend => ({
  kind: backend.kind,
  model: backend.model,
  capabilities: { ...backend.capabilities, grammar: true },
  generate: (request) => backend.generate(request),
  close: () => backend.close(),
});

async function pTrue(backend: Backend): Promise<{ score: VerifierScore; events: DeliberateEvent[] }> {
  const events: DeliberateEvent[] = [];
  const score = await scoreCandidate(selfProbabilityVerifier(), candidate, question, {
    backend,
    onEvent: (e) => events.push(e),
  });
  return { score, events };
}

const scripted = (reply: ScriptedReply) => createScriptedBackend({ respond: [reply] });

describe("self-probability verifier", () => {
  it("constrains the reply to Yes/No and reads P(Yes) from the token confidence", async () => {
    const backend = scripted({ text: "Yes", confidences: [0.8] });
    const { score, events } = await pTrue(withGrammar(backend));
    expect(score.score).toBeCloseTo(0.8);
    const request = backend.requests[0];
    expect(request?.grammar).toBe('root ::= "Yes" | "No"');
    expect(request?.confidence).toBe(true);
    expect(request?.temperature).toBe(1);
    expect(request?.messages?.[0]?.content).toContain("Proposed answer: 42");
    expect(request?.messages?.[0]?.content).toContain("Is the proposed answer correct? Answer Yes or No.");
    expect(events.find((e) => e.type === "score")).toMatchObject({
      target: "candidate 1",
      verifier: "self-probability",
    });
  });

  it("turns a No into one minus its confidence", async () => {
    const { score } = await pTrue(withGrammar(scripted({ text: "No", confidences: [0.7] })));
    expect(score.score).toBeCloseTo(0.3);
  });

  it("parses free text without grammar support", async () => {
    const leading = scripted({ text: "Yes, that is right", confidences: [0.9, 0.5, 0.5, 0.5] });
    const { score } = await pTrue(leading);
    expect(score.score).toBeCloseTo(0.9);
    expect(leading.requests[0]?.grammar).toBeUndefined();
    // A verdict that is not the first token carries no usable confidence: it counts as certain.
    expect((await pTrue(scripted({ text: "I think no.", confidences: [0.6, 0.6, 0.6] }))).score).toEqual({
      score: 0,
      rationale: "said No",
    });
    expect((await pTrue(scripted("Unsure."))).score.score).toBe(0.5);
  });
});
