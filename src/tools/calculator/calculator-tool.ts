import { z } from "zod";
import { defineTool, type Tool } from "../tool.js";
import { evaluateArithmetic, formatArithmetic } from "./restricted-math.js";

/** Longest expression accepted; arithmetic for a word problem is far shorter. */
export const MAX_EXPRESSION_LENGTH = 500;

const calculatorInput = z.object({
  expression: z
    .string()
    .min(1)
    .max(MAX_EXPRESSION_LENGTH)
    .describe("An arithmetic expression, e.g. (12 * 3.5 + 4) / 2 or sqrt(2) ^ 3"),
});

/**
 * Evaluates arithmetic with mathjs, restricted to numbers, operators, a few constants and pure
 * numeric functions (see restricted-math.ts). Runs in-process: every expression is checked before
 * evaluation, so nothing expensive or effectful can be reached.
 */
export const calculatorTool: Tool<z.output<typeof calculatorInput>, string> = defineTool({
  name: "calculator",
  description:
    "Evaluates an arithmetic expression: + - * / ^ %, parentheses, factorial (!), and functions such as sqrt, round, floor, ceil, abs, min, max, sum, mean, log, exp.",
  input: calculatorInput,
  timeoutMs: 2_000,
  execute: ({ expression }) => formatArithmetic(evaluateArithmetic(expression)),
});
