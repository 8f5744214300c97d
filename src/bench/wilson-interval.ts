/**
 * Wilson's 95% interval of an accuracy measured on n problems: how far a small or partial run can be
 * trusted (at 16 problems a run at 50% could be anywhere from about 28% to 72%).
 */
export function wilsonInterval(accuracy: number, n: number): { lower: number; upper: number } {
  if (n <= 0) return { lower: 0, upper: 1 };
  const z = 1.96;
  const centre = (accuracy + (z * z) / (2 * n)) / (1 + (z * z) / n);
  const half = (z / (1 + (z * z) / n)) * Math.sqrt((accuracy * (1 - accuracy)) / n + (z * z) / (4 * n * n));
  return { lower: Math.max(0, centre - half), upper: Math.min(1, centre + half) };
}
