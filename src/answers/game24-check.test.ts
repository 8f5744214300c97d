import { describe, expect, it } from "vitest";
import { checkGame24Answer, game24NumbersOf } from "./game24-check.js";
import { solve24 } from "./solve24.js";

describe("Game of 24 answer check", () => {
  it("accepts an expression over exactly the four numbers that equals 24", () => {
    expect(checkGame24Answer("8 / (3 - 8 / 3)", [3, 3, 8, 8])).toEqual({
      valid: true,
      expression: "8 / (3 - 8 / 3)",
    });
    expect(checkGame24Answer("(10 - 4) * (13 - 9) = 24", [4, 9, 10, 13]).valid).toBe(true);
  });

  it("says why an answer is wrong", () => {
    expect(checkGame24Answer("(10 - 4) * (13 - 9)", [4, 9, 10, 12])).toEqual({
      valid: false,
      reason: "uses 4 9 10 13, not 4 9 10 12",
    });
    expect(checkGame24Answer("8 * 3", [3, 3, 8, 8])).toMatchObject({
      valid: false,
      reason: "uses 3 8, not 3 3 8 8",
    });
    expect(checkGame24Answer("8 + 8 + 3 + 3", [3, 3, 8, 8])).toMatchObject({
      valid: false,
      reason: "equals 22, not 24",
    });
    expect(checkGame24Answer("I give up", [3, 3, 8, 8]).valid).toBe(false);
  });

  it("reads back the numbers of any valid 24", () => {
    expect(game24NumbersOf("13 + 9 + 4 - 10")).toBeUndefined();
    expect(game24NumbersOf("(13 - 9) * (10 - 4)")).toEqual([4, 9, 10, 13]);
  });
});

describe("solve24", () => {
  it("finds exact solutions, also through fractions", () => {
    for (const numbers of [
      [3, 3, 8, 8],
      [1, 5, 5, 5],
      [4, 9, 10, 13],
      [1, 1, 4, 6],
    ]) {
      const solution = solve24(numbers);
      expect(solution, numbers.join(" ")).toBeDefined();
      expect(checkGame24Answer(solution as string, numbers).valid).toBe(true);
    }
  });

  it("is the same for any order of one multiset, and undefined when there is no solution", () => {
    expect(solve24([8, 3, 8, 3])).toBe(solve24([3, 3, 8, 8]));
    expect(solve24([1, 1, 1, 1])).toBeUndefined();
  });
});
