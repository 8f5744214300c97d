import { describe, expect, it } from "vitest";
import { createScriptedBackend } from "../../backends/scripted/scripted-backend.js";
import { AbortedError } from "../../core/errors.js";
import { userMessage } from "../../core/message.js";
import { runStrategy } from "../../runtime/task-context.js";
import { callTool, type ToolOutcome } from "../tool-runner.js";
import { runInSandbox } from "./code-sandbox.js";
import { codeTool } from "./code-tool.js";

describe("code sandbox", () => {
  it("returns printed output and the completion value of a program", async () => {
    const run = await runInSandbox(
      "const xs = [1, 2, 3];\nconsole.log('sum', xs.reduce((a, b) => a + b));\n({ n: xs.length })",
    );
    expect(run).toMatchObject({ ok: true, stdout: "sum 6\n", result: '{"n":3}', killed: false });
    expect(run.error).toBeUndefined();
  });

  it("reports an uncaught error with what was printed before it", async () => {
    const run = await runInSandbox("console.log('before');\nundefinedFunction();");
    expect(run).toMatchObject({
      ok: false,
      stdout: "before\n",
      error: expect.stringMatching(/^ReferenceError: .*undefinedFunction/),
    });
  });

  it("reports a thrown null as such", async () => {
    const thrown = await runInSandbox("throw null");
    expect(thrown.error).toBe("Uncaught null");
  });

  it("reports a heap too full to build its error as out of memory", async () => {
    // A small heap fills in a fraction of the CPU allowance, which a busy machine hands out slowly.
    const full = await runInSandbox("const m = new Map(); for (let i = 0; ; i++) m.set(i, { i })", {
      limits: { memoryBytes: 4 * 1024 * 1024 },
    });
    expect(full.ok).toBe(false);
    expect(full.error).toBe("InternalError: out of memory");
  });

  it("kills the worker at the wall-clock deadline when the interpreter is not stopping it", async () => {
    const started = Date.now();
    const run = await runInSandbox("while (true) {}", { limits: { cpuMs: 60_000, wallMs: 1_500 } });
    expect(run).toMatchObject({
      ok: false,
      killed: true,
      error: expect.stringMatching(/killed after 1500 ms/),
    });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("rejects with AbortedError when its signal aborts mid-run", async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 300);
    await expect(runInSandbox("while (true) {}", { signal: controller.signal })).rejects.toBeInstanceOf(
      AbortedError,
    );
  });

  it("refuses invalid limits", async () => {
    await expect(runInSandbox("1", { limits: { cpuMs: 0 } })).rejects.toThrow(/cpuMs must be positive/);
  });
});

describe("code tool", () => {
  it("runs a program as a tool call, its error part of the output rather than a failed call", async () => {
    let outcome: ToolOutcome | undefined;
    await runStrategy(
      async (ctx) => {
        outcome = await callTool(ctx, codeTool, { code: "console.log(6 * 7); throw new TypeError('late')" });
        return { answer: "", strategy: "test", budgetExhausted: false };
      },
      { messages: [userMessage("?")] },
      { backend: createScriptedBackend() },
    );
    expect(outcome).toMatchObject({
      ok: true,
      output: { stdout: "42\n", error: "TypeError: late", outputTruncated: false },
    });
  });
});
