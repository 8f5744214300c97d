import { afterAll, describe, expect, it } from "vitest";
import { createScriptedBackend } from "../../backends/scripted/scripted-backend.js";
import type { DeliberateEvent } from "../../core/event.js";
import { userMessage } from "../../core/message.js";
import { runStrategy } from "../../runtime/task-context.js";
import { calculatorTool } from "../../tools/calculator/calculator-tool.js";
import { pythonPool } from "../../tools/python/python-pool.js";
import { pythonTool } from "../../tools/python/python-tool.js";
import { rolePipeline } from "../role-pipeline.js";
import { ADD_STUB, lastUser, SANDBOX_TEST_TIMEOUT_MS } from "./add-stub-fixture.js";

const TIMEOUT_MS = SANDBOX_TEST_TIMEOUT_MS;
afterAll(() => pythonPool.close());

const STUB = ADD_STUB;

describe("the pipeline on a coding task", () => {
  it(
    "plans, writes and runs the program, has the critic review it without the plan, and answers the fixed program",
    async () => {
      const backend = createScriptedBackend({
        respond: (turn) => {
          const asked = lastUser(turn);
          if (asked.startsWith("Classify")) return '{"intent": "code", "difficulty": "easy"}';
          if (asked.startsWith("Write a numbered plan")) return "1. Add the two numbers.\n2. Return the sum.";
          if (asked.startsWith("Specification:")) return '{"verdict": "revise", "issues": ["it subtracts"]}';
          if (asked.includes("Fix the program")) return "```python\ndef add(a, b):\n    return a + b\n```";
          return "```python\ndef add(a, b):\n    return a - b\n```";
        },
      });
      const events: DeliberateEvent[] = [];
      const result = await runStrategy(
        rolePipeline({ tools: [calculatorTool, pythonTool] }),
        { messages: [userMessage(STUB)] },
        { backend, onEvent: (e) => events.push(e) },
      );
      expect(result.answer).toBe("def add(a, b):\n    return a + b");
      expect(result.details.answeredBy).toBe("synthesizer");
      expect(result.details.plan.map((s) => s.instruction)).toEqual([
        "Add the two numbers.",
        "Return the sum.",
      ]);
      expect(result.details.critique).toEqual({ verdict: "revise", issues: ["it subtracts"] });
      // The executor followed the plan; the critic saw the program and its run, not the plan.
      const prompts = backend.requests.map((r) => r.messages?.at(-1)?.content ?? "");
      expect(prompts.find((p) => p.includes("Can you complete"))).toContain("Follow this plan");
      const critic = prompts.find((p) => p.startsWith("Specification:")) ?? "";
      expect(critic).toContain("add(2, 3) returned -1, expected 5");
      expect(critic).not.toContain("Add the two numbers");
      expect(events.filter((e) => e.type === "tool.call" && e.tool === "python")).toHaveLength(2);
      const roles = events.flatMap((e) => (e.type === "step.start" ? [e.kind] : []));
      expect(roles).toEqual(
        expect.arrayContaining(["router", "planner", "executor", "critic", "synthesizer"]),
      );
    },
    TIMEOUT_MS,
  );

  it("without the python tool, treats a coding request as any other", async () => {
    const backend = createScriptedBackend({
      respond: (turn) =>
        lastUser(turn).startsWith("Classify")
          ? '{"intent": "code", "difficulty": "easy"}'
          : "The answer is 5.",
    });
    const events: DeliberateEvent[] = [];
    await runStrategy(
      rolePipeline(),
      { messages: [userMessage(STUB)] },
      { backend, onEvent: (e) => events.push(e) },
    );
    expect(events.some((e) => e.type === "tool.call")).toBe(false);
  });
});
