import { describe, expect, it } from "vitest";
import { UsageError } from "../core/errors.js";
import { modelledSeconds, parseSpeedTable } from "./model-speeds.js";

describe("model speeds", () => {
  const speeds = parseSpeedTable(
    { models: { small: { prefill: 100, decode: 20, parameters: 0.5, samples: [] } } },
    "speeds.json",
  );

  it("keeps each model's prefill, decode and parameters", () => {
    expect(speeds).toEqual({ small: { prefill: 100, decode: 20, parameters: 0.5 } });
  });

  it("refuses a file without models, or a model without a positive speed, naming file and model", () => {
    expect(() => parseSpeedTable([], "a.json")).toThrow(UsageError);
    expect(() => parseSpeedTable({ small: {} }, "a.json")).toThrow(/^a\.json: a speeds file is/);
    expect(() =>
      parseSpeedTable({ models: { big: { prefill: 50, decode: 0, parameters: 1.5 } } }, "b.json"),
    ).toThrow("b.json: big needs positive prefill, decode and parameters");
    expect(() => parseSpeedTable({ models: { big: null } }, "b.json")).toThrow(/big needs/);
  });

  it("charges prompt tokens at prefill and completion tokens at decode speed, summed over models", () => {
    const two = { ...speeds, large: { prefill: 50, decode: 10, parameters: 1.5 } };
    expect(
      modelledSeconds(
        {
          small: { promptTokens: 200, completionTokens: 40 },
          large: { promptTokens: 100, completionTokens: 30 },
        },
        two,
      ),
    ).toBeCloseTo(2 + 2 + 2 + 3);
  });

  it("is undefined when a model that spent tokens has no speed; a model that spent none costs nothing", () => {
    expect(modelledSeconds({ other: { promptTokens: 10, completionTokens: 1 } }, speeds)).toBeUndefined();
    expect(
      modelledSeconds(
        {
          small: { promptTokens: 100, completionTokens: 0 },
          other: { promptTokens: 0, completionTokens: 0 },
        },
        speeds,
      ),
    ).toBe(1);
  });
});
