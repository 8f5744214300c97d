import { describe, expect, it } from "vitest";
import { answerConfidenceOf } from "./answer-confidence.js";

describe("answerConfidenceOf", () => {
  it("reads a P(correct) reported with whether it is calibrated (auto's)", () => {
    expect(answerConfidenceOf({ details: { confidence: 0.8, calibrated: true } })).toEqual({
      confidence: 0.8,
      calibrated: true,
    });
    expect(answerConfidenceOf({ details: { confidence: 0.7, calibrated: false, route: [] } })).toEqual({
      confidence: 0.7,
      calibrated: false,
    });
  });

  it("does not take another measure named confidence (cot's mean token probability) for P(correct)", () => {
    expect(answerConfidenceOf({ details: { confidence: 0.93, reasoning: "…" } })).toBeUndefined();
    expect(answerConfidenceOf({ details: { calibrated: false } })).toBeUndefined();
    expect(answerConfidenceOf({})).toBeUndefined();
  });
});
