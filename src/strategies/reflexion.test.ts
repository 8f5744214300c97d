import { describe, expect, it } from "vitest";
import { createScriptedBackend } from "../backends/scripted/scripted-backend.js";
import type { DeliberateEvent } from "../core/event.js";
import { userMessage } from "../core/message.js";
import { runStrategy } from "../runtime/task-context.js";
import { type ReflexionCheck, type ReflexionResult, reflexion } from "./reflexion.js";

const input = { messages: [userMessage("What is 6 * 7?")] };

/** Hands out attempts and lessons in order, each list repeating its last entry. */
function scripted(attempts: string[], lessons: string[] = ["no lesson"]) {
  let attempt = 0;
  let lesson = 0;
  const pick = (list: string[], i: number) => list[Math.min(i, list.length - 1)] ?? "";
  return createScriptedBackend({
    respond: ({ prompt }) =>
      prompt.includes("say what went wrong") ? pick(lessons, lesson++) : pick(attempts, attempt++),
  });
}

const expects42: ReflexionCheck = (answer) =>
  answer === "42" ? { pass: true } : { pass: false, feedback: "expected the product" };

const lastUser = (backend: ReturnType<typeof scripted>, call: number) =>
  backend.requests[call]?.messages?.at(-1)?.content ?? "";

describe("reflexion", () => {
  it("shows failed answers, feedback and lessons in the next attempt's prompt", async () => {
    const backend = scripted(
      ["6 + 7 = 13. The answer is 13", "6 * 7 = 42. The answer is 42"],
      ["I added instead of multiplying."],
    );
    const events: DeliberateEvent[] = [];
    const result = await runStrategy(reflexion({ check: expects42 }), input, {
      backend,
      onEvent: (e) => events.push(e),
    });
    expect(result.answer).toBe("42");
    expect(result.strategy).toBe("reflexion");
    const details = result.details as ReflexionResult["details"];
    expect(details.passed).toBe(true);
    expect(details.attempts).toEqual([
      {
        answer: "13",
        pass: false,
        feedback: "expected the product",
        lesson: "I added instead of multiplying.",
      },
      { answer: "42", pass: true, feedback: undefined, lesson: undefined },
    ]);
    expect(backend.requests).toHaveLength(3);
    expect(lastUser(backend, 0)).not.toContain("earlier attempts");
    const reflection = backend.requests[1]?.messages ?? [];
    expect(reflection.at(-2)).toEqual({ role: "assistant", content: "6 + 7 = 13. The answer is 13" });
    expect(lastUser(backend, 1)).toContain("Your answer 13 is wrong.\nFeedback: expected the product");
    const retry = lastUser(backend, 2);
    expect(retry.startsWith("What is 6 * 7?")).toBe(true);
    expect(retry).toContain(
      "1. You answered 13, which was wrong. Feedback: expected the product " +
        "Lesson: I added instead of multiplying.",
    );
    const checks = events.flatMap((e) => (e.type === "score" ? [[e.target, e.verifier, e.score]] : []));
    expect(checks).toEqual([
      ["attempt 1", "reflexion-check", 0],
      ["attempt 2", "reflexion-check", 1],
    ]);
  });

  it("stops at the first passing attempt", async () => {
    const backend = scripted(["The answer is 42", "The answer is 13"]);
    const result = await runStrategy(reflexion({ check: expects42 }), input, { backend });
    expect(result.answer).toBe("42");
    expect(result.details?.attempts).toHaveLength(1);
    expect(backend.requests).toHaveLength(1);
  });

  it("returns the last attempt after maxAttempts, keeping the most recent memorySize failures", async () => {
    const attempts = ["The answer is 13", "The answer is 14", "The answer is 15"];
    const lessons = ["lesson one", "lesson two"];
    const backend = scripted(attempts, lessons);
    const result = await runStrategy(reflexion({ check: expects42, memorySize: 1 }), input, { backend });
    expect(result.answer).toBe("15");
    const details = result.details as ReflexionResult["details"];
    expect(details.passed).toBe(false);
    expect(details.attempts.map((a) => a.lesson)).toEqual(["lesson one", "lesson two", undefined]);
    // Three attempts and two lessons: the last failure is not reflected on, as nothing would read it.
    expect(backend.requests).toHaveLength(5);
    expect(lastUser(backend, 4)).toContain("Lesson: lesson two");
    expect(lastUser(backend, 4)).not.toContain("lesson one");

    const full = scripted(attempts, lessons);
    await runStrategy(reflexion({ check: expects42 }), input, { backend: full });
    expect(lastUser(full, 4)).toContain("1. You answered 13");
    expect(lastUser(full, 4)).toContain(
      "2. You answered 14, which was wrong. Feedback: expected the product Lesson: lesson two",
    );
  });

  it("counts a check that throws as a failure with the error as feedback", async () => {
    const backend = scripted(["The answer is 13", "The answer is 42"]);
    const check: ReflexionCheck = async (answer) => {
      if (answer === "13") throw new Error("checker crashed");
      return { pass: true };
    };
    const result = await runStrategy(reflexion({ check }), input, { backend });
    expect(result.answer).toBe("42");
    expect(result.details?.attempts).toMatchObject([
      { pass: false, feedback: "the check failed: checker crashed" },
      { pass: true },
    ]);
  });

  it("returns the last attempt when the budget runs out", async () => {
    const backend = scripted(["The answer is 13", "The answer is 42"], ["multiply"]);
    // attempt 1 and its lesson; attempt 2 is refused.
    const result = await runStrategy(reflexion({ check: expects42 }), input, {
      backend,
      budget: { maxCalls: 2 },
    });
    expect(result.budgetExhausted).toBe(true);
    expect(result.answer).toBe("13");
    expect(result.details?.attempts).toEqual([
      { answer: "13", pass: false, feedback: "expected the product", lesson: "multiply" },
    ]);
    expect(backend.requests).toHaveLength(2);
  });
});
