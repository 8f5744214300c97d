import { describe, expect, it } from "vitest";
import { createScriptedBackend, type ScriptedReply } from "../backends/scripted/scripted-backend.js";
import type { DeliberateEvent, TaskEndEvent } from "../core/event.js";
import { userMessage } from "../core/message.js";
import type { Strategy, StrategyInput } from "../core/strategy.js";
import { createStrategy } from "../strategies/catalog.js";
import { direct } from "../strategies/direct.js";
import { noAnswerOf } from "./no-answer.js";
import { runStrategy } from "./task-context.js";

const question = (text: string): StrategyInput => ({ messages: [userMessage(text)] });

/** Runs `strategy` on a scripted backend and returns its result and its task.end event. */
async function run(
  strategy: Strategy,
  respond: ScriptedReply[],
  input: StrategyInput = question("How many apples are left?"),
  budget = {},
) {
  const events: DeliberateEvent[] = [];
  const result = await runStrategy(strategy, input, {
    backend: createScriptedBackend({ respond }),
    budget,
    onEvent: (e) => events.push(e),
  });
  const end = events.find((e): e is TaskEndEvent => e.type === "task.end");
  return { result, end };
}

const LONG_REASONING =
  "First we count the apples in each basket and then we add them up before taking away the ones eaten";

describe("runStrategy explains an empty answer", () => {
  it("says truncated, naming the max tokens, when the samples were cut before an answer", async () => {
    const { result, end } = await run(createStrategy({ name: "sc", n: 3 }), [LONG_REASONING], {
      ...question("How many apples are left?"),
      params: { maxTokens: 4 },
    });
    expect(result.answer).toBe("");
    expect(result.noAnswer?.reason).toBe("truncated");
    expect(result.noAnswer?.message).toMatch(/^no answer: .*cut at 4 tokens/);
    expect(end?.noAnswer).toEqual(result.noAnswer);
  });

  it("says no extractable answer when the model wrote text with no answer in it", async () => {
    const { result, end } = await run(createStrategy({ name: "sc", n: 3 }), ["I am not sure about that."]);
    expect(result.answer).toBe("");
    expect(result.noAnswer?.reason).toBe("no_extractable_answer");
    expect(end?.noAnswer?.reason).toBe("no_extractable_answer");
  });

  it("does not blame truncation when only a minority of the samples were cut", async () => {
    const { result } = await run(
      createStrategy({ name: "sc", n: 3 }),
      ["No idea.", "No idea.", LONG_REASONING],
      {
        ...question("How many apples are left?"),
        params: { maxTokens: 6 },
      },
    );
    expect(result.answer).toBe("");
    expect(result.noAnswer?.reason).toBe("no_extractable_answer");
  });

  it("says empty output when the model generated nothing, and treats a blank answer as none", async () => {
    const empty = await run(direct, [""]);
    expect(empty.result.noAnswer).toEqual({
      reason: "empty_output",
      message: "no answer: the model generated no text",
    });
    const blank = await run(direct, ["  \n "]);
    expect(blank.result.answer).toBe("");
    expect(blank.result.noAnswer?.reason).toBe("empty_output");
    expect(blank.end?.answer).toBe("");
  });

  it("says budget exhausted, naming the limit, when a budget cut the run short", async () => {
    // Adaptive sampling draws rounds of 2: the call budget stops it after the first round.
    const { result, end } = await run(
      createStrategy({ name: "asc", n: 8 }),
      ["No idea."],
      question("How many apples are left?"),
      { maxCalls: 1 },
    );
    expect(result.budgetExhausted).toBe(true);
    expect(result.answer).toBe("");
    expect(result.noAnswer).toEqual({
      reason: "budget_exhausted",
      message: "no answer: the call budget (1) ran out before an answer was found",
    });
    expect(end?.noAnswer?.reason).toBe("budget_exhausted");
  });

  it("blames the token budget, not max tokens, when the budget is what cut the output", async () => {
    const { result } = await run(
      createStrategy({ name: "sc", n: 1 }),
      [LONG_REASONING],
      { ...question("How many apples are left?"), params: { maxTokens: 500 } },
      { maxTokens: 10 },
    );
    expect(result.answer).toBe("");
    expect(result.noAnswer).toEqual({
      reason: "budget_exhausted",
      message: "no answer: the token budget (10) ran out before an answer was found",
    });
  });

  it("keeps a strategy's own reason, and drops one given beside a real answer", async () => {
    const unsolved: Strategy = async () => ({
      answer: "",
      noAnswer: { reason: "unsolved", message: "no answer: nothing worked" },
      strategy: "custom",
      budgetExhausted: false,
    });
    expect((await run(unsolved, ["x"])).result.noAnswer?.reason).toBe("unsolved");
    const answered: Strategy = async () => ({
      answer: "7",
      noAnswer: { reason: "unsolved", message: "stale" },
      strategy: "custom",
      budgetExhausted: false,
    });
    const { result, end } = await run(answered, ["x"]);
    expect(result.noAnswer).toBeUndefined();
    expect(end).not.toHaveProperty("noAnswer");
  });

  it("leaves a run with an answer alone", async () => {
    const { result, end } = await run(direct, ["four"], question("What is 2 + 2?"));
    expect(result.answer).toBe("four");
    expect(result).not.toHaveProperty("noAnswer");
    expect(end).not.toHaveProperty("noAnswer");
  });
});

describe("noAnswerOf", () => {
  it("is undefined for an answer and gives a reason for an empty one without its own", () => {
    expect(noAnswerOf({ answer: "42" })).toBeUndefined();
    expect(noAnswerOf({ answer: " " })?.reason).toBe("no_extractable_answer");
    const own = { reason: "truncated" as const, message: "no answer: cut" };
    expect(noAnswerOf({ answer: "", noAnswer: own })).toBe(own);
  });
});
