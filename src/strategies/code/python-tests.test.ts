import { afterAll, describe, expect, it } from "vitest";
import { pythonPool } from "../../tools/python/python-pool.js";
import { runPython } from "../../tools/python/python-sandbox.js";
import { SANDBOX_TEST_TIMEOUT_MS } from "./add-stub-fixture.js";
import { readTestRun, testHarness } from "./python-tests.js";

afterAll(() => pythonPool.close());

/** Runs tests against a program in the sandbox and returns each test's status and message. */
async function outcomes(program: string, tests: string[]) {
  const run = await runPython(testHarness(program, tests));
  return readTestRun(tests, { stdout: run.stdout, outputTruncated: run.outputTruncated }).outcomes.map(
    (o) => [o.status, o.message ?? ""],
  );
}

describe("the test harness", () => {
  it(
    "compares floats within 1e-6, element by element, and everything else exactly; equal values always pass",
    async () => {
      const program = "def frac(x):\n    return x - int(x)\n\ndef pair(x):\n    return [frac(x), str(x)]\n";
      expect(
        await outcomes(program, [
          "assert frac(4.99) == 0.99",
          "assert pair(4.99) == [0.99, '4.99']",
          "assert frac(4.5) == 0.6",
          "assert pair(4.99) == [0.99, '4.98']",
          "assert pair(4.99) == (0.99, '4.99')",
          "assert float('inf') + frac(0.5) == float('inf')",
          "assert frac(",
        ]),
      ).toEqual([
        ["pass", ""],
        ["pass", ""],
        ["fail", "frac(4.5) returned 0.5, expected 0.6"],
        ["fail", "pair(4.99) returned [0.9900000000000002, '4.99'], expected [0.99, '4.98']"],
        ["fail", "pair(4.99) returned [0.9900000000000002, '4.99'], expected (0.99, '4.99')"],
        // Equal values pass as they always did: inf − inf is nan, so equality is checked before closeness.
        ["pass", ""],
        ["invalid", expect.stringMatching(/^SyntaxError/)],
      ]);
    },
    SANDBOX_TEST_TIMEOUT_MS,
  );

  it(
    "counts a test that uses an undefined variable as invalid, and a missing function or a program's own NameError as failures",
    async () => {
      const program =
        "def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n\ndef broken(x):\n    return y + x\n";
      expect(
        await outcomes(program, [
          // A docstring's recurrence and an unquoted string argument: neither is a test of the program.
          "assert fib(n) == fib(n-1) + fib(n-2)",
          "assert fib(abc) == 1",
          "assert fib(10) == 55",
          "assert fob(10) == 55",
          "assert broken(1) == 2",
        ]),
      ).toEqual([
        ["invalid", "NameError: name 'n' is not defined"],
        ["invalid", "NameError: name 'abc' is not defined"],
        ["pass", ""],
        ["fail", "NameError: name 'fob' is not defined"],
        ["fail", "NameError: name 'y' is not defined"],
      ]);
    },
    SANDBOX_TEST_TIMEOUT_MS,
  );
});
