import { describe, expect, it } from "vitest";
import { runTableSearch } from "../../test/run-table-search.js";
import type { Budget } from "../core/budget.js";
import type { NodeEvent } from "../core/event.js";
import {
  backup,
  type MonteCarloTreeSearchOptions,
  monteCarloTreeSearch,
  selectChild,
  uctScore,
} from "./monte-carlo-tree-search.js";
import type { TableNode } from "./table-search.js";

const search = (
  table: Record<string, TableNode>,
  options: Omit<MonteCarloTreeSearchOptions, "input">,
  budget?: Budget,
) => runTableSearch(monteCarloTreeSearch, table, options, { budget });

/** The last visits and mean value reported for each node. */
function lastStats(
  nodes: NodeEvent[],
): Record<string, { visits: number | undefined; value: number | undefined }> {
  const stats: Record<string, { visits: number | undefined; value: number | undefined }> = {};
  for (const n of nodes)
    if (n.status === "evaluated") stats[n.thought || "root"] = { visits: n.visits, value: n.value };
  return stats;
}

describe("UCT", () => {
  it("scores an unvisited child infinitely, so it is picked first, in order", () => {
    expect(uctScore({ visits: 0, valueSum: 0 }, 5, 1)).toBe(Number.POSITIVE_INFINITY);
    const children = [
      { name: "a", visits: 3, valueSum: 3 },
      { name: "b", visits: 0, valueSum: 0 },
      { name: "c", visits: 0, valueSum: 0 },
    ];
    expect(selectChild({ visits: 3, children }, 1)?.name).toBe("b");
  });

  it("adds the exploration bonus to the mean value", () => {
    expect(uctScore({ visits: 2, valueSum: 1 }, 4, 1)).toBeCloseTo(0.5 + Math.sqrt(Math.log(4) / 2));
    expect(uctScore({ visits: 2, valueSum: 1 }, 4, 0)).toBe(0.5);
    // Without exploration the better mean wins; with much of it the less visited child does.
    const children = [
      { name: "often", visits: 8, valueSum: 6 },
      { name: "rarely", visits: 1, valueSum: 0.5 },
    ];
    expect(selectChild({ visits: 9, children }, 0)?.name).toBe("often");
    expect(selectChild({ visits: 9, children }, 2)?.name).toBe("rarely");
  });

  it("backs a value up every node of the path", () => {
    const path = [
      { visits: 2, valueSum: 1 },
      { visits: 1, valueSum: 0.5 },
      { visits: 0, valueSum: 0 },
    ];
    backup(path, 0.25);
    expect(path).toEqual([
      { visits: 3, valueSum: 1.25 },
      { visits: 2, valueSum: 0.75 },
      { visits: 1, valueSum: 0.25 },
    ]);
  });
});

describe("Monte Carlo tree search", () => {
  /** root → a (partial, 0.5) → a1 (finished, 1.0); root → b (finished, 0.6). No exact checks. */
  const TABLE: Record<string, TableNode> = {
    root: { children: ["a", "b"] },
    a: { children: ["a1"], value: 0.5 },
    b: { terminal: true, value: 0.6 },
    a1: { terminal: true, value: 1 },
  };

  it("propagates visits and values to the root on a small tree", async () => {
    const { result, nodes } = await search(TABLE, { iterations: 4, exploration: 1, stopOnSolved: false });
    // 1: expand root, value a (0.5). 2: b is unvisited, so UCT takes it (0.6). 3: b's bonus wins (0.6 again).
    // 4: a's bonus now wins; a is expanded and a1 valued (1.0).
    const selectedLeaves = nodes.filter((n) => n.status === "selected" && n.depth > 0).map((n) => n.thought);
    expect(selectedLeaves).toEqual(["a", "b", "b", "a", "a1"]);
    expect(lastStats(nodes)).toEqual({
      root: { visits: 4, value: (0.5 + 0.6 + 0.6 + 1) / 4 },
      a: { visits: 2, value: 0.75 },
      b: { visits: 2, value: 0.6 },
      a1: { visits: 1, value: 1 },
    });
    expect(result.answer).toBe("a1");
    expect(result.best?.path).toEqual(["a", "a1"]);
  });

  it("stops at an exactly solved state", async () => {
    const table: Record<string, TableNode> = {
      root: { children: ["x", "y"] },
      x: { terminal: true, solved: false },
      y: { children: ["y1"], value: 0.5 },
      y1: { terminal: true, solved: true },
    };
    const { result, nodes } = await search(table, { iterations: 10 });
    expect(result).toMatchObject({ solved: true, answer: "y1" });
    expect(nodes.filter((n) => n.status === "solved").map((n) => n.thought)).toEqual(["y1"]);
    // 1: root grown, x checked (0). 2: y is unvisited, so it is grown and its child y1 checked (1).
    expect(lastStats(nodes).root).toEqual({ visits: 2, value: 0.5 });
  });

  it("can value a leaf by a greedy rollout, and keeps a solution the rollout finds", async () => {
    const table: Record<string, TableNode> = {
      root: { children: ["a"] },
      a: { children: ["a1"], value: 0.1 },
      a1: { children: ["a1x"], value: 0.1 },
      a1x: { terminal: true, solved: true },
    };
    const { result } = await search(table, { iterations: 5, estimate: "greedy" });
    expect(result).toMatchObject({ solved: true, answer: "a1x" });
    expect(result.best?.path).toEqual(["a", "a1", "a1x"]);
  });

  it("values a dead end at zero without a call", async () => {
    const table: Record<string, TableNode> = { root: { children: ["a"] }, a: { children: [], value: 0.9 } };
    const { nodes } = await search(table, { iterations: 3, exploration: 0 });
    expect(lastStats(nodes).a).toEqual({ visits: 3, value: 0.9 / 3 });
  });

  it("returns the best so far when the budget runs out", async () => {
    const { result } = await search(TABLE, { iterations: 10, stopOnSolved: false }, { maxCalls: 3 });
    expect(result.budgetExhausted).toBe(true);
    expect(result.answer).toBe("b");
  });
});
