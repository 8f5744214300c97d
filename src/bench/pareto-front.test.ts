import { describe, expect, it } from "vitest";
import { dominates, paretoFront } from "./pareto-front.js";

describe("paretoFront", () => {
  it("keeps the runs no other run beats on both cost and score, cheapest first", () => {
    const runs = [
      { name: "sc-n16", cost: 16, score: 0.36 },
      { name: "cot", cost: 1, score: 0.275 },
      { name: "sc-n2", cost: 2, score: 0.28 },
      // Dearer than sc-n2 and no better: off the front.
      { name: "sc-greedy-n2", cost: 2.1, score: 0.275 },
      // Same cost as sc-n8 but less accurate: off.
      { name: "sc-conf-n8", cost: 8, score: 0.315 },
      { name: "sc-n8", cost: 8, score: 0.335 },
      // Cheaper than sc-n8 at the same accuracy: it knocks sc-n8 off.
      { name: "asc-n8", cost: 7.6, score: 0.335 },
      // A tie with asc-n8 on both: neither beats the other, both stay.
      { name: "asc-n8-copy", cost: 7.6, score: 0.335 },
    ];
    expect(paretoFront(runs).map((r) => r.name)).toEqual(["cot", "sc-n2", "asc-n8", "asc-n8-copy", "sc-n16"]);
    expect(paretoFront([])).toEqual([]);
  });

  it("needs strictly better on one side to dominate", () => {
    expect(dominates({ cost: 1, score: 0.5 }, { cost: 1, score: 0.5 })).toBe(false);
    expect(dominates({ cost: 1, score: 0.5 }, { cost: 2, score: 0.5 })).toBe(true);
    expect(dominates({ cost: 1, score: 0.6 }, { cost: 1, score: 0.5 })).toBe(true);
    expect(dominates({ cost: 1, score: 0.4 }, { cost: 2, score: 0.5 })).toBe(false);
  });
});
