import { extractPython, topLevelStatements } from "../../answers/python-code.js";
import type { GenerationParams } from "../../core/backend.js";
import type { StrategyContext } from "../../core/strategy.js";
import type { CodeSpec } from "./code-spec.js";
import { CODE_BLOCK_END, CODER_SYSTEM_PROMPT } from "./write-program.js";

/** The request for tests: the specification only, never an implementation to agree with. */
export function testRequest(spec: CodeSpec, count: number): string {
  const target = spec.entryPoint !== undefined ? `\`${spec.entryPoint}\`` : "the code";
  const what = spec.stub !== undefined ? `\`\`\`python\n${spec.stub}\n\`\`\`` : spec.text.trim();
  return (
    `Here is the specification of a Python function:\n${what}\n\n` +
    `Write ${count} assert statements that test ${target} on typical and edge cases, one per line, ` +
    "each with the exact expected result worked out from the specification. Do not implement the " +
    "function. Reply with the asserts in one ```python code block."
  );
}

/**
 * Tests the model writes from the specification: the top-level asserts of its reply that call the
 * entry point (or any asserts, when the request names no function), at most `count`.
 */
export function testsFromReply(reply: string, spec: CodeSpec, count: number): string[] {
  const code = extractPython(reply) ?? reply;
  return topLevelStatements(code)
    .filter((s) => s.startsWith("assert ") || s.startsWith("assert("))
    .filter((s) => spec.entryPoint === undefined || s.includes(spec.entryPoint))
    .slice(0, count);
}

/** Asks the model for tests of the specification (greedy), as a step of its own. */
export async function writeTests(
  ctx: StrategyContext,
  spec: CodeSpec,
  options: { count: number; params?: GenerationParams },
): Promise<string[]> {
  const result = await ctx.generate(
    {
      ...options.params,
      temperature: 0,
      stop: [...(options.params?.stop ?? []), CODE_BLOCK_END],
      messages: [
        { role: "system", content: CODER_SYSTEM_PROMPT },
        { role: "user", content: testRequest(spec, options.count) },
      ],
      n: 1,
    },
    { step: { kind: "write-tests" } },
  );
  return testsFromReply(result.completions[0]?.text ?? "", spec, options.count);
}
