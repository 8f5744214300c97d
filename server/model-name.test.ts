import { describe, expect, it } from "vitest";
import { ModelNotFoundError } from "../src/core/errors.js";
import { listModelIds, parseModelName } from "./model-name.js";

const served = ["default", "qwen-1.5b"];

describe("parseModelName", () => {
  it("reads a bare model, STRATEGY/MODEL and STRATEGY-N/MODEL", () => {
    expect(parseModelName("default", served)).toEqual({ model: "default" });
    expect(parseModelName("cot/default", served)).toEqual({ model: "default", strategy: "cot" });
    expect(parseModelName("sc-8/qwen-1.5b", served)).toEqual({ model: "qwen-1.5b", strategy: "sc", n: 8 });
    expect(parseModelName("sc/default", served)).toEqual({ model: "default", strategy: "sc" });
  });

  it("prefers whole strategy names that contain a dash, and reads n after them", () => {
    expect(parseModelName("sc-conf/default", served)).toEqual({ model: "default", strategy: "sc-conf" });
    expect(parseModelName("sc-conf-16/default", served)).toEqual({
      model: "default",
      strategy: "sc-conf",
      n: 16,
    });
    expect(parseModelName("sc-greedy-8/default", served)).toEqual({
      model: "default",
      strategy: "sc-greedy",
      n: 8,
    });
    expect(parseModelName("best-of-n-4/default", served)).toEqual({
      model: "default",
      strategy: "best-of-n",
      n: 4,
    });
    expect(parseModelName("best-of-n-tournament-2/default", served)).toEqual({
      model: "default",
      strategy: "best-of-n-tournament",
      n: 2,
    });
  });

  it("refuses unknown models, unknown strategies, n on strategies without one, and odd n", () => {
    const cases: Array<[string, RegExp]> = [
      ["gpt-4o", /'gpt-4o' does not exist/],
      ["cot/gpt-4o", /'gpt-4o' does not exist/],
      ["magic/default", /unknown strategy 'magic'/],
      ["cot-4/default", /strategy 'cot' takes no n/],
      ["sc-0/default", /unknown strategy 'sc-0'/],
      ["sc-08/default", /unknown strategy 'sc-08'/],
      ["sc-9999999/default", /unknown strategy/],
      ["/default", /unknown strategy ''/],
      ["sc-8/", /'' does not exist/],
      ["", /does not exist/],
    ];
    for (const [id, message] of cases) {
      expect(() => parseModelName(id, served), id).toThrow(ModelNotFoundError);
      expect(() => parseModelName(id, served), id).toThrow(message);
    }
  });

  it("lists bare names, every strategy per model, and sample sizes for strategies that take n", () => {
    const ids = listModelIds(["m"], ["direct", "sc", "cot"]);
    expect(ids).toEqual(["m", "direct/m", "sc/m", "sc-4/m", "sc-8/m", "cot/m"]);
    for (const id of ids) expect(() => parseModelName(id, ["m"])).not.toThrow();
  });
});
