import { describe, expect, it } from "vitest";
import { createScriptedBackend } from "../backends/scripted/scripted-backend.js";
import type { DeliberateEvent } from "../core/event.js";
import { userMessage } from "../core/message.js";
import { runStrategy } from "../runtime/task-context.js";
import { type RefineResult, refine } from "./refine.js";

const input = { messages: [userMessage("What is 6 * 7?")] };

/** Hands out drafts, critiques and rewrites in order, each list repeating its last entry. */
function scripted(script: { draft: string; critiques: string[]; rewrites?: string[] }) {
  let critiques = 0;
  let rewrites = 0;
  const pick = (list: string[], i: number) => list[Math.min(i, list.length - 1)] ?? "";
  return createScriptedBackend({
    respond: ({ prompt }) => {
      if (prompt.includes("VERDICT: REVISE")) return pick(script.critiques, critiques++);
      if (prompt.startsWith("Rewrite the solution")) return pick(script.rewrites ?? [], rewrites++);
      return script.draft;
    },
  });
}

const detailsOf = (result: { details?: Record<string, unknown> }) =>
  result.details as RefineResult["details"];

describe("refine", () => {
  it("stops when the critique's verdict is CORRECT", async () => {
    const backend = scripted({
      draft: "6 * 7 = 42. The answer is 42",
      critiques: ["All right.\nVERDICT: CORRECT"],
    });
    const events: DeliberateEvent[] = [];
    const result = await runStrategy(refine(), input, { backend, onEvent: (e) => events.push(e) });
    expect(result.answer).toBe("42");
    expect(result.strategy).toBe("refine");
    expect(detailsOf(result)).toMatchObject({
      stopReason: "verdict correct",
      rounds: [
        {
          draft: "6 * 7 = 42. The answer is 42",
          critique: "All right.\nVERDICT: CORRECT",
          verdict: "correct",
          answer: "42",
        },
      ],
      extracted: "42",
    });
    expect(backend.requests).toHaveLength(2);
    const review = backend.requests[1]?.messages ?? [];
    expect(review.map((m) => m.role)).toEqual(["user", "assistant", "user"]);
    expect(review[1]?.content).toBe("6 * 7 = 42. The answer is 42");
    const kinds = events.flatMap((e) => (e.type === "step.start" ? [e.kind] : []));
    expect(kinds).toEqual(["draft", "cot", "critique"]);
  });

  it("stops when a rewrite leaves the answer unchanged", async () => {
    const backend = scripted({
      draft: "6 * 7 = 40. The answer is 40",
      critiques: ["Step 1 is off.\nVERDICT: REVISE"],
      rewrites: ["Recounted: the answer is 40.0"],
    });
    const result = await runStrategy(refine(), input, { backend });
    expect(result.answer).toBe("40");
    const details = detailsOf(result);
    expect(details.stopReason).toBe("answer unchanged");
    expect(details.rounds.map((r) => [r.answer, r.verdict])).toEqual([
      ["40", "revise"],
      ["40", undefined],
    ]);
    expect(backend.requests).toHaveLength(3);
    const rewrite = backend.requests[2]?.messages ?? [];
    expect(rewrite.map((m) => m.role)).toEqual(["user", "assistant", "user", "assistant", "user"]);
    expect(rewrite[3]?.content).toBe("Step 1 is off.\nVERDICT: REVISE");
    expect(rewrite[4]?.content).toContain('"The answer is N"');
  });

  it("stops after maxRounds rewrites, reviewing only the latest draft", async () => {
    const backend = scripted({
      draft: "The answer is 40",
      critiques: ["Wrong.\nVERDICT: REVISE"],
      rewrites: ["The answer is 41", "The answer is 42", "The answer is 43"],
    });
    const result = await runStrategy(refine({ maxRounds: 2 }), input, { backend });
    expect(result.answer).toBe("42");
    const details = detailsOf(result);
    expect(details.stopReason).toBe("max rounds");
    expect(details.rounds.map((r) => r.answer)).toEqual(["40", "41", "42"]);
    expect(details.rounds[2]?.critique).toBeUndefined();
    expect(details.reasoning).toBe("The answer is 42");
    expect(backend.requests).toHaveLength(5);
    expect(backend.requests[3]?.messages?.[1]?.content).toBe("The answer is 41");
  });

  it("refines three times by default and treats a critique without a verdict as REVISE", async () => {
    const backend = scripted({
      draft: "The answer is 40",
      critiques: ["Hmm, not sure."],
      rewrites: ["The answer is 41", "The answer is 42", "The answer is 43", "The answer is 44"],
    });
    const result = await runStrategy(refine(), input, { backend });
    expect(result.answer).toBe("43");
    expect(detailsOf(result).rounds.map((r) => r.verdict)).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
    expect(backend.requests).toHaveLength(7);
  });

  it("returns the latest draft when the budget runs out mid-way", async () => {
    const backend = scripted({
      draft: "The answer is 40",
      critiques: ["Wrong.\nVERDICT: REVISE"],
      rewrites: ["The answer is 41", "The answer is 42"],
    });
    // draft, critique, rewrite, critique; the second rewrite is refused.
    const result = await runStrategy(refine(), input, { backend, budget: { maxCalls: 4 } });
    expect(result.budgetExhausted).toBe(true);
    expect(result.answer).toBe("41");
    const details = detailsOf(result);
    expect(details.stopReason).toBe("budget");
    expect(details.rounds.map((r) => [r.answer, r.verdict])).toEqual([
      ["40", "revise"],
      ["41", "revise"],
    ]);
    expect(backend.requests).toHaveLength(4);
  });

  it("has nothing to return when the budget is gone before the first draft", async () => {
    const backend = scripted({ draft: "The answer is 40", critiques: ["VERDICT: CORRECT"] });
    const result = await runStrategy(refine(), input, { backend, budget: { maxCalls: 0 } });
    expect(result).toMatchObject({ answer: "", budgetExhausted: true });
    expect(backend.requests).toHaveLength(0);
  });
});
