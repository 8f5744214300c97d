import { describe, expect, it } from "vitest";
import { exactMcNemar, pairedDifference } from "./paired-difference.js";

describe("pairedDifference", () => {
  it("counts the problems only one run got right, on the ids both answered", () => {
    const first = new Map([
      [0, true],
      [1, true],
      [2, false],
      [3, true],
      [9, true],
    ]);
    const second = new Map([
      [0, true],
      [1, false],
      [2, true],
      [3, false],
      [4, true],
    ]);
    expect(pairedDifference(first, second)).toEqual({
      problems: 4,
      onlyFirst: 2,
      onlySecond: 1,
      pValue: 1,
    });
  });
});

describe("exactMcNemar", () => {
  it("gives the two-sided binomial tail of the discordant split", () => {
    // 8 against 0: 2 / 2^8.
    expect(exactMcNemar(8, 0)).toBeCloseTo(2 / 256, 12);
    expect(exactMcNemar(0, 8)).toBeCloseTo(2 / 256, 12);
    // 9 against 2: 2 · (1 + 11 + 55) / 2^11.
    expect(exactMcNemar(9, 2)).toBeCloseTo((2 * 67) / 2048, 12);
    expect(exactMcNemar(5, 5)).toBe(1);
    expect(exactMcNemar(0, 0)).toBe(1);
  });

  it("stays finite at thousands of discordant problems", () => {
    const p = exactMcNemar(1100, 900);
    expect(p).toBeGreaterThan(0);
    expect(p).toBeLessThan(1e-4);
  });
});
