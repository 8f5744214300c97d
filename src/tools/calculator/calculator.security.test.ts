import { describe, expect, it } from "vitest";
import { evaluateArithmetic } from "./restricted-math.js";

/*
 * Code-execution and resource attempts against the calculator, as data. Each must be refused (or, for
 * the few arithmetic ones that are allowed, come back as a plain number) within a fraction of a second,
 * and none may change the calculator or this process.
 */

interface Attempt {
  expression: string;
  /** Refused with an error matching this; absent means it may evaluate, to a number. */
  refused?: RegExp;
}

const REFUSED = /refused|disabled|cannot parse/;

const codeExecution: Attempt[] = [
  { expression: `cos.constructor("return process")()`, refused: REFUSED },
  { expression: `[].constructor.constructor("return process")()`, refused: REFUSED },
  { expression: `f = cos.constructor; f("return 1")()`, refused: REFUSED },
  { expression: `import({ evil: 1 }, { override: true })`, refused: REFUSED },
  { expression: `createUnit("evil")`, refused: REFUSED },
  { expression: `evaluate("1 + 1")`, refused: REFUSED },
  { expression: `parse("1 + 1").compile().evaluate()`, refused: REFUSED },
  { expression: `compile("1")`, refused: REFUSED },
  { expression: `simplify("x + x")`, refused: REFUSED },
  { expression: `derivative("x^2", "x")`, refused: REFUSED },
  { expression: `resolve(parse("x"), {x: 1})`, refused: REFUSED },
  { expression: `config({number: "BigNumber"})`, refused: REFUSED },
  { expression: `typed("x", {})`, refused: REFUSED },
  { expression: `chain(3).add(4).done()`, refused: REFUSED },
  { expression: `help(sqrt)`, refused: REFUSED },
  { expression: `x = 1`, refused: REFUSED },
  { expression: `f(x) = x; f(2)`, refused: REFUSED },
  { expression: `a.b`, refused: REFUSED },
  { expression: `sqrt["constructor"]`, refused: REFUSED },
  { expression: `{constructor: 1}`, refused: REFUSED },
  { expression: `__proto__`, refused: REFUSED },
  { expression: `constructor`, refused: REFUSED },
  { expression: `toString()`, refused: REFUSED },
  { expression: `"abc" + 1`, refused: REFUSED },
  { expression: `1 ? evaluate("2") : 3`, refused: REFUSED },
  { expression: `1; 2`, refused: REFUSED },
  { expression: `5 cm to inch`, refused: REFUSED },
  { expression: `unit("5 cm")`, refused: REFUSED },
  { expression: `reviver()`, refused: REFUSED },
  { expression: `process.exit()`, refused: REFUSED },
  { expression: `require("fs")`, refused: REFUSED },
];

const resourceBlowUps: Attempt[] = [
  { expression: `zeros(100000, 100000)`, refused: REFUSED },
  { expression: `ones(10000, 10000)`, refused: REFUSED },
  { expression: `identity(100000)`, refused: REFUSED },
  { expression: `1:1e9`, refused: REFUSED },
  { expression: `range(1, 1e9)`, refused: REFUSED },
  { expression: `[1,2;3,4]^1e9`, refused: REFUSED },
  { expression: `combinations(1e9, 5e8)`, refused: REFUSED },
  { expression: `fraction(1, 3)^1e6`, refused: REFUSED },
  { expression: `bignumber(2)^1e9`, refused: REFUSED },
  { expression: `format(pi, 1e6)`, refused: REFUSED },
  { expression: `random([1e5, 1e5])`, refused: REFUSED },
  { expression: `factorial(1e9)` },
  { expression: `9!!!` },
  { expression: `2^2^2^2^2^2` },
  { expression: `gcd(2^53, 3^33)` },
  { expression: `${"(".repeat(200)}1${")".repeat(200)}` },
];

const attempts = [...codeExecution, ...resourceBlowUps];

describe(`calculator: ${attempts.length} code-execution and resource attempts, all refused or bounded`, () => {
  it.each(attempts)("$expression", ({ expression, refused }) => {
    const started = performance.now();
    if (refused) {
      expect(() => evaluateArithmetic(expression)).toThrow(refused);
    } else {
      expect(typeof evaluateArithmetic(expression)).toBe("number");
    }
    expect(performance.now() - started).toBeLessThan(500);
  });

  it("is unchanged afterwards, and so is this process", () => {
    expect(attempts.length).toBe(47);
    expect(evaluateArithmetic("1 + 1")).toBe(2);
    expect(() => evaluateArithmetic("import({})")).toThrow(REFUSED);
    expect(({} as Record<string, unknown>).evil).toBeUndefined();
    expect(typeof process.exit).toBe("function");
  });
});
