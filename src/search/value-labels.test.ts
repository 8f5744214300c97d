import { describe, expect, it } from "vitest";
import { compileStopAfter, stopAfterIndex } from "../core/stop-after.js";
import { readValueLabel, UNLABELLED_VALUE, VALUE_LABEL_WRITTEN, valueOfJudgements } from "./value-labels.js";

describe("value labels", () => {
  it("read the first verdict, not doubt or longer words", () => {
    expect(readValueLabel("4 * 6 = 24\nSure")).toBe("sure");
    expect(readValueLabel("I am not sure. It seems likely")).toBe("likely");
    expect(readValueLabel("That is unlikely to work")).toBeUndefined();
    expect(readValueLabel("impossible\nsure")).toBe("impossible");
  });

  it("average several judgements, an unlabelled one counting as weak evidence", () => {
    expect(valueOfJudgements(["sure", "impossible"])).toBe(0.5);
    expect(valueOfJudgements(["hmm"])).toBe(UNLABELLED_VALUE);
    expect(valueOfJudgements([])).toBe(UNLABELLED_VALUE);
  });

  it("end generation at the first verdict", () => {
    const pattern = compileStopAfter(VALUE_LABEL_WRITTEN);
    const text = "10 + 14 = 24\nsure\n5 5 5\nimpossible";
    expect(text.slice(0, stopAfterIndex(text, pattern))).toBe("10 + 14 = 24\nsure");
    expect(stopAfterIndex("I'm not sure yet", pattern)).toBeUndefined();
  });
});
