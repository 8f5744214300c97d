/**
 * The unbiased pass@k estimator of Chen et al. (2021, "Evaluating Large Language Models Trained on
 * Code"): from n sampled programs of which c pass, the chance that at least one of k drawn without
 * replacement passes, 1 − C(n−c, k) / C(n, k), computed as a product so no binomial overflows.
 */
export function passAtK(n: number, c: number, k: number): number {
  if (!Number.isInteger(n) || !Number.isInteger(c) || !Number.isInteger(k) || n < 0 || c < 0 || c > n) {
    throw new RangeError(`pass@k needs integers 0 <= c <= n (n=${n}, c=${c})`);
  }
  if (k < 1 || k > n) throw new RangeError(`pass@k needs 1 <= k <= n (n=${n}, k=${k})`);
  if (n - c < k) return 1;
  let allFail = 1;
  for (let i = n - c + 1; i <= n; i++) allFail *= 1 - k / i;
  return 1 - allFail;
}
