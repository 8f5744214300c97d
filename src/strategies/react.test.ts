import { describe, expect, it } from "vitest";
import { z } from "zod";
import { createOpenAIBackend } from "../backends/openai/openai-backend.js";
import {
  createScriptedBackend,
  type ScriptedReply,
  type ScriptedTurn,
} from "../backends/scripted/scripted-backend.js";
import type { Backend } from "../core/backend.js";
import type { DeliberateEvent } from "../core/event.js";
import { userMessage } from "../core/message.js";
import { runStrategy } from "../runtime/task-context.js";
import { startOpenAICompatibleServer } from "../testing/openai-compatible-server.js";
import { calculatorTool } from "../tools/calculator/calculator-tool.js";
import { defineTool } from "../tools/tool.js";
import { createToolbox } from "../tools/toolbox.js";
import { createStrategy } from "./catalog.js";
import { parseActionInput, parseReactReply, react } from "./react.js";

/** Runs react with the calculator on `question`, collecting the events it emits. */
async function runCalculatorReact(backend: Backend, question = "What is 17 * 23?") {
  const events: DeliberateEvent[] = [];
  const result = await runStrategy(
    react({ tools: [calculatorTool] }),
    { messages: [userMessage(question)] },
    { backend, onEvent: (e) => events.push(e) },
  );
  return { result, events };
}

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
    const { result, events } = await runCalculatorReact(backend);
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
    expect(() => createStrategy({ name: "cot", tools: ["calculator"] })).toThrow(/does not call tools/);
    expect(() => createStrategy({ name: "react", maxToolCalls: 0 })).toThrow(/maxToolCalls/);
    expect(
      typeof createStrategy({
        name: "pipeline",
        tools: ["search", "web-fetch"],
        toolSettings: { search: { directory: "." }, webFetch: { allowHosts: ["example.org"] } },
      }),
    ).toBe("function");
  });

  it("stops after maxToolCalls when built from the registry", async () => {
    const backend = createScriptedBackend({
      respond: ({ prompt }) =>
        prompt.includes("used all your tool calls")
          ? "Final Answer: 5"
          : 'Action: calculator\nAction Input: {"expression": "2 + 3"}',
    });
    const result = await runStrategy(
      createStrategy({ name: "react", maxToolCalls: 2 }),
      { messages: [userMessage("2 + 3?")] },
      { backend },
    );
    expect(result.answer).toBe("5");
    expect(result.usage.calls).toBe(3);
  });
});

describe("react with native function calling", () => {
  /** Calls the calculator until a tool result is in the history, then answers with it. */
  const calculatorModel = ({ request }: ScriptedTurn) => {
    const last = request.messages?.at(-1);
    return last?.role === "tool"
      ? `The answer is ${last.content}.`
      : {
          text: "I will compute it.",
          toolCalls: [{ name: "calculator", arguments: { expression: "17 * 23" }, id: "call_a" }],
        };
  };

  it("sends the tools as specs, runs the returned call, and answers the call with a tool message", async () => {
    const backend = createScriptedBackend({ tools: true, respond: calculatorModel });
    const { result, events } = await runCalculatorReact(backend);
    expect(result.answer).toBe("391");
    expect(result.details.protocol).toBe("native");
    expect(result.details.steps).toEqual([
      { tool: "calculator", input: { expression: "17 * 23" }, ok: true, observation: "391" },
    ]);

    const first = backend.requests[0];
    expect(first?.tools).toEqual([
      {
        name: "calculator",
        description: calculatorTool.description,
        parameters: createToolbox([calculatorTool]).describe()[0]?.inputSchema,
      },
    ]);
    expect(first?.tools?.[0]?.parameters).toMatchObject({ type: "object", properties: { expression: {} } });
    expect(first?.toolChoice).toBe("auto");
    // No text protocol: no Thought/Action instructions, no Observation stop.
    expect(first?.messages?.[0]?.content).not.toContain("Action Input");
    expect(first?.stop).toBeUndefined();

    expect(backend.requests[1]?.messages?.slice(-2)).toEqual([
      {
        role: "assistant",
        content: "I will compute it.",
        toolCalls: [{ id: "call_a", name: "calculator", arguments: '{"expression":"17 * 23"}' }],
      },
      { role: "tool", content: "391", toolCallId: "call_a", name: "calculator" },
    ]);
    // Tool events are the same as in the text protocol, tied to the model's call id.
    expect(events.filter((e) => e.type === "tool.call")).toMatchObject([
      { callId: "call_a", tool: "calculator", input: { expression: "17 * 23" } },
    ]);
    expect(events.filter((e) => e.type === "tool.result")).toMatchObject([
      { callId: "call_a", output: "391", isError: false },
    ]);
    expect(result.details.reasoning).toContain("Observation: 391");
  });

  it("uses the text protocol when asked, or when the backend has no native tools", async () => {
    const textReplies = ['Action: calculator\nAction Input: {"expression": "2 + 2"}', "Final Answer: 4"];
    const native = createScriptedBackend({ tools: true, respond: textReplies });
    const forced = await runStrategy(
      react({ tools: [calculatorTool], protocol: "text" }),
      { messages: [userMessage("2 + 2?")] },
      { backend: native },
    );
    expect(forced.answer).toBe("4");
    expect(forced.details.protocol).toBe("text");
    expect(native.requests[0]?.tools).toBeUndefined();

    const plain = createScriptedBackend({ respond: calculatorModel });
    const chosen = await runStrategy(
      react({ tools: [calculatorTool], protocol: "native" }),
      { messages: [userMessage("What is 17 * 23?")] },
      { backend: plain },
    );
    expect(chosen.details.protocol).toBe("native");
    expect(chosen.answer).toBe("391");
  });

  it("reports bad calls to the model as tool results: unknown tools, unreadable and invalid arguments", async () => {
    const backend = createScriptedBackend({
      tools: true,
      respond: [
        {
          toolCalls: [
            { name: "shell", arguments: { command: "ls" }, id: "c1" },
            { name: "calculator", arguments: "{broken", id: "c2" },
            { name: "calculator", arguments: { expression: 5 }, id: "c3" },
          ],
        },
        "Final Answer: 0",
      ],
    });
    const { result, events } = await runCalculatorReact(backend, "?");
    expect(result.answer).toBe("0");
    expect(result.details.steps.map((s) => s.ok)).toEqual([false, false, false]);
    const results = backend.requests[1]?.messages?.filter((m) => m.role === "tool") ?? [];
    expect(results.map((m) => m.toolCallId)).toEqual(["c1", "c2", "c3"]);
    expect(results[0]?.content).toBe('Error: unknown tool "shell" (have: calculator)');
    // Unreadable JSON is read as leniently as text-protocol input: here, as the expression itself.
    expect(result.details.steps[1]?.input).toEqual({ expression: "{broken" });
    expect(results[1]?.content).toMatch(/^Error: cannot parse expression/);
    expect(results[2]?.content).toMatch(/^Error: invalid input for calculator: expression/);
    // Even an unknown tool's events carry the model's call id.
    expect(events.filter((e) => e.type === "tool.call").map((e) => e.callId)).toEqual(["c1", "c2", "c3"]);
  });

  it("caps tool calls, answering calls past the cap unrun, then turns tools off to make it answer", async () => {
    let runs = 0;
    const counter = defineTool({
      name: "count",
      description: "Counts calls.",
      input: z.object({}),
      execute: () => ++runs,
    });
    const backend = createScriptedBackend({
      tools: true,
      // Calls twice per turn, whatever it is told; a backend may even ignore toolChoice "none".
      respond: ({ request }) => ({
        text: request.toolChoice === "none" ? "Final answer: 3" : "",
        toolCalls: [
          { name: "count", arguments: "" },
          { name: "count", arguments: {} },
        ],
      }),
    });
    const result = await runStrategy(
      react({ tools: [counter], maxIterations: 3 }),
      { messages: [userMessage("?")] },
      { backend },
    );
    expect(runs).toBe(3);
    expect(result.details.steps).toHaveLength(3);
    expect(backend.requests).toHaveLength(3);
    expect(backend.requests[2]?.toolChoice).toBe("none");
    const second = backend.requests[2]?.messages ?? [];
    const unrun = second.filter((m) => m.role === "tool" && m.content.startsWith("Error: not run"));
    expect(unrun).toHaveLength(1);
    expect(second.at(-1)).toMatchObject({
      role: "user",
      content: expect.stringContaining("used all your tool calls"),
    });
    expect(result.details.forcedToAnswer).toBe(true);
    expect(result.answer).toBe("3");
  });

  it("runs over the openai backend against an OpenAI-compatible server", async () => {
    const scripted = createScriptedBackend({ respond: calculatorModel });
    const server = await startOpenAICompatibleServer({ backend: scripted });
    const backend = createOpenAIBackend({ baseUrl: server.url, model: "scripted" });
    try {
      const { result, events } = await runCalculatorReact(backend);
      expect(result.details.protocol).toBe("native");
      expect(result.answer).toBe("391");
      expect(result.usage.calls).toBe(2);
      // The tools crossed HTTP as function specs, and the call and result came back as messages.
      expect(scripted.requests[0]?.tools?.map((t) => t.name)).toEqual(["calculator"]);
      expect(scripted.requests[1]?.messages?.slice(-2)).toEqual([
        {
          role: "assistant",
          content: "I will compute it.",
          toolCalls: [{ id: "call_a", name: "calculator", arguments: '{"expression":"17 * 23"}' }],
        },
        { role: "tool", content: "391", toolCallId: "call_a" },
      ]);
      expect(events.find((e) => e.type === "tool.result")).toMatchObject({ callId: "call_a", output: "391" });
    } finally {
      await backend.close();
      await server.close();
    }
  });
});

describe("react falling back to the text protocol", () => {
  /** Answers in the text protocol; a server in front of it may refuse `tools`. */
  const textModel = ({ request }: ScriptedTurn) => {
    const observed = request.messages?.at(-1)?.content.match(/^Observation: (\d+)/)?.[1];
    return observed
      ? `Final Answer: ${observed}`
      : 'Action: calculator\nAction Input: {"expression": "17 * 23"}';
  };

  async function withServer(
    options: Omit<Parameters<typeof startOpenAICompatibleServer>[0], "backend">,
    respond: (turn: ScriptedTurn) => ScriptedReply,
    run: (backend: ReturnType<typeof createOpenAIBackend>, requests: () => number) => Promise<void>,
  ): Promise<void> {
    const server = await startOpenAICompatibleServer({
      backend: createScriptedBackend({ respond }),
      ...options,
    });
    const backend = createOpenAIBackend({ baseUrl: server.url, model: "scripted" });
    try {
      await run(backend, () => server.requests);
    } finally {
      await backend.close();
      await server.close();
    }
  }

  it.each([400, 422] as const)(
    "switches to text for the rest of the run when the server refuses tools with %i",
    async (status) => {
      await withServer(
        { rejectTools: { status, message: "tools are not supported" } },
        textModel,
        async (backend, requests) => {
          const { result, events } = await runCalculatorReact(backend);
          expect(result.details.protocol).toBe("text");
          expect(result.answer).toBe("391");
          // The refused request costs nothing; the text protocol's two calls are charged.
          expect(result.usage.calls).toBe(2);
          expect(requests()).toBe(3);
          expect(events.filter((e) => e.type === "error")).toEqual([
            expect.objectContaining({
              recovered: true,
              code: "backend_http",
              message: expect.stringMatching(/native tool calls refused \(\d{3} tools are not supported\)/),
            }),
          ]);
        },
      );
    },
  );

  it("does not fall back when native was asked for, nor after a native turn succeeded", async () => {
    await withServer({ rejectTools: true }, textModel, async (backend) => {
      await expect(
        runStrategy(
          react({ tools: [calculatorTool], protocol: "native" }),
          { messages: [userMessage("?")] },
          { backend },
        ),
      ).rejects.toThrow(/400 tools param requires --jinja flag/);
    });
    const caller = ({ request }: ScriptedTurn) =>
      request.messages?.at(-1)?.role === "tool"
        ? "done"
        : { toolCalls: [{ name: "calculator", arguments: { expression: "1 + 1" } }] };
    await withServer(
      { faults: { byRequest: { 2: { type: "status", status: 400 } } } },
      caller,
      async (backend) => {
        await expect(
          runStrategy(react({ tools: [calculatorTool] }), { messages: [userMessage("?")] }, { backend }),
        ).rejects.toThrow(/400/);
      },
    );
  });
});
