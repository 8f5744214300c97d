import { seededUniform } from "../../core/seeded-random.js";

/** One bin of a reliability diagram: the predictions that fell in [lower, upper) and how often they were right. */
export interface ReliabilityBin {
  lower: number;
  upper: number;
  count: number;
  /** Mean predicted probability in the bin (NaN-free: 0 for an empty bin). */
  meanPredicted: number;
  /** Share of the bin's cases that were correct (0 for an empty bin). */
  observed: number;
}

/** Equal-width bins over [0, 1]; a prediction of exactly 1 goes in the last bin. */
export function reliabilityBins(predictions: number[], labels: boolean[], bins = 10): ReliabilityBin[] {
  if (predictions.length !== labels.length) throw new Error("one label per prediction");
  const sums = Array.from({ length: bins }, () => ({ count: 0, predicted: 0, correct: 0 }));
  predictions.forEach((p, i) => {
    if (!(p >= 0 && p <= 1)) throw new Error(`prediction ${p} is not a probability`);
    const bin = sums[Math.min(bins - 1, Math.floor(p * bins))];
    if (!bin) return;
    bin.count++;
    bin.predicted += p;
    bin.correct += Number(labels[i]);
  });
  return sums.map((s, b) => ({
    lower: b / bins,
    upper: (b + 1) / bins,
    count: s.count,
    meanPredicted: s.count === 0 ? 0 : s.predicted / s.count,
    observed: s.count === 0 ? 0 : s.correct / s.count,
  }));
}

/**
 * Expected calibration error: the count-weighted mean gap between predicted and observed accuracy
 * over equal-width bins (10 by default, as usually reported). 0 is perfectly calibrated.
 */
export function expectedCalibrationError(predictions: number[], labels: boolean[], bins = 10): number {
  if (predictions.length === 0) return 0;
  return reliabilityBins(predictions, labels, bins).reduce(
    (sum, b) => sum + (b.count / predictions.length) * Math.abs(b.meanPredicted - b.observed),
    0,
  );
}

/** Area under the ROC curve: the chance a right case outscores a wrong one (ties count half); NaN without both. */
export function auc(scores: number[], labels: boolean[]): number {
  let pairs = 0;
  let wins = 0;
  scores.forEach((s, i) => {
    if (!labels[i]) return;
    scores.forEach((t, j) => {
      if (labels[j]) return;
      pairs++;
      wins += s > t ? 1 : s === t ? 0.5 : 0;
    });
  });
  return pairs === 0 ? Number.NaN : wins / pairs;
}

const quantile = (sorted: number[], q: number): number =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.floor(q * sorted.length)))] ?? 0;

export interface ResampleOptions {
  bins?: number;
  draws?: number;
  seed?: number;
}

/**
 * The ECE a perfectly calibrated confidence would still show on these predictions, from sampling
 * alone: each label drawn as a coin that comes up right with the predicted probability, the ECE of
 * each draw, their mean and 95th percentile. On a few hundred problems that is not near 0, so a
 * measured ECE is read against it.
 */
export function calibratedEceNoise(
  predictions: number[],
  options: ResampleOptions = {},
): { mean: number; p95: number } {
  const { bins = 10, draws = 1000, seed = 1 } = options;
  const uniform = seededUniform(seed);
  const eces = Array.from({ length: draws }, () =>
    expectedCalibrationError(
      predictions,
      predictions.map((p) => uniform() < p),
      bins,
    ),
  ).sort((a, b) => a - b);
  return { mean: eces.reduce((sum, e) => sum + e, 0) / Math.max(1, draws), p95: quantile(eces, 0.95) };
}

/** A 95% bootstrap interval of the ECE: problems resampled with replacement, percentiles 2.5 and 97.5. */
export function bootstrapEceInterval(
  predictions: number[],
  labels: boolean[],
  options: ResampleOptions = {},
): { lower: number; upper: number } {
  if (predictions.length !== labels.length) throw new Error("one label per prediction");
  const { bins = 10, draws = 1000, seed = 1 } = options;
  const uniform = seededUniform(seed);
  const n = predictions.length;
  const eces = Array.from({ length: draws }, () => {
    const picks = Array.from({ length: n }, () => Math.floor(uniform() * n));
    return expectedCalibrationError(
      picks.map((i) => predictions[i] ?? 0),
      picks.map((i) => labels[i] ?? false),
      bins,
    );
  }).sort((a, b) => a - b);
  return { lower: quantile(eces, 0.025), upper: quantile(eces, 0.975) };
}
