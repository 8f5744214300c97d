import { describe, expect, it } from "vitest";
import {
  applyGame24Step,
  describeGame24,
  finalStepTo24,
  type Game24State,
  game24Task,
  readGame24Proposals,
} from "./game24-task.js";

const start = (numbers: string): Game24State => game24Task.initial(numbers);

/** Applies steps in turn, failing the test on an illegal one. */
function play(numbers: string, steps: string[]): Game24State {
  let state = start(numbers);
  for (const step of steps) {
    const next = applyGame24Step(state, step);
    if (!next.ok) throw new Error(`${step}: ${next.reason}`);
    state = next.state;
  }
  return state;
}

describe("Game of 24 task", () => {
  it("reads puzzles as bare numbers or as the benchmark's question", () => {
    expect(describeGame24(start("4 9 10 13"))).toBe("4 9 10 13");
    expect(
      describeGame24(
        start("Use the numbers 8 3 3 8 and basic arithmetic operations (+ - * /) to obtain 24."),
      ),
    ).toBe("3 3 8 8");
    expect(() => start("What is 2 + 2?")).toThrow(/not a Game of 24 puzzle/);
  });

  it("solves 3 3 8 8 through fractions, kept exact, with the expression assembled from the steps", () => {
    const state = play("3 3 8 8", [
      "8 / 3 = 8/3 (left: 3 8 8/3)",
      "3 - 8/3 = 1/3 (left: 1/3 8)",
      "8 / 1/3 = 24 (left: 24)",
    ]);
    expect(game24Task.isTerminal(state)).toBe(true);
    expect(game24Task.exactCheck?.(state)).toEqual({ solved: true, answer: "8 / (3 - (8 / 3))" });
  });

  it("finds the last step's operation exactly, and none when two numbers cannot make 24", () => {
    const twoLeft = play("3 3 8 8", ["8 / 3 = 8/3 (left: 3 8 8/3)", "3 - 8/3 = 1/3 (left: 1/3 8)"]);
    const step = finalStepTo24(twoLeft);
    expect(step).toBe("8 / 1/3 = 24");
    const done = applyGame24Step(twoLeft, step as string);
    expect(done.ok && game24Task.exactCheck?.(done.state)).toEqual({
      solved: true,
      answer: "8 / (3 - (8 / 3))",
    });
    expect(
      finalStepTo24(play("3 3 8 8", ["3 + 3 = 6 (left: 6 8 8)", "8 + 8 = 16 (left: 6 16)"])),
    ).toBeUndefined();
    expect(finalStepTo24(start("3 3 8 8"))).toBeUndefined();
  });

  it("takes rounded decimals for fractions but keeps the exact value", () => {
    const state = play("3 3 8 8", ["8 / 3 = 2.67 (left: 2.67 3 8)"]);
    expect(describeGame24(state)).toBe("8/3 3 8");
    const done = play("3 3 8 8", ["8 / 3 = 2.67", "3 - 2.67 = 0.33", "8 / 0.33 = 24"]);
    expect(game24Task.exactCheck?.(done)?.solved).toBe(true);
  });

  it("refuses wrong arithmetic, numbers not left, and division by zero", () => {
    const state = start("1 2 3 8");
    expect(applyGame24Step(state, "2 + 3 = 6 (left: 1 6 8)")).toEqual({
      ok: false,
      reason: "2 + 3 is 5, not 6",
    });
    expect(applyGame24Step(state, "8 + 8 = 16")).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/8 is not among/),
    });
    expect(applyGame24Step(state, "7 * 1 = 7")).toMatchObject({
      ok: false,
      reason: "7 is not among 1 2 3 8",
    });
    expect(applyGame24Step(start("0 2 3 8"), "8 / 0 = 0")).toEqual({ ok: false, reason: "division by zero" });
    expect(applyGame24Step(state, "let us think")).toMatchObject({ ok: false });
    // Using one number twice needs it twice in the state.
    expect(applyGame24Step(start("3 3 8 8"), "8 + 8 = 16 (left: 3 3 16)").ok).toBe(true);
  });

  it("rejects a finished state that is not 24", () => {
    const state = play("1 2 3 8", ["1 + 2 = 3", "3 + 3 = 6", "6 + 8 = 14"]);
    expect(game24Task.exactCheck?.(state)).toEqual({ solved: false, answer: "(3 + (1 + 2)) + 8" });
    expect(game24Task.exactCheck?.(start("1 2 3 8"))).toBeUndefined();
  });

  it("reads step lines out of a noisy reply, marking unreadable ones", () => {
    const reply = [
      "Possible next steps:",
      "1. 4 + 9 = 13 (left: 10 13 13)",
      "",
      "- 13 - 10 = 3 (left: 3 4 9)",
      "Let me think about it.",
      "4 plus 9 = 13",
      "10 * 4 = 40 (left: 9 13 40)",
    ].join("\n");
    const proposals = readGame24Proposals(reply, 10);
    expect(proposals.map((p) => p.action)).toEqual([
      "1. 4 + 9 = 13 (left: 10 13 13)",
      "- 13 - 10 = 3 (left: 3 4 9)",
      undefined,
      "10 * 4 = 40 (left: 9 13 40)",
    ]);
    expect(readGame24Proposals(reply, 2)).toHaveLength(2);
    const applied = applyGame24Step(start("4 9 10 13"), proposals[0]?.action as string);
    expect(applied.ok && describeGame24(applied.state)).toBe("10 13 13");
  });
});
