import type { StrategyContext } from "../../core/strategy.js";
import type { PythonToolOutput } from "../../tools/python/python-tool.js";
import type { AnyTool } from "../../tools/tool.js";
import { callTool } from "../../tools/tool-runner.js";

/** How one test went against one program. */
export interface TestOutcome {
  test: string;
  /**
   * "pass"; "fail" (an assertion or an exception); "invalid" (the test itself is not Python, or uses a
   * variable nobody defined).
   */
  status: "pass" | "fail" | "invalid";
  /** What went wrong: `f(1) returned 3, expected 2`, or the exception as "Name: message". */
  message?: string;
}

export interface TestRun {
  outcomes: TestOutcome[];
  /** The program failed before any test ran (a syntax error, an exception at load, a limit). */
  programError: string | undefined;
  /** The traceback of that failure or of the first failing test, from the program's frames. */
  traceback: string | undefined;
}

/** Marks the harness's own lines in the program's output. */
const MARK = "\u001edeliberate-test ";

/**
 * Python that loads the candidate, then runs each test apart from the others and prints one marked line
 * per test. `assert A == B` reports what A actually was, and compares floats within 1e-6; a test that
 * is not Python, or that uses a variable nobody defined, counts as invalid, not as a failure of the
 * candidate.
 */
export function testHarness(program: string, tests: readonly string[]): string {
  return `${program}


def __deliberate_close(__a, __b):
    # Floats compare within 1e-6 (as HumanEval's own checks do): a test written as
    # f(4.99) == 0.99 is right about the function even though 4.99 - 4 is 0.9900000000000002.
    __num = (int, float)
    if isinstance(__a, __num) and isinstance(__b, __num) and not isinstance(__a, bool) and not isinstance(__b, bool) and (isinstance(__a, float) or isinstance(__b, float)):
        return __a == __b or abs(__a - __b) <= 1e-6 * max(1.0, abs(__b))
    if isinstance(__a, (list, tuple)) and type(__a) is type(__b) and len(__a) == len(__b):
        return all(__deliberate_close(__x, __y) for __x, __y in zip(__a, __b))
    if isinstance(__a, dict) and isinstance(__b, dict) and __a.keys() == __b.keys():
        return all(__deliberate_close(__a[__k], __b[__k]) for __k in __a)
    return __a == __b


def __deliberate_undefined_in_test(__e, __tree):
    # A name the test uses as a value and nobody defined (a docstring's \`f(n) == f(n-1) + ...\` or
    # \`f(abc) => True\`), raised in the test's own code (eval'd or exec'd), is the test's fault; a
    # function it calls and the program lacks, or a NameError inside the program, is the program's.
    import ast as __ast
    if not isinstance(__e, NameError) or getattr(__e, "name", None) is None:
        return False
    if __e.name in {__c.func.id for __c in __ast.walk(__tree) if isinstance(__c, __ast.Call) and isinstance(__c.func, __ast.Name)}:
        return False
    __t = __e.__traceback__
    while __t is not None and __t.tb_next is not None:
        __t = __t.tb_next
    return __t is not None and __t.tb_frame.f_code.co_filename in ("<string>", "<test>")


def __deliberate_run_tests(__tests):
    import ast as __ast
    import json as __json
    import traceback as __tb
    __shown = False
    for __i, __src in enumerate(__tests):
        try:
            __tree = __ast.parse(__src)
        except SyntaxError as __e:
            print(${JSON.stringify(MARK)} + __json.dumps([__i, "invalid", "SyntaxError: " + str(__e)[:200]]), flush=True)
            continue
        __message = None
        try:
            __node = __tree.body[0] if len(__tree.body) == 1 else None
            __cmp = __node.test if isinstance(__node, __ast.Assert) else None
            if isinstance(__cmp, __ast.Compare) and len(__cmp.ops) == 1 and isinstance(__cmp.ops[0], __ast.Eq):
                __got = eval(__ast.unparse(__cmp.left), globals())
                __want = eval(__ast.unparse(__cmp.comparators[0]), globals())
                if not __deliberate_close(__got, __want):
                    __message = __ast.unparse(__cmp.left)[:200] + " returned " + repr(__got)[:200] + ", expected " + repr(__want)[:200]
            else:
                exec(compile(__tree, "<test>", "exec"), globals())
        except AssertionError as __e:
            __message = "AssertionError" + (": " + str(__e)[:200] if str(__e) else "")
        except Exception as __e:
            if __deliberate_undefined_in_test(__e, __tree):
                print(${JSON.stringify(MARK)} + __json.dumps([__i, "invalid", "NameError: " + str(__e)[:200]]), flush=True)
                continue
            __message = type(__e).__name__ + ": " + str(__e)[:300]
            if not __shown:
                __shown = True
                __tb.print_exc(limit=-3)
        print(${JSON.stringify(MARK)} + __json.dumps([__i, "pass" if __message is None else "fail", __message]), flush=True)


__deliberate_run_tests(__import__("json").loads(${JSON.stringify(JSON.stringify(tests))}))
`;
}

/** Reads the harness's lines back; tests it never reached failed with the program's error (a timeout). */
export function readTestRun(tests: readonly string[], output: PythonToolOutput): TestRun {
  const seen = new Map<number, TestOutcome>();
  for (const line of output.stdout.split("\n")) {
    const at = line.indexOf(MARK);
    if (at < 0) continue;
    try {
      const [index, status, message] = JSON.parse(line.slice(at + MARK.length)) as [
        number,
        TestOutcome["status"],
        string | null,
      ];
      const test = tests[index];
      if (test === undefined) continue;
      seen.set(index, { test, status, ...(message !== null && { message }) });
    } catch {
      // A line the program itself printed with our mark in it: not ours.
    }
  }
  const ranAll = seen.size === tests.length;
  const programError = ranAll ? undefined : (output.error ?? "the program stopped before its tests ran");
  const outcomes = tests.map(
    (test, i): TestOutcome => seen.get(i) ?? { test, status: "fail", message: programError ?? "did not run" },
  );
  const traceback = output.traceback ?? (output.stderr?.trim() || undefined);
  return { outcomes, programError, traceback };
}

/**
 * Runs tests against a program in the sandbox, as one `python` tool call (so it is a tool.call event),
 * and reports how it did as a `score` event from the "tests" verifier: the share of valid tests passed.
 * A caller that reports its own score of the run (a verifier) passes `{ score: false }`, so a run is
 * one score event, not two.
 */
export async function runTests(
  ctx: StrategyContext,
  python: AnyTool,
  program: string,
  tests: readonly string[],
  label = "program",
  options: { score?: boolean } = {},
): Promise<TestRun> {
  const outcome = await callTool(ctx, python, { code: testHarness(program, tests) });
  const run: TestRun = outcome.ok
    ? readTestRun(tests, outcome.output as PythonToolOutput)
    : {
        outcomes: tests.map((test) => ({ test, status: "fail", message: outcome.error })),
        programError: outcome.error,
        traceback: undefined,
      };
  if (options.score === false) return run;
  const firstFailure = run.outcomes.find((o) => o.status === "fail");
  ctx.emit({
    type: "score",
    target: label,
    score: valid(run) === 0 ? (run.programError === undefined ? 1 : 0) : passed(run) / valid(run),
    verifier: "tests",
    rationale:
      run.programError !== undefined && passed(run) === 0
        ? `failed to run: ${run.programError}`
        : `passed ${passed(run)} of ${valid(run)} tests${firstFailure ? `; \`${firstFailure.test}\`: ${firstFailure.message ?? "failed"}` : ""}`,
  });
  return run;
}

export const passed = (run: TestRun): number => run.outcomes.filter((o) => o.status === "pass").length;
export const valid = (run: TestRun): number => run.outcomes.filter((o) => o.status !== "invalid").length;
