import { pythonCodeFormat } from "../../answers/python-code.js";
import type { ChatMessage } from "../../core/message.js";
import { lastUserText } from "../../core/message.js";
import type { Strategy, StrategyInput, StrategyResult } from "../../core/strategy.js";
import { pythonTool } from "../../tools/python/python-tool.js";
import type { AnyTool } from "../../tools/tool.js";
import { type CodeSpec, parseCodeSpec } from "./code-spec.js";
import { writeTests } from "./model-tests.js";
import { passed, runTests, type TestOutcome, type TestRun } from "./python-tests.js";
import { programFromReply, programMessages, writePrograms } from "./write-program.js";

export interface CodeTestOptions {
  /** Rounds in which failures go back to the model for a corrected program; default 3. */
  maxRepairs?: number;
  /** Tests the model writes from the specification, beside the docstring's examples; default 5, 0 for none. */
  modelTests?: number;
  /** Runs the programs; default the `python` tool (the Pyodide sandbox). */
  python?: AnyTool;
}

/** One program and how it did. */
export interface CodeAttempt {
  program: string;
  /** Examples from the specification passed, of `examples`. */
  examplesPassed: number;
  /** Model-written tests passed. */
  modelTestsPassed: number;
  failures: TestOutcome[];
  programError: string | undefined;
}

export interface CodeTestResult extends StrategyResult {
  details: {
    examples: string[];
    modelTests: string[];
    attempts: CodeAttempt[];
    /** Index in `attempts` of the program answered. */
    chosen: number;
  };
}

/** Most failures described to the model in one repair request. */
const FAILURES_SHOWN = 4;

/** What went wrong, for the model: the failing tests with what they got, examples first, and a traceback. */
export function failureReport(spec: CodeSpec, run: TestRun, modelTests: readonly string[]): string {
  if (run.programError !== undefined && run.outcomes.every((o) => o.status !== "pass")) {
    return `Running the code failed before any test ran:\n${run.programError}${run.traceback ? `\n${run.traceback.slice(-800)}` : ""}`;
  }
  const failing = run.outcomes.filter((o) => o.status === "fail");
  const fromSpec = failing.filter((o) => !modelTests.includes(o.test));
  const fromModel = failing.filter((o) => modelTests.includes(o.test));
  const lines = [...fromSpec, ...fromModel]
    .slice(0, FAILURES_SHOWN)
    .map((o) => `- \`${o.test}\`${o.message ? `: ${o.message}` : ""}`);
  const trusted =
    fromSpec.length > 0
      ? "The examples from the specification are certainly right."
      : "These tests were written from the specification and may themselves be wrong: fix the code where it disagrees with the specification, and keep what is right.";
  return [
    `The code fails ${failing.length} of ${run.outcomes.filter((o) => o.status !== "invalid").length} tests:`,
    ...lines,
    ...(run.traceback ? [ownFrames(run.traceback).slice(-600)] : []),
    trusted,
    `Fix the code${spec.entryPoint ? ` of \`${spec.entryPoint}\`` : ""}. Reply with the complete corrected code in one \`\`\`python code block.`,
  ].join("\n");
}

/** A traceback without the test harness's own lines. */
const ownFrames = (traceback: string): string =>
  traceback
    .split("\n")
    .filter((line) => !line.includes("__deliberate"))
    .join("\n");

const score = (a: CodeAttempt): [number, number] => [a.examplesPassed, a.modelTestsPassed];

/** The better attempt: more of the specification's examples passed, then more model tests; later wins ties. */
const better = (a: CodeAttempt, b: CodeAttempt): boolean => {
  const [ea, ma] = score(a);
  const [eb, mb] = score(b);
  return ea !== eb ? ea > eb : ma >= mb;
};

/**
 * The seeds' coding loop: the model writes tests from the specification (beside the docstring's own
 * examples), writes the program, the sandbox runs the tests, and failures (assertions with what the code
 * returned, exceptions with their traceback, timeouts) go back to the model for up to `maxRepairs`
 * rounds. The answer is the attempt that passed the most examples, then the most model-written tests:
 * a model's test can be wrong, the specification's examples are not.
 */
export function codeTest(options: CodeTestOptions = {}): Strategy<StrategyInput, CodeTestResult> {
  const maxRepairs = options.maxRepairs ?? 3;
  const testCount = options.modelTests ?? 5;
  const python = options.python ?? pythonTool;
  return async (ctx, input) => {
    python.prepare?.();
    const spec = parseCodeSpec(lastUserText(input.messages));
    const examples = spec.examples;
    const modelTests =
      testCount > 0
        ? (
            await writeTests(ctx, spec, { count: testCount, ...(input.params && { params: input.params }) })
          ).filter((t) => !examples.includes(t))
        : [];
    const tests = [...examples, ...modelTests];
    const messages: ChatMessage[] = programMessages(input.messages, spec);
    const [first] = await writePrograms(ctx, messages, spec, {
      ...(input.params && { params: input.params }),
      step: { kind: "code" },
    });
    let reply = first?.reply ?? "";
    let program = first?.program ?? "";
    const attempts: CodeAttempt[] = [];
    for (let round = 0; program !== ""; round++) {
      const run = await runTests(ctx, python, program, tests, `attempt ${round + 1}`);
      const attempt: CodeAttempt = {
        program,
        examplesPassed: passed({ ...run, outcomes: run.outcomes.slice(0, examples.length) }),
        modelTestsPassed: passed({ ...run, outcomes: run.outcomes.slice(examples.length) }),
        failures: run.outcomes.filter((o) => o.status === "fail"),
        programError: run.programError,
      };
      attempts.push(attempt);
      if (attempt.failures.length === 0 && run.programError === undefined) break;
      if (round >= maxRepairs) break;
      const feedback = failureReport(spec, run, modelTests);
      messages.push({ role: "assistant", content: reply }, { role: "user", content: feedback });
      const repaired = await ctx.step({ kind: "repair", label: `round ${round + 1}` }, (stepCtx) =>
        writePrograms(stepCtx, messages, spec, {
          ...(input.params && { params: input.params }),
          step: { kind: "code" },
        }),
      );
      reply = repaired[0]?.reply ?? "";
      const next = repaired[0]?.program ?? "";
      // The model kept its program (it judged a test wrong) or wrote none: running it again tells nothing.
      if (next === "" || pythonCodeFormat.canonical(next) === pythonCodeFormat.canonical(program)) break;
      program = next;
    }
    const chosen = attempts.reduce((best, a, i) => (better(a, attempts[best] as CodeAttempt) ? i : best), 0);
    const answer = attempts[chosen]?.program ?? programFromReply(spec, reply);
    return {
      answer,
      strategy: "code-test",
      budgetExhausted: false,
      details: { examples, modelTests, attempts, chosen },
    };
  };
}
