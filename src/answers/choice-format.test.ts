import { describe, expect, it } from "vitest";
import { UsageError } from "../core/errors.js";
import { sameAnswer } from "./answer-format.js";
import { choiceFormat, createChoiceFormat } from "./choice-format.js";

describe("choice format", () => {
  it("reads the common ways of stating a letter", () => {
    expect(choiceFormat.extract("Comparing the options, (B) fits best.")).toBe("B");
    expect(choiceFormat.extract("So the answer is C")).toBe("C");
    expect(choiceFormat.extract("Final choice: **D**")).toBe("D");
    expect(choiceFormat.extract("We get \\boxed{E}")).toBe("E");
    expect(choiceFormat.extract("I think it's A, or maybe E")).toBe("E");
    expect(choiceFormat.extract("Answer: (c)")).toBe("C");
    expect(choiceFormat.extract("The correct answer is option B.")).toBe("B");
  });

  it("prefers an explicit answer over letters mentioned later or earlier", () => {
    expect(choiceFormat.extract("(A) is tempting and (D) too.\nThe answer is B. A quick check agrees.")).toBe(
      "B",
    );
    expect(choiceFormat.extract("A train leaves at noon, so (D).")).toBe("D");
  });

  it("ignores letters inside words, lower-case articles and letters outside the options", () => {
    expect(choiceFormat.extract("The answer is Canada")).toBeUndefined();
    expect(choiceFormat.extract("the answer is a bit unclear")).toBeUndefined();
    expect(choiceFormat.extract("I have no idea")).toBeUndefined();
    const fourOptions = createChoiceFormat({ letters: "abcd" });
    expect(fourOptions.extract("The answer is E")).toBeUndefined();
    expect(fourOptions.extract("(E) or (d)")).toBe("D");
    expect(fourOptions.instruction).toContain("A, B, C, D");
  });

  it("canonicalises to the bare upper-case letter", () => {
    expect(choiceFormat.canonical(" (b) ")).toBe("B");
    expect(choiceFormat.canonical("**D**")).toBe("D");
    expect(choiceFormat.canonical("c.")).toBe("C");
    expect(sameAnswer(choiceFormat, "b", "(B)")).toBe(true);
    expect(sameAnswer(choiceFormat, "B", "C")).toBe(false);
  });

  it("rejects letters that are not A–Z", () => {
    expect(() => createChoiceFormat({ letters: "A1" })).toThrow(UsageError);
  });
});
