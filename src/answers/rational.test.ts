import { describe, expect, it } from "vitest";
import { add, denotes, div, equals, formatRational, mul, parseRational, rational, sub } from "./rational.js";

describe("rational numbers", () => {
  it("stay in lowest terms with a positive denominator", () => {
    expect(rational(6, -4)).toEqual({ num: -3n, den: 2n });
    expect(formatRational(rational(8, 3))).toBe("8/3");
    expect(formatRational(rational(48, 2))).toBe("24");
  });

  it("compute 8 / (3 - 8 / 3) as exactly 24", () => {
    const eight = rational(8);
    const three = rational(3);
    const inner = sub(three, div(eight, three) as ReturnType<typeof rational>);
    expect(formatRational(inner)).toBe("1/3");
    expect(equals(div(eight, inner) as ReturnType<typeof rational>, rational(24))).toBe(true);
    expect(formatRational(add(rational(1, 3), rational(1, 6)))).toBe("1/2");
    expect(formatRational(mul(rational(2, 3), rational(3, 4)))).toBe("1/2");
    expect(div(eight, rational(0))).toBeUndefined();
  });

  it("parse integers, fractions and decimals exactly", () => {
    expect(parseRational("12")).toEqual(rational(12));
    expect(parseRational("-8/3")).toEqual(rational(-8, 3));
    expect(parseRational("2.5")).toEqual(rational(5, 2));
    expect(parseRational("1/0")).toBeUndefined();
    expect(parseRational("abc")).toBeUndefined();
    expect(parseRational("")).toBeUndefined();
  });

  it("accept a decimal within one unit of its last place, and nothing looser", () => {
    const eightThirds = rational(8, 3);
    expect(denotes("8/3", eightThirds)).toBe(true);
    expect(denotes("2.67", eightThirds)).toBe(true);
    expect(denotes("2.66", eightThirds)).toBe(true);
    expect(denotes("2.65", eightThirds)).toBe(false);
    expect(denotes("3", eightThirds)).toBe(false);
    expect(denotes("3.4", rational(7, 2))).toBe(false);
    expect(denotes("0.33", rational(1, 3))).toBe(true);
  });
});
