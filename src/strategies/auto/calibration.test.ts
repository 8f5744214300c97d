import { describe, expect, it } from "vitest";
import { seededUniform } from "../../core/seeded-random.js";
import {
  auc,
  bootstrapEceInterval,
  calibratedEceNoise,
  expectedCalibrationError,
  reliabilityBins,
} from "./calibration.js";

describe("reliabilityBins", () => {
  it("puts predictions in ten equal-width bins with their observed accuracy", () => {
    const bins = reliabilityBins([0.05, 0.15, 0.12, 0.95, 1], [false, true, false, true, true]);
    expect(bins).toHaveLength(10);
    expect(bins[0]).toMatchObject({ lower: 0, upper: 0.1, count: 1, observed: 0 });
    expect(bins[1]?.count).toBe(2);
    expect(bins[1]?.meanPredicted).toBeCloseTo(0.135, 10);
    expect(bins[1]?.observed).toBe(0.5);
    // 1 itself belongs to the last bin.
    expect(bins[9]).toMatchObject({ count: 2, observed: 1 });
    expect(bins[5]).toMatchObject({ count: 0, meanPredicted: 0, observed: 0 });
  });

  it("refuses a value that is not a probability", () => {
    expect(() => reliabilityBins([1.5], [true])).toThrow(/not a probability/);
    expect(() => reliabilityBins([Number.NaN], [true])).toThrow(/not a probability/);
  });
});

describe("expectedCalibrationError", () => {
  it("is 0 when each bin's accuracy equals its confidence", () => {
    const predictions = [0.25, 0.25, 0.25, 0.25, 0.75, 0.75, 0.75, 0.75];
    const labels = [true, false, false, false, true, true, true, false];
    expect(expectedCalibrationError(predictions, labels)).toBeCloseTo(0, 10);
  });

  it("weights each bin's gap by its share of the cases", () => {
    // Bin 0.9: 3 cases at 0.9, all wrong (gap 0.9); bin 0.5: 1 case at 0.5, right (gap 0.5).
    const ece = expectedCalibrationError([0.9, 0.9, 0.9, 0.5], [false, false, false, true]);
    expect(ece).toBeCloseTo((3 / 4) * 0.9 + (1 / 4) * 0.5, 10);
  });

  it("is 0 for no predictions", () => {
    expect(expectedCalibrationError([], [])).toBe(0);
  });

  it("computes the AUC as the share of right-over-wrong pairs, ties counting half", () => {
    expect(auc([0.9, 0.8, 0.3, 0.1], [true, false, true, false])).toBeCloseTo(0.75, 9);
    expect(auc([0.5, 0.5], [true, false])).toBe(0.5);
    expect(auc([0.2], [true])).toBeNaN();
  });
});

describe("resampled calibration measures", () => {
  it("draws the same uniform numbers from the same seed, spread over [0, 1)", () => {
    const a = seededUniform(7);
    const b = seededUniform(7);
    const draws = Array.from({ length: 2000 }, () => a());
    expect(draws.slice(0, 5)).toEqual(Array.from({ length: 5 }, () => b()));
    expect(Math.min(...draws)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...draws)).toBeLessThan(1);
    expect(draws.filter((x) => x < 0.5).length / draws.length).toBeCloseTo(0.5, 1);
  });

  it("puts a calibrated confidence's sampling ECE well above 0 on few problems and lower on many", () => {
    const few = calibratedEceNoise(Array(50).fill(0.7));
    const many = calibratedEceNoise(Array(2000).fill(0.7), { draws: 200 });
    // One bin at 0.7: the ECE is |observed - 0.7|, about sqrt(0.21 / n) · sqrt(2 / π) on average.
    expect(few.mean).toBeCloseTo(Math.sqrt(0.21 / 50) * Math.sqrt(2 / Math.PI), 1);
    expect(few.p95).toBeGreaterThan(few.mean);
    expect(many.mean).toBeLessThan(few.mean / 4);
  });

  it("gives a bootstrap interval around the measured ECE, of zero width when every resample agrees", () => {
    const predictions = Array.from({ length: 100 }, (_, i) => (i % 2 === 0 ? 0.9 : 0.2));
    const labels = predictions.map((_, i) => i % 4 !== 0);
    const ece = expectedCalibrationError(predictions, labels);
    const { lower, upper } = bootstrapEceInterval(predictions, labels);
    expect(lower).toBeLessThanOrEqual(ece);
    expect(upper).toBeGreaterThanOrEqual(ece);
    expect(upper - lower).toBeGreaterThan(0.05);
    expect(bootstrapEceInterval([0.5, 0.5], [true, true])).toEqual({ lower: 0.5, upper: 0.5 });
    expect(() => bootstrapEceInterval([0.5], [])).toThrow(/one label/);
  });
});
