import { describe, expect, it } from "vitest";
import { z } from "zod";
import { createScriptedBackend } from "../backends/scripted/scripted-backend.js";
import type { DeliberateEvent } from "../core/event.js";
import { userMessage } from "../core/message.js";
import { runStrategy } from "../runtime/task-context.js";
import { calculatorTool } from "../tools/calculator/calculator-tool.js";
import { defineTool } from "../tools/tool.js";
import { createToolbox } from "../tools/toolbox.js";
import { parseActionInput, parseReactReply, react } from "./react.js";
import { createStrategy } from "./registry.js";

describe("react text protocol", () => {
  it("reads an action with its input, a final answer, or neither", () => {
    expect(parseReactReply('Thought: add\nAction: calculator\nAction Input: {"expression": "2+2"}')).toEqual({
      kind: "action",
      tool: "calculator",
      rawInput: '{"expression": "2+2"}',
    });
    expect(parseReactReply("Thought: done\nFinal Answer: 42 apples")).toEqual({
      kind: "answer",
      text: "42 apples",
    });
    // An action written before an imagined answer is still an action.
    expect(parseReactReply("Action: calculator\nAction Input: 1+1\nFinal Answer: 2")).toMatchObject({
      kind: "action",
      rawInput: "1+1",
    });
    expect(parseReactReply("I think it is 4.")).toEqual({ kind: "none" });
  });

  it("reads JSON input, JSON inside prose or fences, and bare text for a one-string-field tool", () => {
    const calculator = createToolbox([calculatorTool]).describe()[0];
    expect(parseActionInput('{"expression": "3*4"}', calculator)).toEqual({ expression: "3*4" });
    expect(parseActionInput('```json\n{"expression": "3*4"}\n```', calculator)).toEqual({
      expression: "3*4",
    });
    expect(parseActionInput('the input is {"expression": "1"} ok', calculator)).toEqual({ expression: "1" });
    expect(parseActionInput("3 * 4", calculator)).toEqual({ expression: "3 * 4" });
  });
});

describe("react", () => {
  it("calls a tool, shows the observation, and extracts the final answer", async () => {
    const backend = createScriptedBackend({
      respond: [
        'Thought: I need the product.\nAction: calculator\nAction Input: {"expression": "17 * 23"}',
        "Thought: I have it.\nFinal Answer: 391",
      ],
    });
    const events: DeliberateEvent[] = [];
    const result = await runStrategy(
      react({ tools: [calculatorTool] }),
      { messages: [userMessage("What is 17 * 23?")] },
      { backend, onEvent: (e) => events.push(e) },
    );
    expect(result.answer).toBe("391");
    expect(result.details.steps).toEqual([
      { tool: "calculator", input: { expression: "17 * 23" }, ok: true, observation: "391" },
    ]);
    const second = backend.requests[1]?.messages ?? [];
    expect(second[0]).toMatchObject({ role: "system", content: expect.stringContaining("- calculator:") });
    expect(second.at(-1)).toEqual({ role: "user", content: "Observation: 391" });
    expect(backend.requests[0]?.stop).toContain("Observation:");
    expect(events.filter((e) => e.type === "tool.call")).toHaveLength(1);
  });

  it("shows tool errors and unknown tools to the model as observations", async () => {
    const backend = createScriptedBackend({
      respond: [
        "Action: shell\nAction Input: rm -rf /",
        'Action: calculator\nAction Input: {"expression": "zeros(9, 9)"}',
        "Final Answer: 0",
      ],
    });
    const result = await runStrategy(
      react({ tools: [calculatorTool] }),
      { messages: [userMessage("?")] },
      { backend },
    );
    expect(result.details.steps.map((s) => [s.tool, s.ok])).toEqual([
      ["shell", false],
      ["calculator", false],
    ]);
    expect(backend.requests[1]?.messages?.at(-1)?.content).toBe(
      'Observation: Error: unknown tool "shell" (have: calculator)',
    );
    expect(backend.requests[2]?.messages?.at(-1)?.content).toMatch(
      /^Observation: Error: refused: unknown function "zeros"/,
    );
  });

  it("stops calling tools after maxIterations and makes the model answer", async () => {
    let calls = 0;
    const counter = defineTool({
      name: "count",
      description: "Counts calls.",
      input: z.object({}),
      execute: () => ++calls,
    });
    const backend = createScriptedBackend({
      respond: ({ request }) =>
        request.messages?.at(-1)?.content.startsWith("You have used all")
          ? "Final Answer: 2"
          : "Action: count\nAction Input: {}",
    });
    const result = await runStrategy(
      react({ tools: [counter], maxIterations: 2 }),
      { messages: [userMessage("?")] },
      { backend },
    );
    expect(calls).toBe(2);
    expect(backend.requests).toHaveLength(3);
    expect(result.details.forcedToAnswer).toBe(true);
    expect(result.answer).toBe("2");
  });

  it("cuts long observations", async () => {
    const verbose = defineTool({
      name: "verbose",
      description: "",
      input: z.object({}),
      execute: () => "y".repeat(5_000),
    });
    const backend = createScriptedBackend({
      respond: ["Action: verbose\nAction Input: {}", "Final Answer: 1"],
    });
    await runStrategy(
      react({ tools: [verbose], maxObservationChars: 100 }),
      { messages: [userMessage("?")] },
      { backend },
    );
    expect(backend.requests[1]?.messages?.at(-1)?.content).toBe(
      `Observation: ${"y".repeat(100)} [cut: 4900 more characters]`,
    );
  });

  it("is registered with built-in tools chosen by name", () => {
    expect(typeof createStrategy({ name: "react", tools: ["calculator", "code"] })).toBe("function");
    expect(() => createStrategy({ name: "react", tools: ["shell"] })).toThrow(/unknown tool "shell"/);
    expect(() => createStrategy({ name: "react", tools: ["web-fetch"] })).toThrow(/needs configuration/);
  });
});
