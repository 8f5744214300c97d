import { describe, expect, it } from "vitest";
import { cleanStep, type Gsm8kStepState, gsm8kStepTask } from "./gsm8k-step-task.js";

const stateAfter = (steps: string[]): Gsm8kStepState => {
  let state = gsm8kStepTask.initial("Tom has 3 boxes of 4 pens and gives away 5. How many are left?");
  for (const step of steps) {
    const next = gsm8kStepTask.apply(state, step);
    if (!next.ok) throw new Error(next.reason);
    state = next.state;
  }
  return state;
};

describe("step-wise GSM8K task", () => {
  it("takes the first line of a reply as the step, without its label", () => {
    expect(cleanStep("\nStep 2: He has 12 - 5 = 7 pens.\nStep 3: ...")).toBe("He has 12 - 5 = 7 pens.");
    expect(cleanStep("3) 4 * 3 = 12")).toBe("4 * 3 = 12");
    expect(cleanStep("   \n  ")).toBe("");
  });

  it("finishes on a step that states the answer, and reads the answer from it", () => {
    const partial = stateAfter(["He has 3 * 4 = 12 pens."]);
    expect(gsm8kStepTask.isTerminal(partial)).toBe(false);
    // Unfinished: the last number worked out is the best guess.
    expect(gsm8kStepTask.answer(partial)).toBe("12");
    const done = stateAfter(["He has 3 * 4 = 12 pens.", "12 - 5 = 7 pens are left. The answer is 7."]);
    expect(gsm8kStepTask.isTerminal(done)).toBe(true);
    expect(gsm8kStepTask.answer(done)).toBe("7");
    expect(gsm8kStepTask.describe(done)).toBe(
      "Step 1: He has 3 * 4 = 12 pens.\nStep 2: 12 - 5 = 7 pens are left. The answer is 7.",
    );
    expect(gsm8kStepTask.isTerminal(stateAfter(["The answer is clear."]))).toBe(false);
  });

  it("refuses empty and repeated steps", () => {
    const state = stateAfter(["He has 3 * 4 = 12 pens."]);
    expect(gsm8kStepTask.apply(state, "  ")).toEqual({ ok: false, reason: "empty step" });
    expect(gsm8kStepTask.apply(state, "Step 2: He has 3 * 4 = 12 pens.")).toEqual({
      ok: false,
      reason: "repeats an earlier step",
    });
  });
});
