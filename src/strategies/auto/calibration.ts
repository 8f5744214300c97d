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
