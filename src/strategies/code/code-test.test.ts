import { afterAll, describe, expect, it } from "vitest";
import { createScriptedBackend } from "../../backends/scripted/scripted-backend.js";
import type { DeliberateEvent } from "../../core/event.js";
import { userMessage } from "../../core/message.js";
import { runStrategy } from "../../runtime/task-context.js";
import { pythonPool } from "../../tools/python/python-pool.js";
import { pythonTool } from "../../tools/python/python-tool.js";
import type { ToolRunOptions } from "../../tools/tool.js";
import { ADD_STUB, addProgram, lastUser, SANDBOX_TEST_TIMEOUT_MS } from "./add-stub-fixture.js";
import { codeTest } from "./code-test.js";

const TIMEOUT_MS = SANDBOX_TEST_TIMEOUT_MS;
afterAll(() => pythonPool.close());

const STUB = ADD_STUB;
const program = addProgram;

describe("code-test", () => {
  it(
    "starts the sandbox's interpreter before the model writes, so loading overlaps generation",
    async () => {
      const order: string[] = [];
      const backend = createScriptedBackend({
        respond: (turn) => {
          order.push("generate");
          return lastUser(turn).includes("assert statements")
            ? "```python\nassert add(1, 1) == 2\n```"
            : program("return a + b");
        },
      });
      const python = {
        ...pythonTool,
        prepare: () => order.push("prepare"),
        execute: (input: { code: string }, options: ToolRunOptions) => {
          order.push("run");
          return pythonTool.execute(input, options);
        },
      };
      const result = await runStrategy(codeTest({ python }), { messages: [userMessage(STUB)] }, { backend });
      expect(result.answer).toContain("return a + b");
      expect(order).toEqual(["prepare", "generate", "generate", "run"]);
    },
    TIMEOUT_MS,
  );

  it(
    "writes tests, runs the program against them, sends the failure back and answers the repaired program",
    async () => {
      const backend = createScriptedBackend({
        respond: (turn) =>
          lastUser(turn).includes("assert statements")
            ? "```python\nassert add(1, 1) == 2\nassert add(0, 0) == 0\n```"
            : lastUser(turn).includes("The code fails")
              ? program("return a + b")
              : program("return a - b"),
      });
      const events: DeliberateEvent[] = [];
      const result = await runStrategy(
        codeTest(),
        { messages: [userMessage(STUB)] },
        {
          backend,
          onEvent: (e) => events.push(e),
        },
      );
      expect(result.answer).toContain("return a + b");
      expect(result.details.examples).toEqual(["assert add(2, 3) == 5"]);
      expect(result.details.modelTests).toEqual(["assert add(1, 1) == 2", "assert add(0, 0) == 0"]);
      expect(result.details.attempts.map((a) => [a.examplesPassed, a.modelTestsPassed])).toEqual([
        [0, 1],
        [1, 2],
      ]);
      expect(result.details.chosen).toBe(1);
      // The failure went back with what the code returned, the specification's example first.
      const repair = backend.requests[2]?.messages?.at(-1)?.content ?? "";
      expect(repair).toContain("add(2, 3) returned -1, expected 5");
      expect(repair).toContain("certainly right");
      expect(events.filter((e) => e.type === "tool.call")).toHaveLength(2);
      expect(events.filter((e) => e.type === "tool.result")).toHaveLength(2);
      expect(events.some((e) => e.type === "step.start" && e.kind === "repair")).toBe(true);
    },
    TIMEOUT_MS,
  );

  it(
    "keeps the program that passes the specification's examples when a wrong model test pulls a repair away",
    async () => {
      const backend = createScriptedBackend({
        respond: (turn) =>
          lastUser(turn).includes("assert statements")
            ? "```python\nassert add(1, 1) == 3\n```"
            : lastUser(turn).includes("The code fails")
              ? program("return a + b + 1")
              : program("return a + b"),
      });
      const result = await runStrategy(
        codeTest({ maxRepairs: 1 }),
        { messages: [userMessage(STUB)] },
        { backend },
      );
      expect(result.details.attempts.map((a) => [a.examplesPassed, a.modelTestsPassed])).toEqual([
        [1, 0],
        [0, 1],
      ]);
      expect(result.details.chosen).toBe(0);
      expect(result.answer.endsWith("return a + b")).toBe(true);
      expect(backend.requests[2]?.messages?.at(-1)?.content).toContain("may themselves be wrong");
    },
    TIMEOUT_MS,
  );
});
