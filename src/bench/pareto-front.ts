/** A run placed by what it cost (lower is better) and what it scored (higher is better). */
export interface CostPoint {
  cost: number;
  score: number;
}

/** Whether `a` is at least as good as `b` on both cost and score, and strictly better on one. */
export const dominates = (a: CostPoint, b: CostPoint): boolean =>
  a.cost <= b.cost && a.score >= b.score && (a.cost < b.cost || a.score > b.score);

/**
 * The points no other point dominates, cheapest first: the best score each cost buys. Equal points
 * are all kept, since neither beats the other.
 */
export function paretoFront<P extends CostPoint>(points: readonly P[]): P[] {
  return points
    .filter((p) => !points.some((q) => dominates(q, p)))
    .sort((a, b) => a.cost - b.cost || a.score - b.score);
}
