import { describe, expect, it } from "vitest";
import { passAtK } from "./pass-at-k.js";

describe("passAtK", () => {
  it("is the fraction of passing samples at k = 1", () => {
    expect(passAtK(7, 3, 1)).toBeCloseTo(3 / 7, 12);
  });

  it("equals 1 − C(n−c, k)/C(n, k)", () => {
    // n = 7, c = 2, k = 3: C(5,3)/C(7,3) = 10/35.
    expect(passAtK(7, 2, 3)).toBeCloseTo(1 - 10 / 35, 12);
  });

  it("is 1 when too few samples fail to fill k draws, and 0 when none pass", () => {
    expect(passAtK(7, 5, 3)).toBe(1);
    expect(passAtK(7, 0, 7)).toBe(0);
  });

  it("refuses impossible counts", () => {
    expect(() => passAtK(7, 8, 1)).toThrow(RangeError);
    expect(() => passAtK(7, 1, 0)).toThrow(RangeError);
    expect(() => passAtK(7, 1, 8)).toThrow(RangeError);
  });
});
