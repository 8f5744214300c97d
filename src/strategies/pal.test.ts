import { describe, expect, it } from "vitest";
import { createScriptedBackend } from "../backends/scripted/scripted-backend.js";
import type { DeliberateEvent } from "../core/event.js";
import { userMessage } from "../core/message.js";
import { runStrategy } from "../runtime/task-context.js";
import { createStrategy } from "./catalog.js";
import { extractProgram, PAL_INSTRUCTION, pal, palMessages } from "./pal.js";

const block = (code: string): string => `Here is the program:\n\`\`\`javascript\n${code}\n\`\`\`\n`;

describe("extractProgram", () => {
  it("takes the first fenced block, a cut-off one, or else the whole reply", () => {
    expect(extractProgram("x\n```js\nconsole.log(1)\n```\n```js\nconsole.log(2)\n```")).toBe(
      "console.log(1)",
    );
    expect(extractProgram("```javascript\nconst a = 1;\nconsole.log(a")).toBe("const a = 1;\nconsole.log(a");
    expect(extractProgram("console.log(3)")).toBe("console.log(3)");
  });

  it("puts the instruction on the question and the examples before it", () => {
    const messages = palMessages({ messages: [userMessage("Q?")] }, [
      { question: "1+1?", program: "console.log(2)" },
    ]);
    expect(messages.map((m) => m.role)).toEqual(["user", "assistant", "user"]);
    expect(messages[2]?.content).toBe(`Q?\n${PAL_INSTRUCTION}`);
    expect(messages[1]?.content).toContain("console.log(2)");
  });
});

describe("pal", () => {
  it("runs the program in the sandbox, reports the call as events and reads the printed answer", async () => {
    const backend = createScriptedBackend({
      respond: [block("const eggs = 16 - 3 - 4;\nconsole.log(eggs * 2);")],
    });
    const events: DeliberateEvent[] = [];
    const result = await runStrategy(
      pal(),
      { messages: [userMessage("How many dollars?")] },
      { backend, onEvent: (e) => events.push(e) },
    );
    expect(result.answer).toBe("18");
    expect(result.details.attempts).toHaveLength(1);
    expect(backend.requests).toHaveLength(1);
    expect(backend.requests[0]?.temperature).toBe(0);
    expect(events.find((e) => e.type === "tool.call")).toMatchObject({
      tool: "code",
      input: { code: expect.stringContaining("eggs * 2") },
    });
    expect(events.find((e) => e.type === "tool.result")).toMatchObject({
      tool: "code",
      output: { stdout: "18\n" },
    });
    expect(events.find((e) => e.type === "sample")).toMatchObject({ answer: "18" });
  });

  it("sends a failing program back with its error and uses the repaired one", async () => {
    const backend = createScriptedBackend({
      respond: [
        block("const total = price * 4;\nconsole.log(total);"),
        block("const price = 2.5;\nconsole.log(price * 4);"),
      ],
    });
    const result = await runStrategy(pal(), { messages: [userMessage("Four at $2.50?")] }, { backend });
    expect(result.answer).toBe("10");
    expect(result.details.attempts.map((a) => a.error)).toEqual([
      expect.stringMatching(/^ReferenceError: .*price/),
      undefined,
    ]);
    const repair = backend.requests[1]?.messages ?? [];
    expect(repair.at(-2)).toMatchObject({ role: "assistant", content: expect.stringContaining("price * 4") });
    expect(repair.at(-1)?.content).toMatch(
      /failed with:\nReferenceError: .*price[\s\S]*whole corrected program/,
    );
  });

  it("asks again when a program prints no number, and stops after the repair rounds", async () => {
    const backend = createScriptedBackend({
      respond: [block("const x = 1;"), block("console.log('about seven')")],
    });
    const result = await runStrategy(pal({ maxRepairs: 2 }), { messages: [userMessage("?")] }, { backend });
    expect(backend.requests).toHaveLength(3);
    expect(backend.requests[1]?.messages?.at(-1)?.content).toMatch(/^The program printed nothing\./);
    expect(backend.requests[2]?.messages?.at(-1)?.content).toMatch(
      /^The program printed:\nabout seven\nbut that is not a single number/,
    );
    expect(result.details.extracted).toBeUndefined();
    expect(result.answer).toBe("about seven");
  });

  it("falls back to the program's completion value when it prints nothing", async () => {
    const backend = createScriptedBackend({
      respond: [block("function solution() { return 6 * 7; }\nsolution()")],
    });
    const result = await runStrategy(pal(), { messages: [userMessage("?")] }, { backend });
    expect(result.answer).toBe("42");
  });
});

describe("pal with numbers past 2^53", () => {
  const question = {
    messages: [
      userMessage(
        "A warehouse holds 123456789 boxes and each box holds 987654321 beads. How many beads are there in total?",
      ),
    ],
  };

  it("teaches BigInt, sends a program that multiplied JavaScript numbers back, and answers the exact product", async () => {
    const backend = createScriptedBackend({
      respond: [
        block("const boxes = 123456789;\nconst beads = 987654321;\nconsole.log(boxes * beads);"),
        block("const boxes = 123456789n;\nconst beads = 987654321n;\nconsole.log(boxes * beads);"),
      ],
    });
    const result = await runStrategy(pal(), question, { backend });
    expect(backend.requests[0]?.messages?.at(-1)?.content).toMatch(/BigInt/);
    // As a float the product is 121932631112635260: refused, not rounded further into the answer.
    expect(result.details.attempts[0]).toMatchObject({
      answer: undefined,
      roundedNumber: "121932631112635260",
    });
    expect(backend.requests[1]?.messages?.at(-1)?.content).toMatch(
      /^The program printed 121932631112635260, .*2\^53.*BigInt/,
    );
    expect(result.answer).toBe("121932631112635269");
    expect(result.noAnswer).toBeUndefined();
  });

  it("reads a BigInt printed through String or left as the completion value", async () => {
    for (const program of [
      "console.log(String(123456789n * 987654321n));",
      "const total = BigInt(123456789) * BigInt(987654321);\ntotal",
    ]) {
      const backend = createScriptedBackend({ respond: [block(program)] });
      const result = await runStrategy(pal(), question, { backend });
      expect({ program, answer: result.answer }).toEqual({ program, answer: "121932631112635269" });
      expect(backend.requests).toHaveLength(1);
    }
  });

  it("gives no answer, with the reason, when every repair still prints a rounded number", async () => {
    // Printed with an exponent, "…e+23", whose last digits would otherwise read as the answer "23".
    const printed = String(123456789012 * 987654321098);
    const backend = createScriptedBackend({ respond: [block("console.log(123456789012 * 987654321098)")] });
    const result = await runStrategy(pal({ maxRepairs: 1 }), question, { backend });
    expect(backend.requests).toHaveLength(2);
    expect(result.answer).toBe("");
    expect(result.details.extracted).toBeUndefined();
    expect(result.noAnswer).toMatchObject({
      reason: "no_extractable_answer",
      message: expect.stringContaining(printed),
    });
  });

  it("keeps small results as printed, less a float's binary noise", async () => {
    const backend = createScriptedBackend({ respond: [block("console.log(0.1 + 0.2)")] });
    const result = await runStrategy(pal(), { messages: [userMessage("?")] }, { backend });
    expect(result.answer).toBe("0.3");
    const safe = createScriptedBackend({ respond: [block("console.log(2 ** 53 - 1)")] });
    expect((await runStrategy(pal(), { messages: [userMessage("?")] }, { backend: safe })).answer).toBe(
      "9007199254740991",
    );
  });
});

describe("pal-sc", () => {
  it("samples programs, runs each, and votes on their outputs", async () => {
    const backend = createScriptedBackend({
      respond: ({ request }) => block(`console.log(${(request.seed ?? 0) % 3 === 2 ? 7 : 5})`),
    });
    const result = await runStrategy(
      createStrategy({ name: "pal-sc", n: 3 }),
      { messages: [userMessage("?")], params: { seed: 0 } },
      { backend },
    );
    expect(backend.requests.map((r) => r.temperature)).toEqual([0.7, 0.7, 0.7]);
    expect(result.answer).toBe("5");
    expect(result.details?.distribution).toEqual([
      expect.objectContaining({ answer: "5", votes: 2 }),
      expect.objectContaining({ answer: "7", votes: 1 }),
    ]);
  });
});
