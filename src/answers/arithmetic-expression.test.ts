import { describe, expect, it } from "vitest";
import { evaluateExpression } from "./arithmetic-expression.js";
import { formatRational } from "./rational.js";

const value = (text: string): string | undefined => {
  const evaluated = evaluateExpression(text);
  return evaluated && formatRational(evaluated.value);
};

describe("exact expression evaluation", () => {
  it("respects precedence and brackets and keeps fractions exact", () => {
    expect(value("8 / (3 - 8 / 3)")).toBe("24");
    expect(value("(10 - 4) * (13 - 9)")).toBe("24");
    expect(value("1 + 2 * 3")).toBe("7");
    expect(value("[1 + 2] × 3")).toBe("9");
    expect(value("8 ÷ 3")).toBe("8/3");
    expect(evaluateExpression("8 / (3 - 8 / 3)")?.literals).toEqual([8n, 3n, 8n, 3n]);
  });

  it("refuses what is not a plain expression over whole numbers", () => {
    for (const bad of [
      "",
      "(1 + 2",
      "1 + 2)",
      "4 / 0",
      "4 / (2 - 2)",
      "2.5 * 4",
      "-3 + 27",
      "2 ^ 3",
      "1 2",
      "x",
    ]) {
      expect(evaluateExpression(bad), bad).toBeUndefined();
    }
  });
});
