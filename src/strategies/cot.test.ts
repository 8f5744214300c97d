import { describe, expect, it } from "vitest";
import { createScriptedBackend } from "../backends/scripted/scripted-backend.js";
import { userMessage } from "../core/message.js";
import { runStrategy } from "../runtime/task-context.js";
import { createStrategy, isSingleCallStrategy, strategyNames } from "./catalog.js";
import { cot, cotMessages } from "./cot.js";

describe("chain-of-thought", () => {
  it("asks for step-by-step reasoning and extracts the answer apart from it", async () => {
    const backend = createScriptedBackend({ respond: ["3 + 4 = 7, doubled is 14.\nThe answer is 14."] });
    const result = await runStrategy(cot(), { messages: [userMessage("Double 3 + 4?")] }, { backend });
    expect(result.answer).toBe("14");
    expect(result.details?.reasoning).toContain("3 + 4 = 7");
    expect(backend.requests[0]?.messages?.at(-1)?.content).toMatch(/^Double 3 \+ 4\?\nThink step by step/);
    expect(backend.requests[0]?.temperature).toBe(0); // greedy unless the caller samples
  });

  it("falls back to the whole text when no answer can be extracted", async () => {
    const backend = createScriptedBackend({ respond: ["I am not sure."] });
    const result = await runStrategy(cot(), { messages: [userMessage("?")] }, { backend });
    expect(result.answer).toBe("I am not sure.");
    expect(result.details?.extracted).toBeUndefined();
  });

  it("gives no answer, saying it was cut, when the text stops at max tokens before any answer", async () => {
    const backend = createScriptedBackend({
      respond: ["Let us think about the question slowly and carefully first"],
    });
    const result = await runStrategy(
      cot(),
      { messages: [userMessage("Why?")], params: { maxTokens: 4 } },
      { backend },
    );
    expect(result.answer).toBe("");
    expect(result.noAnswer?.reason).toBe("truncated");
    expect(result.details?.reasoning).not.toBe("");
  });

  it("puts few-shot examples after the system prompt and before the question", () => {
    const messages = cotMessages(
      { messages: [{ role: "system", content: "Be brief." }, userMessage("Q?")] },
      { examples: [{ question: "1+1?", solution: "1+1=2. The answer is 2." }] },
    );
    expect(messages.map((m) => m.role)).toEqual(["system", "user", "assistant", "user"]);
    expect(messages[1]?.content).toContain("1+1?");
    expect(messages[3]?.content).toContain("Q?");
  });
});

describe("strategy registry", () => {
  it("builds every registered strategy and rejects unknown names and bad n", async () => {
    for (const name of strategyNames()) expect(typeof createStrategy({ name })).toBe("function");
    expect(() => createStrategy({ name: "magic" })).toThrow(/unknown strategy "magic"/);
    expect(["direct", "cot"].every(isSingleCallStrategy)).toBe(true);
    expect(isSingleCallStrategy("sc") || isSingleCallStrategy("magic")).toBe(false);
    expect(() => createStrategy({ name: "sc", n: 0 })).toThrow(/n must be/);
    const backend = createScriptedBackend({ respond: ["The answer is 5."] });
    const result = await runStrategy(
      createStrategy({ name: "sc", n: 3 }),
      { messages: [userMessage("?")] },
      { backend },
    );
    expect(result.answer).toBe("5");
    expect(backend.requests).toHaveLength(3);
  });
});
