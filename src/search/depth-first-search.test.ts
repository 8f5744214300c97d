import { describe, expect, it } from "vitest";
import { runTableSearch } from "../../test/run-table-search.js";
import type { Budget } from "../core/budget.js";
import { type DepthFirstSearchOptions, depthFirstSearch } from "./depth-first-search.js";
import type { TableNode } from "./table-search.js";

/**
 * The most promising branch (a) dead-ends: its child a1 only leads to a rejected finish, a2 is valued
 * too low. The second branch (b) holds the solution. c is pruned outright.
 */
const TABLE: Record<string, TableNode> = {
  root: { children: ["a", "b", "c"] },
  a: { children: ["a1", "a2"], value: 0.9 },
  b: { children: ["b1"], value: 0.6 },
  c: { children: ["c1"], value: 0.1 },
  a1: { children: ["a1x"], value: 0.8 },
  a2: { value: 0.05 },
  a1x: { terminal: true, solved: false },
  b1: { terminal: true, solved: true },
  c1: { terminal: true, solved: true },
};

const search = (
  table: Record<string, TableNode>,
  options: Omit<DepthFirstSearchOptions, "input">,
  budget?: Budget,
  exact = true,
) => runTableSearch(depthFirstSearch, table, options, { budget, exact });

describe("depth-first search", () => {
  it("prunes below the threshold, backtracks from a dead end and solves on the second branch", async () => {
    const { result, nodes } = await search(TABLE, { threshold: 0.3, depth: 4 });
    const story = nodes
      .filter((n) => ["selected", "pruned", "backtrack", "solved"].includes(n.status))
      .map((n) => `${n.status} ${n.thought || "root"}`);
    expect(story).toEqual([
      "selected root",
      "pruned c",
      "selected a",
      "pruned a2",
      "selected a1",
      "pruned a1x",
      "backtrack a1",
      "backtrack a",
      "selected b",
      "solved b1",
      "selected b1",
    ]);
    expect(nodes.find((n) => n.thought === "c" && n.status === "pruned")?.reason).toBe("below threshold");
    expect(result).toMatchObject({ solved: true, answer: "b1", budgetExhausted: false });
    expect(result.best?.path).toEqual(["b", "b1"]);
    expect(result.stats).toMatchObject({ backtracks: 2, expanded: 4, pruned: 3, maxDepth: 3 });
    // The pruned c branch was never grown, though it held a solution too.
    expect(nodes.some((n) => n.thought === "c1")).toBe(false);
  });

  it("accepts a finished state valued at the threshold when there is no exact check", async () => {
    const table: Record<string, TableNode> = {
      root: { children: ["a", "b"] },
      a: { terminal: true, value: 0.2 },
      b: { children: ["b1"], value: 0.7 },
      b1: { terminal: true, value: 0.9 },
    };
    const { result } = await search(table, { threshold: 0.5 }, undefined, false);
    expect(result).toMatchObject({ solved: false, answer: "b1" });
  });

  it("stops at maxNodes", async () => {
    const { result } = await search(TABLE, { threshold: 0.3, maxNodes: 4 });
    expect(result.solved).toBe(false);
    expect(result.stats.nodes).toBeLessThanOrEqual(6);
    expect(result.stats.expanded).toBe(1);
  });

  it("returns the best state so far when the budget runs out", async () => {
    // Root proposed and valued (2 calls), a proposed and valued (2 calls), then a1 is refused.
    const { result } = await search(TABLE, { threshold: 0.3 }, { maxCalls: 4 });
    expect(result.budgetExhausted).toBe(true);
    expect(result.solved).toBe(false);
    expect(result.answer).toBe("a");
  });
});
