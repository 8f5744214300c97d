import { describe, expect, it } from "vitest";
import { runTableSearch } from "../../test/run-table-search.js";
import type { Budget } from "../core/budget.js";
import type { NodeEvent } from "../core/event.js";
import { type BeamSearchOptions, beamSearch } from "./beam-search.js";
import type { TableNode } from "./table-search.js";

/** Root with four children of distinct values; the two best each have two children. */
const TABLE: Record<string, TableNode> = {
  root: { children: ["a", "b", "c", "d"] },
  a: { children: ["a1", "a2"], value: 0.9 },
  b: { children: ["b1"], value: 0.5 },
  c: { children: ["c1", "c2"], value: 0.7 },
  d: { value: 0.1 },
  a1: { value: 0.2 },
  a2: { value: 0.3 },
  b1: { value: 1 },
  c1: { value: 0.8 },
  c2: { value: 0.6 },
};

const search = (
  table: Record<string, TableNode>,
  options: Omit<BeamSearchOptions, "input">,
  budget?: Budget,
) => runTableSearch(beamSearch, table, options, { budget });

const withStatus = (nodes: NodeEvent[], status: NodeEvent["status"]): string[] =>
  nodes.filter((n) => n.status === status && n.depth > 0).map((n) => n.thought);

describe("beam search", () => {
  it("keeps the best b states of each level and prunes the rest", async () => {
    const { result, nodes } = await search(TABLE, { breadth: 2, depth: 2 });
    expect(withStatus(nodes, "selected")).toEqual(["a", "c", "c1", "c2"]);
    expect(withStatus(nodes, "pruned")).toEqual(["b", "d", "a2", "a1"]);
    // b1 (value 1) is never proposed: b fell outside the beam.
    expect(nodes.some((n) => n.thought === "b1")).toBe(false);
    expect(result.best?.path).toEqual(["c", "c1"]);
    expect(result.answer).toBe("c1");
    expect(result.stats).toMatchObject({ expanded: 3, nodes: 9, pruned: 4, maxDepth: 2 });
    const evaluated = nodes.find((n) => n.thought === "c1" && n.status === "evaluated");
    expect(evaluated).toMatchObject({ score: 0.8, depth: 2, state: "c1" });
  });

  it("is greedy with breadth 1", async () => {
    const { result } = await search(TABLE, { breadth: 1, depth: 2 });
    expect(result.best?.path).toEqual(["a", "a2"]);
  });

  it("stops at an exactly solved state and prunes finished states the checker rejects", async () => {
    const table: Record<string, TableNode> = {
      root: { children: ["x", "y", "z"] },
      x: { terminal: true, solved: false, value: 1 },
      y: { children: ["y1", "y2"], value: 0.4 },
      z: { children: ["z1"], value: 0.3 },
      y1: { value: 0.5 },
      y2: { terminal: true, solved: true },
      z1: { terminal: true, solved: true },
    };
    const { result, nodes } = await search(table, { breadth: 2, depth: 4 });
    expect(nodes.find((n) => n.thought === "x" && n.status === "pruned")?.reason).toBe("checked: not solved");
    expect(withStatus(nodes, "solved")).toEqual(["y2", "z1"]);
    expect(result).toMatchObject({ solved: true, answer: "y2", budgetExhausted: false });
    // Solved at depth 2: nothing below it was grown.
    expect(result.stats.expanded).toBe(3);
  });

  it("returns the best state so far when the budget runs out", async () => {
    // Call 1 proposes the root's children, call 2 values them, call 3 is refused.
    const { result } = await search(TABLE, { breadth: 2, depth: 3 }, { maxCalls: 2 });
    expect(result.budgetExhausted).toBe(true);
    expect(result.best?.path).toEqual(["a"]);
    expect(result.answer).toBe("a");
  });
});
