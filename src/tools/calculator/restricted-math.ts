import { all, create, type MathNode } from "mathjs";

/*
 * A mathjs instance that evaluates arithmetic and nothing else. Following the mathjs security guide,
 * the functions that change the instance or parse further input (import, createUnit, evaluate, parse,
 * simplify, derivative, ...) are replaced by ones that throw. On top of that every expression is
 * parsed first and its tree checked against an allow-list: only numbers, arithmetic operators, a few
 * constants and pure numeric functions pass, so no matrix, range, unit, string, assignment or
 * property access (and none of their memory or CPU blow-ups) is ever evaluated.
 */

/** Functions an expression may call: pure, number-in number-out, cost bounded by the argument count. */
const ALLOWED_FUNCTIONS = new Set([
  "abs",
  "acos",
  "asin",
  "atan",
  "atan2",
  "cbrt",
  "ceil",
  "cos",
  "exp",
  "factorial",
  "fix",
  "floor",
  "gcd",
  "hypot",
  "lcm",
  "log",
  "log10",
  "log2",
  "max",
  "mean",
  "median",
  "min",
  "mod",
  "nthRoot",
  "pow",
  "round",
  "sign",
  "sin",
  "sqrt",
  "square",
  "sum",
  "tan",
  "prod",
]);

const ALLOWED_CONSTANTS = new Set(["pi", "PI", "e", "E", "tau", "phi"]);

/** Operators by their mathjs function name; `to` (units) and bit tricks are left out. */
const ALLOWED_OPERATORS = new Set([
  "add",
  "subtract",
  "multiply",
  "divide",
  "pow",
  "mod",
  "unaryMinus",
  "unaryPlus",
  "factorial",
  "equal",
  "unequal",
  "smaller",
  "smallerEq",
  "larger",
  "largerEq",
]);

/** Node types that can appear; everything else (arrays, ranges, assignments, accessors, blocks) is refused. */
const ALLOWED_NODES = new Set([
  "ConstantNode",
  "SymbolNode",
  "OperatorNode",
  "ParenthesisNode",
  "FunctionNode",
  "ConditionalNode",
]);

const MAX_FUNCTION_ARGS = 64;

// `predictable`: sqrt(-1) is NaN rather than a complex number, so results stay plain numbers.
const math = create(all ?? {}, { number: "number", predictable: true });
const parse = math.parse;

const disabled = (name: string) => () => {
  throw new Error(`function ${name} is disabled`);
};
math.import(
  Object.fromEntries(
    [
      "import",
      "createUnit",
      "reviver",
      "evaluate",
      "parse",
      "compile",
      "simplify",
      "simplifyConstant",
      "simplifyCore",
      "derivative",
      "resolve",
      "rationalize",
      "parser",
    ].map((name) => [name, disabled(name)]),
  ),
  { override: true },
);

/** An expression the calculator will not evaluate, with the reason. */
export class RefusedExpressionError extends Error {
  constructor(reason: string) {
    super(`refused: ${reason}`);
    this.name = "RefusedExpressionError";
  }
}

function checkTree(root: MathNode): void {
  root.traverse((node, path, parent) => {
    if (!ALLOWED_NODES.has(node.type)) throw new RefusedExpressionError(`${node.type} is not allowed`);
    if (node.type === "ConstantNode") {
      const value = (node as MathNode & { value: unknown }).value;
      if (typeof value !== "number") throw new RefusedExpressionError("only numeric constants are allowed");
    } else if (node.type === "SymbolNode") {
      const name = (node as MathNode & { name: string }).name;
      const isCallee = parent?.type === "FunctionNode" && path === "fn";
      const allowed = isCallee ? ALLOWED_FUNCTIONS.has(name) : ALLOWED_CONSTANTS.has(name);
      if (!allowed) throw new RefusedExpressionError(`unknown ${isCallee ? "function" : "symbol"} "${name}"`);
    } else if (node.type === "FunctionNode") {
      const { fn, args } = node as MathNode & { fn: MathNode; args: MathNode[] };
      if (fn.type !== "SymbolNode") throw new RefusedExpressionError("only named functions may be called");
      if (args.length > MAX_FUNCTION_ARGS) throw new RefusedExpressionError("too many arguments");
    } else if (node.type === "OperatorNode") {
      const fn = (node as MathNode & { fn: string }).fn;
      if (!ALLOWED_OPERATORS.has(fn)) throw new RefusedExpressionError(`operator ${fn} is not allowed`);
    }
  });
}

/** Evaluates an arithmetic expression, or throws RefusedExpressionError / a mathjs error. */
export function evaluateArithmetic(expression: string): number | boolean {
  let tree: MathNode;
  try {
    tree = parse(expression);
  } catch (error) {
    throw new Error(`cannot parse expression: ${error instanceof Error ? error.message : String(error)}`);
  }
  checkTree(tree);
  // Empty scope: no variables in, none out.
  const value: unknown = tree.compile().evaluate({});
  if (typeof value !== "number" && typeof value !== "boolean") {
    throw new RefusedExpressionError("the result is not a number");
  }
  return value;
}

/** Formats a result without float noise (0.1 + 0.2 → 0.3). */
export const formatArithmetic = (value: number | boolean): string =>
  typeof value === "boolean" ? String(value) : math.format(value, { precision: 14 });
