import { describe, expect, it } from "vitest";
import { createScriptedBackend, type ScriptedTurn } from "../backends/scripted/scripted-backend.js";
import { BudgetExhaustedError } from "../core/errors.js";
import type { DeliberateEvent, StepStartEvent } from "../core/event.js";
import { systemMessage, userMessage } from "../core/message.js";
import type { Strategy } from "../core/strategy.js";
import { runStrategy } from "../runtime/task-context.js";
import { createStrategy } from "./catalog.js";
import { type DecomposeNode, decompose } from "./decompose.js";
import { parseListItems } from "./list-items.js";

const ROOT = "Tom has 3 apples and buys 4 more. How many apples does he have?";
const input = { messages: [userMessage(ROOT)] };

const isSplit = (turn: ScriptedTurn) => turn.request.jsonSchema !== undefined;
const isSynthesis = (turn: ScriptedTurn) => turn.prompt.includes("Sub-questions and their answers");
/** The question a split or solver prompt is about: its "Question:" line, else the original question. */
const questionIn = (prompt: string) => prompt.match(/^Question: (.*)$/m)?.[1] ?? ROOT;

/**
 * A model that splits every question it is asked to split into `width` sub-questions named after it
 * ("q/1", "q/2", ...), answers sub-question "…/k" with k, and synthesizes 7.
 */
function splitter(width: number) {
  return createScriptedBackend({
    respond: (turn) => {
      if (isSplit(turn)) {
        const q = questionIn(turn.prompt);
        return JSON.stringify({ subQuestions: Array.from({ length: width }, (_, i) => `${q}/${i + 1}`) });
      }
      if (isSynthesis(turn)) return "Adding them up, the answer is 7";
      const k = questionIn(turn.prompt).match(/\/(\d+)$/)?.[1] ?? "0";
      return `The answer is ${k}`;
    },
  });
}

const nodes = (tree: DecomposeNode): DecomposeNode[] => [tree, ...tree.subQuestions.flatMap(nodes)];
/** Calls when every question up to maxDepth splits into b: a split and a synthesis per inner node, one per leaf. */
const expectedCalls = (b: number, depth: number) => (2 * (b ** depth - 1)) / (b - 1) + b ** depth;

describe("decompose", () => {
  it("stops splitting at maxDepth: calls follow 2(b^D - 1)/(b - 1) + b^D", async () => {
    for (const [maxDepth, calls] of [
      [0, 1],
      [1, 4],
      [2, 10],
    ] as const) {
      const backend = splitter(2);
      const result = await runStrategy(decompose({ maxDepth }), input, { backend });
      expect(backend.requests).toHaveLength(calls);
      expect(calls).toBe(maxDepth === 0 ? 1 : expectedCalls(2, maxDepth));
      const all = nodes(result.details.tree);
      expect(Math.max(...all.map((n) => n.depth))).toBe(maxDepth);
      expect(all.filter((n) => n.subQuestions.length === 0).every((n) => n.method === "solved")).toBe(true);
      expect(all.filter((n) => n.depth === maxDepth)).toHaveLength(2 ** maxDepth);
    }
    const backend = splitter(2);
    const result = await runStrategy(decompose(), input, { backend });
    expect(result.answer).toBe("7");
    expect(result.budgetExhausted).toBe(false);
    expect(result.details.tree.subQuestions.map((n) => n.id)).toEqual(["1", "2"]);
    expect(
      result.details.tree.subQuestions[0]?.subQuestions.map((n) => [n.id, n.question, n.answer]),
    ).toEqual([
      ["1.1", `${ROOT}/1/1`, "1"],
      ["1.2", `${ROOT}/1/2`, "2"],
    ]);
    // The tree is plain data.
    expect(JSON.parse(JSON.stringify(result.details))).toEqual(result.details);
  });

  it("keeps at most maxBreadth sub-questions per split", async () => {
    const backend = splitter(5);
    const result = await runStrategy(decompose({ maxDepth: 2, maxBreadth: 3 }), input, { backend });
    expect(backend.requests).toHaveLength(expectedCalls(3, 2));
    expect(result.details.tree.subQuestions.map((n) => n.question)).toEqual([
      `${ROOT}/1`,
      `${ROOT}/2`,
      `${ROOT}/3`,
    ]);
    expect(nodes(result.details.tree).every((n) => n.subQuestions.length <= 3)).toBe(true);
    expect(backend.requests[0]?.messages?.at(-1)?.content).toContain("at most 3 simpler sub-questions");
  });

  it("solves an atomic question directly with the solver, on the original conversation", async () => {
    // The scripted default answers a schema with its minimal value: an empty list, i.e. atomic.
    const backend = createScriptedBackend({
      respond: (turn) => (isSplit(turn) ? '{"subQuestions": []}' : "3 + 4 = 7. The answer is 7"),
    });
    const conversation = { messages: [systemMessage("Be brief."), userMessage(ROOT)] };
    const result = await runStrategy(decompose(), conversation, { backend });
    expect(result.answer).toBe("7");
    expect(backend.requests).toHaveLength(2);
    expect(backend.requests[1]?.messages?.map((m) => m.role)).toEqual(["system", "user"]);
    expect(backend.requests[1]?.messages?.[1]?.content).toMatch(
      new RegExp(`^${ROOT.replace(/[?]/g, "\\?")}\\n`),
    );
    expect(result.details.tree).toMatchObject({
      id: "root",
      method: "solved",
      answer: "7",
      subQuestions: [],
    });
    expect(result.details.extracted).toBe("7");

    // One sub-question (or the question repeated back) is no split either.
    const single = createScriptedBackend({
      respond: (turn) =>
        isSplit(turn) ? JSON.stringify({ subQuestions: ["only one?", ROOT] }) : "The answer is 7",
    });
    const again = await runStrategy(decompose(), input, { backend: single });
    expect(single.requests).toHaveLength(2);
    expect(again.details.tree.method).toBe("solved");
  });

  it("passes earlier sub-answers to later sub-questions and to the synthesis", async () => {
    const backend = splitter(3);
    const result = await runStrategy(decompose({ maxDepth: 1 }), input, { backend });
    const prompts = backend.requests.map((r) => r.messages?.at(-1)?.content ?? "");
    const solving = prompts.filter(
      (p) => p.includes("Original problem:") && !p.includes("Break the question"),
    );
    expect(solving).toHaveLength(3);
    expect(solving[0]).not.toContain("Already answered");
    expect(solving[2]).toContain(`Already answered:\n- ${ROOT}/1\n  Answer: 1\n- ${ROOT}/2\n  Answer: 2`);
    const synthesis = prompts.at(-1) ?? "";
    expect(synthesis.startsWith(ROOT)).toBe(true);
    for (const k of [1, 2, 3]) expect(synthesis).toContain(`- ${ROOT}/${k}\n  Answer: ${k}`);
    expect(synthesis).toContain('"The answer is N"');
    expect(result.details.tree.method).toBe("synthesized");
    expect(result.details.reasoning).toBe("Adding them up, the answer is 7");
  });

  it("reads a split written as a numbered list when it is not valid JSON", async () => {
    const backend = createScriptedBackend({
      respond: (turn) => {
        if (isSplit(turn)) return "Sub-questions:\n1. How many at first?\n2) How many bought?";
        return isSynthesis(turn) ? "The answer is 7" : "The answer is 3";
      },
    });
    const result = await runStrategy(decompose({ maxDepth: 1, splitAttempts: 1 }), input, { backend });
    expect(result.details.tree.subQuestions.map((n) => n.question)).toEqual([
      "How many at first?",
      "How many bought?",
    ]);
    expect(result.answer).toBe("7");
    expect(parseListItems('["a", "b"]')).toEqual(["a", "b"]);
    expect(parseListItems('{"steps": [{"instruction": "x"}, {"instruction": "y"}]}')).toEqual(["x", "y"]);
    expect(parseListItems("- one\n* two\nStep 3: three\nnot an item")).toEqual(["one", "two", "three"]);
  });

  it("on budget exhaustion returns the latest sub-answer, flagged", async () => {
    // Calls: split, solve /1, solve /2, synthesize.
    const cut = async (maxCalls: number) => {
      const backend = splitter(2);
      return runStrategy(decompose({ maxDepth: 1 }), input, { backend, budget: { maxCalls } });
    };
    const beforeSynthesis = await cut(3);
    expect(beforeSynthesis).toMatchObject({ answer: "2", budgetExhausted: true });
    expect(beforeSynthesis.details.tree.subQuestions.map((n) => n.answer)).toEqual(["1", "2"]);
    expect(beforeSynthesis.details.tree.answer).toBeUndefined();
    const midway = await cut(2);
    expect(midway).toMatchObject({ answer: "1", budgetExhausted: true });
    expect(midway.details.tree.subQuestions.map((n) => n.answer)).toEqual(["1", undefined]);
    // Nothing answered: no best-so-far, so the runtime's empty answer.
    const none = await cut(1);
    expect(none).toMatchObject({ answer: "", budgetExhausted: true });
  });

  it("synthesizes from what is solved when a sub-solver runs out but calls remain", async () => {
    const backend = splitter(3);
    let solved = 0;
    // A solver with a budget of its own: it gives up on the second sub-question.
    const solver: Strategy = async (ctx, solverInput) => {
      if (++solved === 2) throw new BudgetExhaustedError("tokens");
      const result = await ctx.generate({ messages: solverInput.messages, temperature: 0 });
      return { answer: result.completions[0]?.text ?? "", strategy: "own", budgetExhausted: false };
    };
    const result = await runStrategy(decompose({ maxDepth: 1, solver }), input, { backend });
    expect(result).toMatchObject({ answer: "7", budgetExhausted: true });
    const synthesis = backend.requests.at(-1)?.messages?.at(-1)?.content ?? "";
    expect(synthesis).toContain(`${ROOT}/1\n  Answer: 1`);
    expect(synthesis).not.toContain(`${ROOT}/2`);
    expect(result.details.tree.subQuestions.map((n) => n.answer)).toEqual(["1", undefined, undefined]);
  });

  it("frames the call tree in steps with parent links and depth labels", async () => {
    const events: DeliberateEvent[] = [];
    await runStrategy(decompose({ maxDepth: 2, maxBreadth: 2 }), input, {
      backend: splitter(2),
      onEvent: (e) => events.push(e),
    });
    const starts = events.filter((e): e is StepStartEvent => e.type === "step.start");
    const byId = new Map(starts.map((s) => [s.stepId, s]));
    const find = (kind: string, label: string) => {
      const step = starts.find((s) => s.kind === kind && s.label?.startsWith(label));
      if (!step) throw new Error(`no ${kind} step ${label}`);
      return step;
    };
    const parentOf = (step: StepStartEvent) =>
      step.parentStepId === undefined ? undefined : byId.get(step.parentStepId);

    expect(parentOf(find("decompose", "(depth 0)"))).toBeUndefined();
    expect(parentOf(find("synthesize", "(depth 0)"))).toBeUndefined();
    const sub1 = find("subquestion", "1 (depth 1)");
    const sub12 = find("subquestion", "1.2 (depth 2)");
    expect(parentOf(sub1)).toBeUndefined();
    expect(parentOf(find("decompose", "1 (depth 1)"))).toBe(sub1);
    expect(parentOf(find("synthesize", "1 (depth 1)"))).toBe(sub1);
    expect(parentOf(sub12)).toBe(sub1);
    const leafCot = starts.find((s) => s.kind === "cot" && s.parentStepId === sub12.stepId);
    expect(leafCot).toBeDefined();
    // Leaves at maxDepth are never offered for splitting.
    expect(starts.some((s) => s.kind === "decompose" && s.label?.includes("(depth 2)"))).toBe(false);
    expect(starts.filter((s) => s.kind === "subquestion")).toHaveLength(6);
    // Every step that starts also ends.
    expect(events.filter((e) => e.type === "step.end")).toHaveLength(starts.length);
  });

  it("is registered as decompose", () => {
    expect(typeof createStrategy({ name: "decompose" })).toBe("function");
  });
});
