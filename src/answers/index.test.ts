import { describe, expect, it } from "vitest";
import { UsageError } from "../core/errors.js";
import { answerFormatByName, choiceFormat, exactFormat, jsonFormat, numericFormat } from "./index.js";

describe("answer formats by name", () => {
  it("finds each built-in format", () => {
    expect(answerFormatByName("numeric")).toBe(numericFormat);
    expect(answerFormatByName("choice")).toBe(choiceFormat);
    expect(answerFormatByName("exact")).toBe(exactFormat);
    expect(answerFormatByName("json")).toBe(jsonFormat);
  });

  it("rejects unknown names, including inherited object keys", () => {
    expect(() => answerFormatByName("latex")).toThrow(UsageError);
    expect(() => answerFormatByName("latex")).toThrow(/numeric, choice, exact, json/);
    expect(() => answerFormatByName("toString")).toThrow(UsageError);
  });
});
