import { describe, expect, it } from "vitest";
import { createScriptedBackend } from "../backends/scripted/scripted-backend.js";
import type { DeliberateEvent } from "../core/event.js";
import { userMessage } from "../core/message.js";
import type { Strategy } from "../core/strategy.js";
import { runStrategy } from "../runtime/task-context.js";
import { programVerifier } from "../verifiers/program-verifier.js";
import { bestOfN } from "./best-of-n.js";
import { parallel, pipeline, withParams } from "./compose.js";
import { cot } from "./cot.js";
import { refine } from "./refine.js";
import { selfConsistency } from "./self-consistency.js";

const input = { messages: [userMessage("What is 6 * 7?")] };
const stepKinds = (events: DeliberateEvent[]) =>
  events.flatMap((e) => (e.type === "step.start" ? [e.kind] : []));

describe("withParams", () => {
  it("fixes generation parameters over the input's own", async () => {
    const backend = createScriptedBackend({ respond: ["The answer is 42"] });
    const strategy = withParams(cot(), { temperature: 0.1, maxTokens: 50 });
    const result = await runStrategy(
      strategy,
      { ...input, params: { temperature: 0.9, seed: 1 } },
      { backend },
    );
    expect(result.answer).toBe("42");
    expect(backend.requests[0]).toMatchObject({ temperature: 0.1, maxTokens: 50, seed: 1 });
  });
});

describe("pipeline", () => {
  const backend = () =>
    createScriptedBackend({
      respond: ({ prompt }) =>
        prompt.startsWith("Check") ? "Checked again. The answer is 42" : "The answer is 41",
    });
  const checkAgain = pipeline(
    cot(),
    // `previous` is typed as cot's result: its details are at hand without casts.
    (previous, { messages }) => ({
      messages: [userMessage(`Check this work on "${messages[0]?.content}": ${previous.details.reasoning}`)],
    }),
    cot(),
  );

  it("feeds the first result into the second strategy's input", async () => {
    const scripted = backend();
    const events: DeliberateEvent[] = [];
    const result = await runStrategy(checkAgain, input, {
      backend: scripted,
      onEvent: (e) => events.push(e),
    });
    expect(result.answer).toBe("42");
    expect(scripted.requests[1]?.messages?.[0]?.content).toContain('on "What is 6 * 7?": The answer is 41');
    expect(stepKinds(events)).toEqual(["stage", "cot", "stage", "cot"]);
  });

  it("falls back to the first result when the budget runs out in the second", async () => {
    const result = await runStrategy(checkAgain, input, { backend: backend(), budget: { maxCalls: 1 } });
    expect(result).toMatchObject({ answer: "41", budgetExhausted: true });
  });
});

describe("parallel", () => {
  const byTemperature = () =>
    createScriptedBackend({
      respond: ({ request }) => (request.temperature === 0 ? "The answer is 42" : "The answer is 24"),
    });
  const greedyAndSampled = parallel(
    [withParams(cot(), { temperature: 0 }), withParams(cot(), { temperature: 1, seed: 7 })],
    ([greedy, sampled]) => ({
      answer: greedy?.details.extracted ?? sampled?.details.extracted ?? "",
      strategy: "greedy-first",
      budgetExhausted: false,
      details: { both: [greedy?.answer, sampled?.answer] },
    }),
  );

  it("runs branches concurrently under one context and combines their results in order", async () => {
    const backend = byTemperature();
    const events: DeliberateEvent[] = [];
    const result = await runStrategy(greedyAndSampled, input, { backend, onEvent: (e) => events.push(e) });
    expect(result.answer).toBe("42");
    expect(result.details?.both).toEqual(["42", "24"]);
    expect(result.usage.calls).toBe(2);
    // Both branches start before either finishes.
    expect(stepKinds(events).slice(0, 4)).toEqual(["branch", "cot", "branch", "cot"]);
  });

  it("passes undefined for a branch the budget cut short and flags the result", async () => {
    const twoCalls: Strategy = async (ctx, { messages }) => {
      await ctx.generate({ messages });
      await ctx.generate({ messages });
      return { answer: "never", strategy: "two-calls", budgetExhausted: false };
    };
    const seen: unknown[] = [];
    const strategy = parallel([twoCalls, cot()], ([first, second]) => {
      seen.push(first, second?.answer);
      return { answer: second?.answer ?? "", strategy: "combined", budgetExhausted: false };
    });
    const backend = byTemperature();
    const result = await runStrategy(strategy, input, { backend, budget: { maxCalls: 2 } });
    // A bare cot() decodes greedily, so the fixture answers 42.
    expect(seen).toEqual([undefined, "42"]);
    expect(result).toMatchObject({ answer: "42", budgetExhausted: true });

    const none = await runStrategy(strategy, input, { backend, budget: { maxCalls: 0 } });
    expect(none).toMatchObject({ answer: "", budgetExhausted: true });
    expect(seen).toHaveLength(2);
  });
});

describe("composed strategies", () => {
  /**
   * Drafts depend on the seed (seed 0 gets 42 right, others not); the reviewer accepts 42 and sends
   * anything else back; a rewrite always gets 42.
   */
  const refinable = () =>
    createScriptedBackend({
      respond: ({ request, prompt }) => {
        if (prompt.includes("VERDICT: REVISE")) {
          const draft = request.messages?.at(-2)?.content ?? "";
          return draft.includes("answer is 42")
            ? "Right.\nVERDICT: CORRECT"
            : "Wrong product.\nVERDICT: REVISE";
        }
        if (prompt.startsWith("Rewrite the solution")) return "Fixed: 6 * 7 = 42. The answer is 42";
        return `First try. The answer is ${42 - (request.seed ?? 0)}`;
      },
    });

  it("self-consistency over refine votes on refined answers", async () => {
    const seeded = { ...input, params: { seed: 0 } };
    const plain = await runStrategy(selfConsistency({ n: 3 }), seeded, { backend: refinable() });
    expect(plain.details?.distribution).toHaveLength(3);

    const backend = refinable();
    const result = await runStrategy(selfConsistency({ n: 3, base: refine({ maxRounds: 1 }) }), seeded, {
      backend,
    });
    expect(result.answer).toBe("42");
    expect(result.details?.distribution).toEqual([{ answer: "42", votes: 3, weight: 3, share: 1 }]);
    // Three drafts and reviews, and two rewrites for the two wrong drafts.
    expect(backend.requests).toHaveLength(8);
  });

  it("best-of-n over refine scores the refined solutions", async () => {
    const refined = programVerifier((candidate) => candidate.text.startsWith("Fixed:"));
    const strategy = bestOfN({ n: 2, base: refine({ maxRounds: 1 }), verifier: refined });
    const result = await runStrategy(strategy, { ...input, params: { seed: 1 } }, { backend: refinable() });
    expect(result.answer).toBe("42");
    expect(result.details?.candidates).toMatchObject([
      { index: 0, answer: "42", score: 1 },
      { index: 1, answer: "42", score: 1 },
    ]);
    expect(result.details?.reasoning).toBe("Fixed: 6 * 7 = 42. The answer is 42");
  });
});
