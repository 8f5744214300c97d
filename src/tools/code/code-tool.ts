import { z } from "zod";
import { defineTool, type Tool } from "../tool.js";
import { DEFAULT_SANDBOX_LIMITS, runInSandbox, type SandboxLimits } from "./code-sandbox.js";

/** What a program run returns to the model. A program that throws still "ran": its error is reported here. */
export interface CodeToolOutput {
  stdout: string;
  /** The program's completion value, printed. */
  result?: string;
  /** Uncaught error, timeout or limit hit, as "Name: message". */
  error?: string;
  outputTruncated: boolean;
}

export type CodeTool = Tool<{ code: string }, CodeToolOutput>;

/** Time to start a worker and load the interpreter, on top of the program's own wall-clock allowance. */
const STARTUP_ALLOWANCE_MS = 10_000;

/** The `code` tool with its own sandbox limits. */
export function createCodeTool(limits: Partial<SandboxLimits> = {}): CodeTool {
  const effective = { ...DEFAULT_SANDBOX_LIMITS, ...limits };
  return defineTool({
    name: "code",
    description:
      "Runs a JavaScript program in an isolated interpreter (no files, network or modules) and returns what it printed with console.log, its last expression's value, and any error.",
    input: z.object({
      code: z.string().min(1).max(effective.maxCodeChars).describe("A complete JavaScript program"),
    }),
    timeoutMs: effective.wallMs + STARTUP_ALLOWANCE_MS,
    execute: async ({ code }, { signal }): Promise<CodeToolOutput> => {
      const run = await runInSandbox(code, { limits: effective, signal });
      return {
        stdout: run.stdout,
        ...(run.result !== undefined && { result: run.result }),
        ...(run.error !== undefined && { error: run.error }),
        outputTruncated: run.outputTruncated,
      };
    },
  });
}

/** Runs JavaScript in a QuickJS sandbox in a worker thread, with the default limits. */
export const codeTool: CodeTool = createCodeTool();
