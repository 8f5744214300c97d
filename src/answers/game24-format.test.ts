import { describe, expect, it } from "vitest";
import { compileStopAfter, stopAfterIndex } from "../core/stop-after.js";
import { game24Format } from "./game24-format.js";
import { solve24 } from "./solve24.js";

describe("game24 answer format", () => {
  it("extracts the expression of the answer line, else of a line ending in = 24", () => {
    expect(game24Format.extract("10 - 4 = 6\n13 - 9 = 4\nAnswer: (10 - 4) * (13 - 9) = 24")).toBe(
      "(10 - 4) * (13 - 9)",
    );
    expect(game24Format.extract("The answer is **8 / (3 - 8 / 3)**.")).toBe("8 / (3 - 8 / 3)");
    expect(game24Format.extract("So we get (13 - 9) * (10 - 4) = 4 * 6 = 24.\nDone")).toBe(
      "(13 - 9) * (10 - 4)",
    );
    expect(game24Format.extract("Answer: \\boxed{(10 - 4) \\times (13 - 9)} = 24")).toBe(
      "(10 - 4) * (13 - 9)",
    );
    // "The answer is 24" names the target; the expression before it is the answer.
    expect(game24Format.extract("(10 - 4) * (13 - 9) = 24\nThe answer is 24.")).toBe("(10 - 4) * (13 - 9)");
    expect(game24Format.extract("8 / (3 - (8 / 3))")).toBe("8 / (3 - (8 / 3))");
    expect(game24Format.extract("I could not find one")).toBeUndefined();
  });

  it("keys every valid answer over the same numbers alike, and scores against a solve24 gold", () => {
    const gold = solve24([4, 9, 10, 13]) as string;
    const a = game24Format.canonical("(10 - 4) * (13 - 9)");
    expect(a).toBe(game24Format.canonical("(13 - 9) * (10 - 4) = 24"));
    expect(a).toBe(game24Format.canonical(gold));
    expect(game24Format.canonical(a)).toBe(a);
    // Right value, wrong numbers; or right numbers, wrong value: not the same answer.
    expect(game24Format.canonical("(10 - 4) * 4")).not.toBe(game24Format.canonical(gold));
    expect(game24Format.canonical("10 + 4 + 13 - 9")).not.toBe(game24Format.canonical(gold));
    expect(game24Format.canonical("")).not.toBe(game24Format.canonical(gold));
  });

  it("stops generation once the answer line reaches 24", () => {
    const pattern = compileStopAfter(game24Format.stopAfter);
    const text = "6 * 4 = 24\nAnswer: (10 - 4) * (13 - 9) = 24\nThat was fun";
    expect(text.slice(0, stopAfterIndex(text, pattern))).toBe("6 * 4 = 24\nAnswer: (10 - 4) * (13 - 9) = 24");
    expect(stopAfterIndex("Answer: 10 * 24 = 240", pattern)).toBeUndefined();
  });
});
