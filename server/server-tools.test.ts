import { describe, expect, it } from "vitest";
import { strategyNames, strategyNamesWhere } from "../src/strategies/catalog.js";
import { ApiError } from "./openai-errors.js";
import { ServerTools } from "./server-tools.js";

describe("the server's tools", () => {
  it("serves the catalogue's code-running strategies only with tools.code on, every other always", () => {
    const runsCode = strategyNamesWhere((entry) => entry.runsCode);
    expect(runsCode.length).toBeGreaterThan(0);
    const off = new ServerTools({ code: false, webFetch: false });
    const on = new ServerTools({ code: true, webFetch: false });
    for (const name of strategyNames()) {
      expect({ name, off: off.allowsStrategy(name) }).toEqual({ name, off: !runsCode.includes(name) });
      expect({ name, on: on.allowsStrategy(name) }).toEqual({ name, on: true });
    }
  });

  it("selects the tools a request names, all when it names none, and refuses ones it does not run", () => {
    const tools = new ServerTools({ code: true, webFetch: false });
    expect(tools.select([]).map((tool) => tool.name)).toEqual(["calculator", "code"]);
    expect(tools.select(["code"]).map((tool) => tool.name)).toEqual(["code"]);
    expect(() => tools.select(["web_fetch"])).toThrow(ApiError);
  });
});
