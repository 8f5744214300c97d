import { describe, expect, it } from "vitest";
import { wilsonInterval } from "./wilson-interval.js";

describe("wilsonInterval", () => {
  it("brackets the accuracy, wider on fewer problems", () => {
    const small = wilsonInterval(0.5, 16);
    expect(small.lower).toBeCloseTo(0.28, 2);
    expect(small.upper).toBeCloseTo(0.72, 2);
    const large = wilsonInterval(0.5, 400);
    expect(large.upper - large.lower).toBeLessThan(0.1);
    expect(wilsonInterval(0, 10).lower).toBe(0);
    expect(wilsonInterval(1, 10).upper).toBe(1);
    expect(wilsonInterval(1, 10).lower).toBeGreaterThan(0.6);
  });
});
