import { pythonTool } from "../../tools/python/python-tool.js";
import type { AnyTool } from "../../tools/tool.js";
import { type Candidate, questionText, reportScore, type Verifier } from "../../verifiers/verifier.js";
import { completeProgram, parseCodeSpec } from "./code-spec.js";
import { passed, runTests, valid } from "./python-tests.js";

/**
 * Scores a candidate program by running it in the sandbox against the examples in the question's
 * docstring: the share it passes. With no examples, a program that loads without error scores 1. A
 * candidate with no program scores 0. Usable by best-of-n over `code` candidates.
 */
export function executionVerifier(options: { python?: AnyTool } = {}): Verifier {
  const python = options.python ?? pythonTool;
  return {
    name: "execution",
    async score(ctx, candidate: Candidate, _all, question) {
      const spec = parseCodeSpec(questionText(question));
      const code = candidate.answer ?? "";
      if (code.trim() === "") {
        return reportScore(ctx, "execution", candidate, { score: 0, rationale: "no program" });
      }
      const run = await runTests(
        ctx,
        python,
        completeProgram(spec, code),
        spec.examples,
        `candidate ${candidate.index}`,
        { score: false },
      );
      if (spec.examples.length === 0 || valid(run) === 0) {
        const loads = run.programError === undefined;
        return reportScore(ctx, "execution", candidate, {
          score: loads ? 1 : 0,
          rationale: loads ? "runs without error (no examples to test)" : run.programError,
        });
      }
      return reportScore(ctx, "execution", candidate, {
        score: passed(run) / valid(run),
        rationale: `passed ${passed(run)} of ${valid(run)} examples`,
      });
    },
  };
}
