import { describe, expect, it } from "vitest";
import type { DeliberateEvent, DeliberateEventInput } from "../core/event.js";
import { buildTraceTree } from "./trace-tree.js";

const stamp = (inputs: DeliberateEventInput[]): DeliberateEvent[] =>
  inputs.map((input, seq) => ({ ...input, taskId: "t", seq, time: 1000 + seq }) as DeliberateEvent);

const usage = { promptTokens: 1, completionTokens: 2, calls: 1, wallMs: 3, costUsd: 0 };

describe("buildTraceTree", () => {
  it("nests steps by parent and puts each event under its step, skipping tokens and plain budget reports", () => {
    const tree = buildTraceTree(
      "t",
      stamp([
        { type: "task.start", strategy: "sc", input: "q", model: "m" },
        { type: "step.start", stepId: "s1", kind: "sample", label: "sample 1" },
        { type: "step.start", stepId: "s2", parentStepId: "s1", kind: "generate" },
        { type: "token", stepId: "s2", index: 0, text: "4" },
        { type: "token", stepId: "s2", index: 0, text: "2" },
        { type: "budget", stepId: "s2", used: usage },
        { type: "step.end", stepId: "s2", usage, cached: true },
        {
          type: "sample",
          stepId: "s1",
          index: 0,
          text: "42",
          answer: "42",
          finishReason: "stop",
          completionTokens: 2,
        },
        { type: "step.end", stepId: "s1", usage },
        { type: "vote", tally: { "42": 1 }, leader: "42", decided: true },
        { type: "task.end", answer: "42", usage, budgetExhausted: false },
      ]),
    );
    expect(tree).toMatchObject({ taskId: "t", strategy: "sc", input: "q", model: "m", answer: "42" });
    expect(tree.error).toBeUndefined();
    const [sample, vote] = tree.children;
    expect(vote).toMatchObject({ type: "vote", leader: "42" });
    if (sample?.type !== "step") throw new Error("expected a step");
    expect(sample).toMatchObject({ stepId: "s1", kind: "sample", label: "sample 1", usage, endedAt: 1008 });
    expect(sample.children.map((c) => c.type)).toEqual(["step", "sample"]);
    expect(sample.children[0]).toMatchObject({ stepId: "s2", tokens: 2, cached: true, children: [] });
  });

  it("keeps unfinished steps, hit limits, search nodes, orphans and the error that ended the task", () => {
    const tree = buildTraceTree(
      "t",
      stamp([
        { type: "task.start", strategy: "tot", input: "q", model: "m" },
        { type: "step.start", stepId: "s1", kind: "expand" },
        { type: "node", stepId: "s1", nodeId: "n1", depth: 1, thought: "try 4+4", status: "proposed" },
        { type: "budget", stepId: "s1", used: usage, exhausted: "tokens" },
        { type: "score", stepId: "s9", target: "n1", score: 0.5, verifier: "v" },
        { type: "error", message: "gone", code: "interrupted", recovered: false },
      ]),
    );
    const [step, orphan, error] = tree.children;
    if (step?.type !== "step") throw new Error("expected a step");
    expect(step.endedAt).toBeUndefined();
    expect(step.children.map((c) => c.type)).toEqual(["node", "budget"]);
    expect(orphan).toMatchObject({ type: "score", target: "n1" });
    expect(error).toMatchObject({ type: "error", code: "interrupted" });
    expect(tree.error?.code).toBe("interrupted");
    expect(tree.answer).toBeUndefined();
  });
});
