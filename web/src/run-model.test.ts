import { describe, expect, it } from "vitest";
import { createScriptedBackend } from "../../src/backends/scripted/scripted-backend.js";
import type { DeliberateEvent } from "../../src/core/event.js";
import { userMessage } from "../../src/core/message.js";
import { runStrategy } from "../../src/runtime/task-context.js";
import { createStrategy } from "../../src/strategies/catalog.js";
import { GAME24_QUESTION, viewerResponder } from "../../test/viewer-scripted-model.js";
import { buildRunView, RunModel, type SearchNodeView } from "./run-model.js";

async function events(strategy: string, question: string, n: number): Promise<DeliberateEvent[]> {
  const all: DeliberateEvent[] = [];
  await runStrategy(
    createStrategy({ name: strategy, n }),
    { messages: [userMessage(question)], params: { seed: 0 } },
    {
      backend: createScriptedBackend({ respond: viewerResponder }),
      strategyName: strategy,
      budget: { maxTokens: 50_000, maxCalls: 40 },
      onEvent: (event) => all.push(event),
    },
  );
  return all;
}

const flatten = (nodes: SearchNodeView[]): SearchNodeView[] =>
  nodes.flatMap((node) => [node, ...flatten(node.children)]);

describe("the run view model", () => {
  it("lists auto's routing decisions with their predictions and the probe's features", async () => {
    const all = await events("auto", "What is 6 * 7?", 1);
    const view = buildRunView(all);
    expect(view.strategy).toBe("auto");
    expect(view.routes).toHaveLength(1);
    expect(view.routes[0]?.choice).toMatch(/^(accept|small-vote)$/);
    expect(view.routes[0]?.predictions.accept).toBeGreaterThanOrEqual(0);
    expect(Object.keys(view.routes[0]?.features ?? {})).toContain("topShare");
  });

  it("folds a self-consistency run into samples, the final vote, steps, budget and confidence", async () => {
    const all = await events("sc", "What is 6 * 7?", 6);
    const view = buildRunView(all);
    expect(view).toMatchObject({ strategy: "sc", status: "ended", answer: "42", input: "What is 6 * 7?" });
    expect(view.samples.map((s) => s.answer).sort()).toEqual(["41", "41", "42", "42", "42", "42"]);
    expect(view.votes?.tally).toEqual([
      { answer: "42", weight: 4 },
      { answer: "41", weight: 2 },
    ]);
    expect(view.votes?.leader).toBe("42");
    expect(view.votes?.decisions.length).toBeGreaterThan(0);
    expect(view.confidence).toEqual({ value: 4 / 6, kind: "vote share" });
    // Each step's tokens are its own report; the run's are the sum of its top-level steps.
    const end = all.at(-1);
    if (end?.type !== "task.end") throw new Error("expected task.end last");
    const total = end.usage.promptTokens + end.usage.completionTokens;
    expect(view.steps.reduce((sum, step) => sum + step.tokens, 0)).toBe(total);
    expect(view.budget).toMatchObject({ used: end.usage, limits: { maxTokens: 50_000, maxCalls: 40 } });
    expect(view.timeline).toHaveLength(view.steps.length + view.steps.flatMap((s) => s.children).length);
    expect(view.live).toBeUndefined();
  });

  it("grows a tree-of-thoughts search node by node, with pruned reasons and costs rolled up", async () => {
    const all = await events("tot", GAME24_QUESTION, 3);
    const model = new RunModel();
    const sizes: number[] = [];
    // Fed one event at a time, as the live stream delivers them: the tree only ever grows.
    for (const event of all) {
      model.apply([event]);
      sizes.push(flatten(model.view().nodes).length);
    }
    expect(sizes).toEqual([...sizes].sort((a, b) => a - b));
    const view = model.view();
    const nodes = flatten(view.nodes);
    expect(view.nodes).toHaveLength(1);
    expect(nodes.length).toBeGreaterThan(4);
    const illegal = nodes.find((node) => node.thought.startsWith("3 * 9"));
    expect(illegal).toMatchObject({ status: "pruned" });
    expect(illegal?.reason).toMatch(/\S/);
    expect(nodes.some((node) => node.history.includes("solved"))).toBe(true);
    expect(view.answer).toMatch(/8 \/ \(3 - \(?8 \/ 3\)?\)/);
    // Every model call is charged to some node, and each node's total includes its subtree's.
    const root = view.nodes[0] as SearchNodeView;
    const calls = view.steps.reduce((sum, step) => sum + step.tokens, 0);
    expect(Math.abs(root.tokens - calls)).toBeLessThanOrEqual(nodes.length);
    for (const node of nodes) {
      const below = node.children.reduce((sum, child) => sum + child.tokens, 0);
      expect(Math.abs(node.tokens - node.ownTokens - below)).toBeLessThanOrEqual(node.children.length + 1);
    }
  });

  it("skips events it has seen, so a replay overlapping the live stream changes nothing", async () => {
    const all = await events("sc", "What is 6 * 7?", 3);
    const model = new RunModel();
    model.apply(all.slice(0, 8));
    expect(model.view().status).toBe("running");
    expect(model.resumeFrom).toBe(8);
    model.apply(all.slice(4));
    model.apply(all);
    expect(model.view()).toEqual(buildRunView(all));
    expect(model.ended).toBe(true);
  });

  it("shows the text of the step in progress, tool calls with their outputs, and a failure", () => {
    const base = { taskId: "task_x", time: 1_000 };
    const model = new RunModel();
    model.apply([
      { ...base, seq: 0, type: "task.start", strategy: "react", input: "q", model: "m" },
      { ...base, seq: 1, type: "step.start", stepId: "s1", kind: "generate" },
      { ...base, seq: 2, type: "token", stepId: "s1", index: 0, text: "Let me " },
      { ...base, seq: 3, type: "token", stepId: "s1", index: 0, text: "compute." },
      { ...base, seq: 4, type: "tool.call", callId: "c1", tool: "calculator", input: { expression: "6*7" } },
      {
        ...base,
        seq: 5,
        type: "tool.result",
        callId: "c1",
        tool: "calculator",
        output: "42",
        isError: false,
      },
    ]);
    const running = model.view();
    expect(running.live).toEqual({ stepId: "s1", label: "generate", text: "Let me compute." });
    expect(running.tools).toEqual([
      {
        callId: "c1",
        tool: "calculator",
        input: { expression: "6*7" },
        output: "42",
        isError: false,
        done: true,
      },
    ]);
    model.apply([
      { ...base, seq: 6, type: "error", code: "backend_error", message: "down", recovered: false },
    ]);
    expect(model.view()).toMatchObject({
      status: "failed",
      live: undefined,
      errors: [{ code: "backend_error" }],
    });
  });
});
