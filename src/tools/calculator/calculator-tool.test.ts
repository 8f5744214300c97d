import { describe, expect, it } from "vitest";
import { createScriptedBackend } from "../../backends/scripted/scripted-backend.js";
import type { DeliberateEvent } from "../../core/event.js";
import { userMessage } from "../../core/message.js";
import { runStrategy } from "../../runtime/task-context.js";
import { callTool, type ToolOutcome } from "../tool-runner.js";
import { calculatorTool, MAX_EXPRESSION_LENGTH } from "./calculator-tool.js";

async function calculate(expression: unknown): Promise<ToolOutcome> {
  let outcome: ToolOutcome | undefined;
  await runStrategy(
    async (ctx) => {
      outcome = await callTool(ctx, calculatorTool, { expression });
      return { answer: "", strategy: "test", budgetExhausted: false };
    },
    { messages: [userMessage("?")] },
    { backend: createScriptedBackend() },
  );
  return outcome as ToolOutcome;
}

describe("calculator tool", () => {
  it.each([
    ["(12 * 3.5 + 4) / 2", "23"],
    ["0.1 + 0.2", "0.3"],
    ["5!", "120"],
    ["sqrt(16) + 2^3", "12"],
    ["round(10 / 3, 2)", "3.33"],
    ["max(3, 9, 4) - min(3, 9, 4)", "6"],
    ["17 % 5", "2"],
    ["2 * pi", "6.2831853071796"],
    ["1 / 0", "Infinity"],
  ])("evaluates %s to %s", async (expression, expected) => {
    const outcome = await calculate(expression);
    expect(outcome).toMatchObject({ ok: true, output: expected });
  });

  it("reports refused and malformed expressions as failed calls, not exceptions", async () => {
    expect(await calculate("zeros(3, 3)")).toMatchObject({ ok: false, reason: "failed" });
    expect(await calculate("1 +")).toMatchObject({ ok: false, error: expect.stringMatching(/cannot parse/) });
    expect(await calculate("x + 1")).toMatchObject({
      ok: false,
      error: expect.stringMatching(/unknown symbol "x"/),
    });
  });

  it("refuses input over the length cap before parsing it", async () => {
    const long = `${"1+".repeat(MAX_EXPRESSION_LENGTH)}1`;
    expect(await calculate(long)).toMatchObject({ ok: false, reason: "invalid_input" });
    expect(await calculate(42)).toMatchObject({ ok: false, reason: "invalid_input" });
  });

  it("emits the call and its result as events", async () => {
    const events: DeliberateEvent[] = [];
    await runStrategy(
      async (ctx) => {
        await callTool(ctx, calculatorTool, { expression: "6 * 7" }, { callId: "c1" });
        return { answer: "", strategy: "test", budgetExhausted: false };
      },
      { messages: [userMessage("?")] },
      { backend: createScriptedBackend(), onEvent: (e) => events.push(e) },
    );
    const call = events.find((e) => e.type === "tool.call");
    const result = events.find((e) => e.type === "tool.result");
    expect(call).toMatchObject({ callId: "c1", tool: "calculator", input: { expression: "6 * 7" } });
    expect(result).toMatchObject({ callId: "c1", tool: "calculator", output: "42", isError: false });
  });
});
