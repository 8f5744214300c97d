import { describe, expect, it } from "vitest";
import type { ToolSpec } from "../../core/backend.js";
import { BackendError, UsageError } from "../../core/errors.js";
import { userMessage } from "../../core/message.js";
import { describeBackendConformance } from "../../testing/backend-conformance.js";
import { createScriptedBackend, exampleForSchema } from "./scripted-backend.js";

describeBackendConformance({
  name: "scripted",
  deterministic: true,
  // A per-token delay gives the abort test a moment to land mid-stream, as with real models.
  create: async () => createScriptedBackend({ tokenDelayMs: 1 }),
});

describe("scripted backend", () => {
  it("hands out listed replies in order and repeats the last", async () => {
    const backend = createScriptedBackend({ respond: ["first", "second"] });
    const texts = [];
    for (let i = 0; i < 3; i++) {
      texts.push((await backend.generate({ messages: [userMessage("q")] })).completions[0]?.text);
    }
    expect(texts).toEqual(["first", "second", "second"]);
  });

  it("passes the turn to a responder function and surfaces scripted errors", async () => {
    const backend = createScriptedBackend({
      respond: ({ prompt, index }) => (index === 1 ? new Error("boom") : `echo ${prompt}`),
    });
    const ok = await backend.generate({ messages: [userMessage("hi")] });
    expect(ok.completions[0]?.text).toBe("echo hi");
    await expect(backend.generate({ messages: [userMessage("hi")], n: 2 })).rejects.toBeInstanceOf(
      BackendError,
    );
    expect(backend.requests).toHaveLength(2);
  });

  it("builds example values for schemas", () => {
    expect(
      exampleForSchema({
        type: "object",
        properties: {
          a: { type: "integer", minimum: 3 },
          b: { type: "array", minItems: 1, items: { const: 1 } },
        },
        required: ["a", "b"],
      }),
    ).toEqual({ a: 3, b: [1] });
  });

  describe("tool calls", () => {
    const add: ToolSpec = {
      name: "add",
      description: "Adds two numbers.",
      parameters: {
        type: "object",
        properties: { a: { type: "number" }, b: { type: "number" } },
        required: ["a", "b"],
      },
    };
    const ask = [userMessage("1 + 2?")];

    it("returns scripted calls with ids, raw JSON arguments and finish reason tool_calls", async () => {
      const backend = createScriptedBackend({
        respond: [
          { text: "Let me add.", toolCalls: [{ name: "add", arguments: { a: 1, b: 2 } }] },
          { toolCalls: [{ name: "add", arguments: "{not json", id: "mine" }] },
        ],
      });
      const first = (await backend.generate({ messages: ask, tools: [add], confidence: true }))
        .completions[0];
      expect(first).toMatchObject({
        text: "Let me add.",
        finishReason: "tool_calls",
        toolCalls: [{ id: "call_0_0_0", name: "add", arguments: '{"a":1,"b":2}' }],
      });
      // The call counts as generated tokens, and confidences still cover every token.
      expect(first?.completionTokens).toBeGreaterThan(3);
      expect(first?.tokenConfidences).toHaveLength(first?.completionTokens ?? -1);
      const second = (await backend.generate({ messages: ask, tools: [add] })).completions[0];
      expect(second?.text).toBe("");
      expect(second?.toolCalls).toEqual([{ id: "mine", name: "add", arguments: "{not json" }]);
    });

    it("drops a call that maxTokens cut off, like a real model", async () => {
      const backend = createScriptedBackend({
        respond: [{ text: "one two three four", toolCalls: [{ name: "add" }] }],
      });
      const [cut] = (await backend.generate({ messages: ask, tools: [add], maxTokens: 2 })).completions;
      expect(cut).toMatchObject({ text: "one two ", finishReason: "length" });
      expect(cut?.toolCalls).toBeUndefined();
    });

    it("by default calls a forced tool with example arguments, and otherwise writes text", async () => {
      const backend = createScriptedBackend();
      const named = await backend.generate({ messages: ask, tools: [add], toolChoice: { name: "add" } });
      expect(named.completions[0]?.toolCalls).toEqual([
        { id: "call_0_0_0", name: "add", arguments: '{"a":0,"b":0}' },
      ]);
      const required = await backend.generate({ messages: ask, tools: [add], toolChoice: "required" });
      expect(required.completions[0]?.toolCalls?.[0]?.name).toBe("add");
      for (const toolChoice of ["auto", "none"] as const) {
        const free = await backend.generate({ messages: ask, tools: [add], toolChoice });
        expect(free.completions[0]?.toolCalls).toBeUndefined();
        expect(free.completions[0]?.finishReason).toBe("stop");
      }
    });

    it("reports native tools only when asked to, and refuses tools with a raw prompt", async () => {
      expect(createScriptedBackend().capabilities.tools).toBe(false);
      expect(createScriptedBackend({ tools: true }).capabilities.tools).toBe(true);
      await expect(createScriptedBackend().generate({ prompt: "x", tools: [add] })).rejects.toBeInstanceOf(
        UsageError,
      );
    });
  });
});
