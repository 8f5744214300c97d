import { describe, expect, it } from "vitest";
import { sameAnswer } from "./answer-format.js";
import { exactFormat } from "./exact-format.js";

describe("exact format", () => {
  it("takes what follows the last answer marker on its line", () => {
    expect(exactFormat.extract("France's capital...\nThe answer is Paris.\nDone.")).toBe("Paris.");
    expect(exactFormat.extract("Answer: blue whale")).toBe("blue whale");
    expect(exactFormat.extract("The answer is 4? No. The final answer is: 5")).toBe("5");
    expect(exactFormat.extract("The answer is\nParis")).toBe("Paris");
  });

  it("strips formatting wrapped around the whole answer, not inside it", () => {
    expect(exactFormat.extract("Answer: **New   York**")).toBe("New   York");
    expect(exactFormat.extract('The answer is "Paris".')).toBe("Paris.");
    expect(exactFormat.extract("Answer: `x + 1`")).toBe("x + 1");
    expect(exactFormat.extract("Answer: *a* and *b*")).toBe("*a* and *b*");
  });

  it("falls back to the whole trimmed text and finds nothing in empty text", () => {
    expect(exactFormat.extract("  blue whale \n")).toBe("blue whale");
    expect(exactFormat.extract("   ")).toBeUndefined();
    expect(exactFormat.extract('Answer: ""')).toBeUndefined();
  });

  it("compares up to case, spacing and a trailing period only", () => {
    expect(exactFormat.canonical("  New \n York. ")).toBe("new york");
    expect(sameAnswer(exactFormat, "Paris.", "  paris ")).toBe(true);
    expect(sameAnswer(exactFormat, "Paris!", "paris")).toBe(false);
    expect(sameAnswer(exactFormat, "New York", "NewYork")).toBe(false);
  });
});
