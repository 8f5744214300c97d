import { describe, expect, it } from "vitest";
import { compileSafePattern, MAX_PATTERN_LENGTH, PatternTimeBudget } from "./safe-pattern.js";

const CATASTROPHIC_TEXT = `${"a".repeat(31)}!`;

function elapsed<T>(work: () => T): { value: T; ms: number } {
  const started = performance.now();
  const value = work();
  return { value, ms: performance.now() - started };
}

describe("compileSafePattern", () => {
  it("runs nested quantifiers on the linear-time engine: ^(a+)+$ fails 31 a's and '!' at once", () => {
    const tester = compileSafePattern("^(a+)+$", new PatternTimeBudget(100));
    expect(tester.linear).toBe(true);
    // A backtracking engine tries 2^31 splits of the a's here (seconds, doubling per extra a).
    const { value, ms } = elapsed(() => tester.test(CATASTROPHIC_TEXT));
    expect(value).toBe(false);
    expect(ms).toBeLessThan(1_000);
    expect(tester.test("a".repeat(31))).toBe(true);
  });

  it("matches what the native engine matches, ECMA's classes and anchors included", () => {
    const patterns = [
      "^[a-f0-9]{24}$",
      "abc",
      "^\\d{3}-\\d{4}$",
      "^(foo|bar)?$",
      "^(?<year>\\d{4})-(0[1-9]|1[0-2])$",
      "^\\s+$",
      "^\\S*$",
      "^.+$",
      "^[^]$",
      "[]",
      "\\bcat\\b",
      "\\Bat",
      "^a|b$",
      "x+?y",
      "^\\w{2,3}$",
      "^[\\W\\d]+$",
      "a{2,}",
      "a{,2}",
      "\\x41\\u0042\\x",
      "^[\\-.\\]]+$",
      "^\\/\\.$",
      "(?:ab)*c",
      "^\\t\\n\\v\\f\\r\\0$",
      "[\\b]",
    ];
    const texts = [
      "",
      "a",
      "abc",
      "cat",
      "a cat sat",
      "concat",
      "bat",
      "foo",
      "bar",
      "2024-07",
      "2024-13",
      "555-1234",
      "5f2b9c1d0e3a4b5c6d7e8f90",
      " \t\u00a0\u2028",
      "line\nbreak",
      "\r",
      "xxy",
      "ab",
      "a{,2}",
      "AB",
      "ABx",
      "-.]",
      "/.",
      "ababc",
      "\t\n\u000b\f\r\u0000",
      "\b",
      "__",
      "é",
      "!!1",
    ];
    for (const pattern of patterns) {
      const tester = compileSafePattern(pattern, new PatternTimeBudget(100));
      expect(tester.linear, pattern).toBe(true);
      const native = new RegExp(pattern);
      for (const text of texts) {
        expect(tester.test(text), `${pattern} on ${JSON.stringify(text)}`).toBe(native.test(text));
      }
    }
  });

  it("runs lookarounds and backreferences natively, cut off when they outlast the budget", () => {
    const budget = new PatternTimeBudget(100);
    const password = compileSafePattern("^(?=.*\\d)(?=.*[A-Z]).{8,}$", budget);
    expect(password.linear).toBe(false);
    expect(password.test("Secret123")).toBe(true);
    expect(password.test("secret123")).toBe(false);
    expect(compileSafePattern("^(\\w)\\1$", budget).test("aa")).toBe(true);
    expect(budget.cutOff.size).toBe(0);

    const catastrophic = compileSafePattern("^(?=(a+)+$)", budget);
    const { value, ms } = elapsed(() => catastrophic.test(CATASTROPHIC_TEXT));
    expect(value).toBe(false);
    expect(ms).toBeLessThan(1_000);
    expect([...budget.cutOff]).toEqual(["^(?=(a+)+$)"]);
    // The budget is spent: the next native test gives up at once; linear ones carry on.
    expect(elapsed(() => password.test("Secret123")).value).toBe(false);
    expect(compileSafePattern("^a+$", budget).test("aaa")).toBe(true);
    budget.reset();
    expect(password.test("Secret123")).toBe(true);
  });

  it("refuses invalid and overlong patterns", () => {
    const budget = new PatternTimeBudget(100);
    expect(() => compileSafePattern("(a", budget)).toThrow(SyntaxError);
    expect(() => compileSafePattern("a".repeat(MAX_PATTERN_LENGTH + 1), budget)).toThrow(/longer than 4096/);
  });
});
