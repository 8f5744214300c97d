import { afterAll, describe, expect, it } from "vitest";
import { UsageError } from "../../core/errors.js";
import { PythonPool, pythonPool } from "./python-pool.js";
import { runPython } from "./python-sandbox.js";

// Each run loads a fresh interpreter (seconds on a busy machine; the pool overlaps the next load with
// the current test), so this file keeps its runs few and its timeouts generous for that load only.
const RUN_TIMEOUT_MS = 60_000;

afterAll(() => pythonPool.close());

describe("runPython", () => {
  it(
    "returns what the program printed, read from stdin, and its last expression's repr",
    async () => {
      const run = await runPython('name = input()\nprint("hello", name)\nsum(range(10)), "done"', {
        stdin: "Ada\n",
      });
      expect(run).toMatchObject({
        ok: true,
        stdout: "hello Ada\n",
        result: "(45, 'done')",
        error: undefined,
        killed: false,
      });
    },
    RUN_TIMEOUT_MS,
  );

  it(
    "reports an uncaught exception as Name: message with the program's own traceback, and stderr",
    async () => {
      const code = 'import sys\nprint("warn", file=sys.stderr)\ndef half(n):\n    return n / 0\nhalf(4)\n';
      const run = await runPython(code);
      expect(run.ok).toBe(false);
      expect(run.error).toBe("ZeroDivisionError: division by zero");
      expect(run.stderr).toBe("warn\n");
      expect(run.traceback).toContain('File "program.py", line 5, in <module>');
      expect(run.traceback).toContain('File "program.py", line 4, in half');
      // The runner's own frame is not the program's business.
      expect(run.traceback).not.toContain("_deliberate_run");
    },
    RUN_TIMEOUT_MS,
  );

  it(
    "caps the output and stops a program that floods it",
    async () => {
      const run = await runPython('while True:\n    print("x" * 99)', { limits: { maxOutputChars: 1_000 } });
      expect(run.ok).toBe(false);
      expect(run.error).toBe("OutputLimitError: output limit exceeded");
      expect(run.outputTruncated).toBe(true);
      expect(run.stdout).toBe(`${"x".repeat(99)}\n`.repeat(10));
      expect(run.killed).toBe(false);
    },
    RUN_TIMEOUT_MS,
  );

  it(
    "gives every run a fresh interpreter: globals, modules, builtins and files do not carry over",
    async () => {
      const first = await runPython(
        [
          "import builtins, sys, math",
          "builtins.LEAKED = 1",
          "math.pi = 3",
          "sys.modules['planted'] = math",
          "open('/tmp/left-behind', 'w').write('x')",
          "counter = 1",
        ].join("\n"),
      );
      expect(first).toMatchObject({ ok: true, error: undefined });
      const second = await runPython(
        [
          "import builtins, sys, math, os",
          "[hasattr(builtins, 'LEAKED'), math.pi == 3, 'planted' in sys.modules,",
          " os.path.exists('/tmp/left-behind'), 'counter' in globals()]",
        ].join("\n"),
      );
      expect(second).toMatchObject({ ok: true, result: "[False, False, False, False, False]" });
    },
    2 * RUN_TIMEOUT_MS,
  );

  it(
    "starts its workers from the process's memory snapshot, not by starting CPython again",
    async () => {
      const pool = new PythonPool(0);
      const warm = await pool.take();
      await warm.worker.terminate();
      expect(warm.fromSnapshot).toBe(true);
    },
    2 * RUN_TIMEOUT_MS,
  );

  it(
    "reseeds random in every run, though every interpreter starts from the same snapshot",
    async () => {
      const draw = "import random\nrandom.getrandbits(64)";
      const [first, second] = [await runPython(draw), await runPython(draw)];
      expect(first).toMatchObject({ ok: true });
      expect(first.result).toMatch(/^\d+$/);
      expect(second.result).not.toBe(first.result);
    },
    2 * RUN_TIMEOUT_MS,
  );

  it("refuses a program over the length limit without starting an interpreter", async () => {
    const run = await runPython("x = 1\n".repeat(10), { limits: { maxCodeChars: 20 } });
    expect(run).toMatchObject({ ok: false, killed: false });
    expect(run.error).toBe("ValueError: program is 60 characters, over the limit of 20");
  });

  it("rejects limits that are not positive numbers", async () => {
    await expect(runPython("1", { limits: { cpuMs: 0 } })).rejects.toThrow(UsageError);
    await expect(runPython("1", { limits: { memoryMb: Number.NaN } })).rejects.toThrow(
      "sandbox limit memoryMb must be positive",
    );
  });
});
