import { QwenChatWrapper } from "node-llama-cpp";
import { describe, expect, it } from "vitest";
import { testModelPath } from "../../../test/test-model.js";
import type { ToolSpec } from "../../core/backend.js";
import { UsageError } from "../../core/errors.js";
import { type ChatMessage, toolMessage, userMessage } from "../../core/message.js";
import { describeBackendConformance } from "../../testing/backend-conformance.js";
import { chatFunctions, chatHistory, createLlamaBackend, forcedCallSchema } from "./llama-backend.js";

describeBackendConformance({
  name: "llama (embedded, test model)",
  deterministic: true,
  timeoutMs: 120_000,
  create: async () =>
    createLlamaBackend({ modelPath: await testModelPath(), contextSize: 1024, parallelSequences: 4 }),
});

describe("llama backend", { timeout: 120_000 }, () => {
  it("runs more samples than parallel sequences by queueing for free ones", async () => {
    const backend = createLlamaBackend({
      modelPath: await testModelPath(),
      contextSize: 512,
      parallelSequences: 2,
    });
    try {
      const result = await backend.generate({
        messages: [userMessage("Name a colour.")],
        n: 5,
        temperature: 0.9,
        seed: 1,
        maxTokens: 6,
      });
      expect(result.completions.map((c) => c.index)).toEqual([0, 1, 2, 3, 4]);
      expect(result.usage.calls).toBe(1);
    } finally {
      await backend.close();
    }
  });

  it("queues many calls on one caller signal without Node's listener-leak warning, and aborts them all", async () => {
    const backend = createLlamaBackend({
      modelPath: await testModelPath(),
      contextSize: 512,
      parallelSequences: 2,
    });
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.name);
    process.on("warning", onWarning);
    try {
      // Like a strategy's samples: separate calls (and one call with n) sharing the run's signal.
      const controller = new AbortController();
      const request = (seed: number, n = 1) =>
        backend.generate({
          messages: [userMessage("Name a colour.")],
          n,
          temperature: 0.9,
          seed,
          maxTokens: 2,
          signal: controller.signal,
        });
      const results = await Promise.all([
        ...Array.from({ length: 12 }, (_, i) => request(i)),
        request(100, 12),
      ]);
      expect(results.map((r) => r.completions.length)).toEqual([...Array(12).fill(1), 12]);
      // Warnings are emitted on the next tick.
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings).not.toContain("MaxListenersExceededWarning");

      // Aborting rejects the running and the queued calls alike; the backend stays usable.
      const aborted = Array.from({ length: 6 }, (_, i) => request(200 + i));
      controller.abort();
      const outcomes = await Promise.allSettled(aborted);
      expect(outcomes.every((o) => o.status === "rejected" && o.reason.name === "AbortedError")).toBe(true);
      const after = await backend.generate({ messages: [userMessage("Hi")], maxTokens: 2, seed: 1 });
      expect(after.completions).toHaveLength(1);
    } finally {
      process.off("warning", onWarning);
      await backend.close();
    }
  });

  it("follows a GBNF grammar", async () => {
    const backend = createLlamaBackend({
      modelPath: await testModelPath(),
      contextSize: 512,
      parallelSequences: 1,
    });
    try {
      const result = await backend.generate({
        messages: [userMessage("Pick a number between 10 and 99.")],
        grammar: 'root ::= [1-9] [0-9] "!"',
        temperature: 0.5,
        seed: 2,
      });
      expect(result.completions[0]?.text).toMatch(/^[1-9][0-9]!$/);
    } finally {
      await backend.close();
    }
  });

  it("rejects a prompt longer than the context", async () => {
    const backend = createLlamaBackend({
      modelPath: await testModelPath(),
      contextSize: 256,
      parallelSequences: 1,
    });
    try {
      await expect(backend.generate({ prompt: "word ".repeat(600), maxTokens: 4 })).rejects.toThrow(
        /context holds/,
      );
    } finally {
      await backend.close();
    }
  });
});

const ADD: ToolSpec = {
  name: "add",
  description: "Adds two numbers.",
  parameters: {
    type: "object",
    properties: { a: { type: "number" }, b: { type: "number" } },
    required: ["a", "b"],
  },
};
const CALLED: ChatMessage[] = [
  userMessage("What is 2 + 3? Use the add tool."),
  {
    role: "assistant",
    content: "",
    toolCalls: [{ id: "call_1_0_0", name: "add", arguments: '{"a":2,"b":3}' }],
  },
  toolMessage("call_1_0_0", "5", "add"),
];

describe("llama backend: tool calls in the chat history (no model)", () => {
  it("folds a call and its result into the assistant turn, which the model then continues", () => {
    const history = chatHistory(CALLED);
    expect(history).toEqual([
      { type: "user", text: "What is 2 + 3? Use the add tool." },
      { type: "model", response: [{ type: "functionCall", name: "add", params: { a: 2, b: 3 }, result: 5 }] },
    ]);
    const text = new QwenChatWrapper()
      .generateContextState({ chatHistory: history, availableFunctions: chatFunctions([ADD], "auto") })
      .contextText.toString();
    expect(text).toContain('{"name": "add", "arguments": {"a": 2, "b": 3}}');
    expect(text).toContain("<tool_response>\n5\n</tool_response>");
    // A new user turn after the result opens a new assistant turn.
    expect(chatHistory([...CALLED, userMessage("And 4 + 4?")]).at(-1)).toEqual({
      type: "model",
      response: [],
    });
  });

  it("keeps a result that answers no call as a user turn, and narrows a named toolChoice", () => {
    expect(chatHistory([toolMessage("nope", "5", "add")])[0]).toEqual({
      type: "user",
      text: "Tool result (add):\n5",
    });
    const clock: ToolSpec = {
      name: "clock",
      description: "",
      parameters: { type: "object", properties: {} },
    };
    expect(Object.keys(chatFunctions([ADD, clock], { name: "clock" }))).toEqual(["clock"]);
    // No properties: no params, so the model calls it bare.
    expect(chatFunctions([clock], "auto").clock).toEqual({ description: "" });
    expect(() => chatFunctions([ADD], { name: "missing" })).toThrow(UsageError);
  });

  it("builds the schema of a forced call: the named tool, or one of all for required", () => {
    const clock: ToolSpec = { name: "clock", description: "", parameters: { type: "object" } };
    const addCall = {
      type: "object",
      properties: { name: { const: "add" }, arguments: ADD.parameters },
      required: ["name", "arguments"],
      additionalProperties: false,
    };
    expect(forcedCallSchema([ADD, clock], { name: "add" })).toEqual(addCall);
    expect(forcedCallSchema([ADD, clock], "required")).toEqual({
      oneOf: [
        addCall,
        {
          ...addCall,
          properties: {
            name: { const: "clock" },
            arguments: { type: "object", properties: {}, additionalProperties: false },
          },
        },
      ],
    });
    expect(() => forcedCallSchema([ADD], { name: "missing" })).toThrow(UsageError);
  });
});

/*
 * The test model is tiny and may not call a tool even when asked, so these check the contract
 * (declared names, schema-valid arguments, consistent streaming and usage) rather than that it calls.
 */
describe("llama backend: native function calling", { timeout: 120_000 }, () => {
  const create = async () =>
    createLlamaBackend({ modelPath: await testModelPath(), contextSize: 1024, parallelSequences: 2 });

  it("documents the tools in the prompt and returns only well-formed calls to declared tools", async () => {
    const backend = await create();
    try {
      const messages = [userMessage("Use the add tool to add 2 and 3.")];
      const plain = await backend.generate({ messages, maxTokens: 2, temperature: 0 });
      const deltas = new Map<number, string>();
      const result = await backend.generate({
        messages,
        tools: [ADD],
        toolChoice: { name: "add" },
        n: 2,
        temperature: 0.8,
        seed: 5,
        maxTokens: 48,
        onDelta: ({ index, text }) => deltas.set(index, (deltas.get(index) ?? "") + text),
      });
      expect(result.completions.map((c) => c.index)).toEqual([0, 1]);
      expect(result.completions[0]?.promptTokens).toBeGreaterThan(plain.completions[0]?.promptTokens ?? 0);
      for (const completion of result.completions) {
        expect(deltas.get(completion.index) ?? "").toBe(completion.text);
        if (completion.finishReason === "tool_calls") {
          expect(completion.toolCalls?.length).toBeGreaterThan(0);
          for (const call of completion.toolCalls ?? []) {
            expect(call.name).toBe("add");
            const args = JSON.parse(call.arguments);
            expect(typeof args.a).toBe("number");
            expect(typeof args.b).toBe("number");
          }
        } else {
          expect(completion.toolCalls).toBeUndefined();
          expect(["stop", "length"]).toContain(completion.finishReason);
        }
      }
      const sum = result.completions.reduce((s, c) => s + c.completionTokens, 0);
      expect(result.usage.completionTokens).toBe(sum);
    } finally {
      await backend.close();
    }
  });

  it("forces a well-formed call with toolChoice required or named, even from the tiny model", async () => {
    const backend = await create();
    const clock: ToolSpec = { name: "clock", description: "The time.", parameters: { type: "object" } };
    try {
      const messages = [userMessage("Hello there!")];
      for (const toolChoice of ["required", { name: "add" }] as const) {
        let streamed = "";
        const result = await backend.generate({
          messages,
          tools: [clock, ADD],
          toolChoice,
          temperature: 0,
          // The JSON grammar lets a model indent; this one does, and takes about 55 tokens for add.
          maxTokens: 80,
          onDelta: ({ text }) => {
            streamed += text;
          },
        });
        const completion = result.completions[0];
        expect(completion?.finishReason).toBe("tool_calls");
        expect(completion?.text).toBe("");
        // The call's JSON is not text, so none of it is streamed.
        expect(streamed).toBe("");
        const [call, ...more] = completion?.toolCalls ?? [];
        expect(more).toEqual([]);
        expect(call?.id).toBe("call_1_0_0");
        const args = JSON.parse(call?.arguments ?? "null");
        if (call?.name === "add" || typeof toolChoice === "object") {
          expect(call?.name).toBe("add");
          expect(typeof args.a).toBe("number");
          expect(typeof args.b).toBe("number");
        } else {
          expect(call?.name).toBe("clock");
          expect(args).toEqual({});
        }
      }
    } finally {
      await backend.close();
    }
  });

  it("continues after a tool result, reproducibly, and honours maxTokens", async () => {
    const backend = await create();
    try {
      const request = { messages: CALLED, tools: [ADD], temperature: 0, maxTokens: 12 };
      const a = await backend.generate(request);
      const b = await backend.generate(request);
      expect(b.completions[0]?.text).toBe(a.completions[0]?.text);
      expect(b.completions[0]?.toolCalls).toEqual(a.completions[0]?.toolCalls);
      expect(["stop", "length", "tool_calls"]).toContain(a.completions[0]?.finishReason);
      expect(a.usage.completionTokens).toBe(a.completions[0]?.completionTokens);
      // toolChoice "none" takes the plain path: no calls, and confidences as usual.
      const none = await backend.generate({ ...request, toolChoice: "none", confidence: true, maxTokens: 6 });
      expect(none.completions[0]?.toolCalls).toBeUndefined();
      expect(none.completions[0]?.tokenConfidences).toHaveLength(none.completions[0]?.completionTokens ?? -1);
    } finally {
      await backend.close();
    }
  });

  it("refuses tools with a grammar, a JSON schema or a raw prompt", async () => {
    const backend = await create();
    try {
      const messages = [userMessage("hi")];
      await expect(
        backend.generate({ messages, tools: [ADD], grammar: 'root ::= "x"' }),
      ).rejects.toBeInstanceOf(UsageError);
      await expect(
        backend.generate({ messages, tools: [ADD], jsonSchema: { type: "object" } }),
      ).rejects.toBeInstanceOf(UsageError);
      await expect(backend.generate({ prompt: "1, 2,", tools: [ADD] })).rejects.toBeInstanceOf(UsageError);
    } finally {
      await backend.close();
    }
  });
});
