import { describe, expect, it } from "vitest";
import {
  extractNumericAnswer,
  gsm8kGoldAnswer,
  NUMERIC_ANSWER_WRITTEN,
  normalizeNumber,
} from "./numeric-answer.js";

describe("numeric answers", () => {
  it("normalises separators, currency and trailing zeros", () => {
    expect(normalizeNumber("1,000")).toBe("1000");
    expect(normalizeNumber("3.50")).toBe("3.5");
    expect(normalizeNumber("$18")).toBe("18");
    expect(normalizeNumber("-4.0")).toBe("-4");
    expect(normalizeNumber("abc")).toBeUndefined();
  });

  it("prefers explicit markers over the last number", () => {
    expect(extractNumericAnswer("48 + 24 = 72\n#### 72\nThat took 3 steps")).toBe("72");
    expect(extractNumericAnswer("So the answer is $1,250. Check: 5 items.")).toBe("1250");
    expect(extractNumericAnswer("We get \\boxed{18} in total, from 9 * 2")).toBe("18");
    expect(extractNumericAnswer("The Answer: **42**")).toBe("42");
  });

  it("falls back to the last number and returns undefined without one", () => {
    expect(extractNumericAnswer("She has 3 apples and buys 4 more, so 7.")).toBe("7");
    expect(extractNumericAnswer("I cannot tell.")).toBeUndefined();
  });

  it("reads the gold answer of a GSM8K record", () => {
    expect(gsm8kGoldAnswer("Natalia sold 48/2 = <<48/2=24>>24 clips in May.\n#### 72")).toBe("72");
    expect(gsm8kGoldAnswer("... #### 1,000")).toBe("1000");
    expect(gsm8kGoldAnswer("no marker")).toBeUndefined();
  });
});

describe("NUMERIC_ANSWER_WRITTEN", () => {
  const written = new RegExp(NUMERIC_ANSWER_WRITTEN, "i");
  const end = (text: string) => {
    const match = written.exec(text);
    return match ? text.slice(0, match.index + match[0].length) : undefined;
  };

  it("matches once the number is complete, and keeps it whole", () => {
    expect(end("3 + 9 = 12.\nThe answer is 12.\nSo Tom has")).toBe("3 + 9 = 12.\nThe answer is 12");
    expect(end("The answer is $1,250 dollars")).toBe("The answer is $1,250");
    expect(end("The answer is: **18**")).toBe("The answer is: **18");
    expect(end("the answer is \\boxed{42} ")).toBe("the answer is \\boxed{42");
    expect(end("Thus, the answer is \\(\\boxed{2}\\).")).toBe("Thus, the answer is \\(\\boxed{2");
    expect(end("The answer is 3.5.\n")).toBe("The answer is 3.5");
    expect(end("The answer is -4, which")).toBe("The answer is -4");
  });

  it("waits while the number may still go on", () => {
    for (const partial of [
      "The answer is 3",
      "The answer is 3.",
      "The answer is 1,",
      "The answer is 1,2",
      "The answer is",
    ]) {
      expect(end(partial)).toBeUndefined();
    }
    // Words alone are not an answer.
    expect(end("The answer is clear: add them")).toBeUndefined();
  });
});
