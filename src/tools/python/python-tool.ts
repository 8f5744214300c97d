import { z } from "zod";
import { defineTool, type Tool } from "../tool.js";
import { pythonPool } from "./python-pool.js";
import { DEFAULT_PYTHON_LIMITS, type PythonLimits, runPython } from "./python-sandbox.js";

/** What a Python run returns to the model. A program that raises still "ran": its error is reported here. */
export interface PythonToolOutput {
  stdout: string;
  stderr?: string;
  /** repr() of the program's last expression. */
  result?: string;
  /** Uncaught exception, timeout or limit hit, as "Name: message". */
  error?: string;
  /** The exception's traceback, from the program's own frames. */
  traceback?: string;
  outputTruncated: boolean;
}

export type PythonTool = Tool<{ code: string }, PythonToolOutput>;

/**
 * Loading the interpreter when no warm one is ready, on top of the program's own wall-clock allowance:
 * as long as the pool waits for a load (a busy two-core machine has been seen at ~15 s).
 */
const STARTUP_ALLOWANCE_MS = 60_000;

/** The `python` tool with its own sandbox limits. */
export function createPythonTool(limits: Partial<PythonLimits> = {}): PythonTool {
  const effective = { ...DEFAULT_PYTHON_LIMITS, ...limits };
  return defineTool({
    name: "python",
    description:
      "Runs a Python 3 program in an isolated interpreter (standard library only; no files, network, processes or package installs) and returns what it printed, its last expression's value, and any exception with its traceback.",
    input: z.object({
      code: z.string().min(1).max(effective.maxCodeChars).describe("A complete Python program"),
    }),
    timeoutMs: effective.wallMs + STARTUP_ALLOWANCE_MS,
    // A cold interpreter takes seconds to load (bench/results/python-sandbox): begin while the model writes.
    prepare: () => pythonPool.fill(),
    execute: async ({ code }, { signal }): Promise<PythonToolOutput> => {
      const run = await runPython(code, { limits: effective, signal });
      return {
        stdout: run.stdout,
        ...(run.stderr !== "" && { stderr: run.stderr }),
        ...(run.result !== undefined && { result: run.result }),
        ...(run.error !== undefined && { error: run.error }),
        ...(run.traceback !== undefined && { traceback: run.traceback }),
        outputTruncated: run.outputTruncated,
      };
    },
  });
}

/** Runs Python in a Pyodide sandbox in a worker thread, with the default limits. */
export const pythonTool: PythonTool = createPythonTool();
