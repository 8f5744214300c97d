import { add, div, mul, type Rational, rational, sub } from "./rational.js";

/** An arithmetic expression evaluated exactly, with the number literals it used in order. */
export interface EvaluatedExpression {
  value: Rational;
  /** Every literal, e.g. [8, 3, 8, 3] for 8 / (3 - 8 / 3). */
  literals: bigint[];
}

export type ArithmeticOp = "+" | "-" | "*" | "/";

/** Models write the operations in several ways (×, ÷, x, en dashes); each glyph to the operation it means. */
export const OPERATOR: Readonly<Record<string, ArithmeticOp>> = {
  "+": "+",
  "-": "-",
  "−": "-",
  "–": "-",
  "*": "*",
  "×": "*",
  x: "*",
  X: "*",
  "·": "*",
  "/": "/",
  "÷": "/",
};
const OPEN = new Set(["(", "[", "{"]);
const CLOSE = new Set([")", "]", "}"]);

type Token =
  | { kind: "num"; value: bigint }
  | { kind: "op"; op: "+" | "-" | "*" | "/" }
  | { kind: "open" | "close" };

function tokenize(text: string): Token[] | undefined {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const char = text[i] as string;
    if (/\s/.test(char)) {
      i++;
    } else if (/\d/.test(char)) {
      let j = i;
      while (j < text.length && /\d/.test(text[j] as string)) j++;
      // A decimal point is not a literal of the game; refusing it keeps "2.5" from reading as 2 and 5.
      if (text[j] === ".") return undefined;
      tokens.push({ kind: "num", value: BigInt(text.slice(i, j)) });
      i = j;
    } else if (OPERATOR[char] !== undefined) {
      tokens.push({ kind: "op", op: OPERATOR[char] });
      i++;
    } else if (OPEN.has(char)) {
      tokens.push({ kind: "open" });
      i++;
    } else if (CLOSE.has(char)) {
      tokens.push({ kind: "close" });
      i++;
    } else {
      return undefined;
    }
  }
  return tokens;
}

/**
 * Evaluates `text` (integers, + - * /, brackets; no unary minus) exactly. Undefined when it is not
 * such an expression or divides by zero.
 */
export function evaluateExpression(text: string): EvaluatedExpression | undefined {
  const tokens = tokenize(text);
  if (!tokens || tokens.length === 0) return undefined;
  const literals: bigint[] = [];
  let at = 0;
  let failed = false;

  const peek = (): Token | undefined => tokens[at];
  const factor = (): Rational | undefined => {
    const token = tokens[at++];
    if (token?.kind === "num") {
      literals.push(token.value);
      return rational(token.value);
    }
    if (token?.kind === "open") {
      const inner = sum();
      if (tokens[at++]?.kind !== "close") return undefined;
      return inner;
    }
    return undefined;
  };
  const product = (): Rational | undefined => {
    let left = factor();
    for (
      let next = peek();
      left && next?.kind === "op" && (next.op === "*" || next.op === "/");
      next = peek()
    ) {
      at++;
      const right = factor();
      if (!right) return undefined;
      if (next.op === "*") {
        left = mul(left, right);
      } else {
        left = div(left, right);
        if (!left) failed = true;
      }
    }
    return left;
  };
  const sum = (): Rational | undefined => {
    let left = product();
    for (
      let next = peek();
      left && next?.kind === "op" && (next.op === "+" || next.op === "-");
      next = peek()
    ) {
      at++;
      const right = product();
      if (!right) return undefined;
      left = next.op === "+" ? add(left, right) : sub(left, right);
    }
    return left;
  };

  const value = sum();
  if (!value || failed || at !== tokens.length) return undefined;
  return { value, literals };
}
