import { describe, expect, it } from "vitest";
import { closestName } from "./closest-name.js";

const NAMES = ["direct", "cot", "sc", "sc-greedy", "asc", "sc-conf", "tot", "tot-dfs", "mcts", "pal"];

describe("closestName", () => {
  it("finds the name a typo was meant to be: an extra, missing, wrong or swapped letter, or case", () => {
    expect(closestName("scc", NAMES)).toBe("sc");
    expect(closestName("drect", NAMES)).toBe("direct");
    expect(closestName("cto", NAMES)).toBe("cot");
    expect(closestName("mtcs", NAMES)).toBe("mcts");
    expect(closestName("sc-conff", NAMES)).toBe("sc-conf");
    expect(closestName("COT", NAMES)).toBe("cot");
  });

  it("suggests nothing for a word that is no near miss", () => {
    expect(closestName("x", NAMES)).toBeUndefined();
    expect(closestName("magic", NAMES)).toBeUndefined();
    expect(closestName("self-consistency", NAMES)).toBeUndefined();
    expect(closestName("", NAMES)).toBeUndefined();
    expect(closestName("a".repeat(10_000), NAMES)).toBeUndefined();
  });

  it("prefers the nearest name, and the first listed of equally near ones", () => {
    expect(closestName("tots", NAMES)).toBe("tot");
    expect(closestName("abcx", ["abcd", "abce"])).toBe("abcd");
  });
});
