import { describe, expect, it } from "vitest";
import { game24Question, parseGame24Question } from "./game24-puzzle.js";

describe("Game of 24 questions", () => {
  it("round-trips the benchmark question and reads bare numbers", () => {
    expect(parseGame24Question(game24Question([1, 1, 4, 6]))).toEqual([1, 1, 4, 6]);
    expect(parseGame24Question(" 4 9 10 13 ")).toEqual([4, 9, 10, 13]);
    expect(parseGame24Question("Make 24 from the numbers 2, 3, 4 and 5.")).toEqual([2, 3, 4, 5]);
  });

  it("leaves other questions alone", () => {
    expect(
      parseGame24Question("Tom has 3 apples and 4 pears and 5 plums and 6 figs. How many?"),
    ).toBeUndefined();
    expect(parseGame24Question("1 2 3")).toBeUndefined();
    expect(parseGame24Question("Add the numbers 1 2 3 4.")).toBeUndefined();
  });

  it("does not search long text, where the pattern would take quadratic time", () => {
    // Unguarded, 200,000 digits after three numbers take about a minute; this returns at once.
    expect(parseGame24Question(`9 9 9 x${"9".repeat(200_000)} to make 24`)).toBeUndefined();
  });
});
