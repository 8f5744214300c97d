import { add, div, equals, mul, type Rational, rational, sub } from "./rational.js";

interface Item {
  value: Rational;
  expr: string;
}

const key = (items: readonly Item[]): string =>
  items
    .map((i) => `${i.value.num}/${i.value.den}`)
    .sort()
    .join(",");

/** Bracketed unless it is a bare number, so the assembled expression reads unambiguously. */
const wrap = (expr: string): string => (/^\d+$/.test(expr) ? expr : `(${expr})`);

function search(items: Item[], target: Rational, seen: Set<string>): string | undefined {
  if (items.length === 1) {
    const only = items[0] as Item;
    return equals(only.value, target) ? only.expr : undefined;
  }
  const k = key(items);
  if (seen.has(k)) return undefined;
  seen.add(k);
  for (let i = 0; i < items.length; i++) {
    for (let j = 0; j < items.length; j++) {
      if (i === j) continue;
      const a = items[i] as Item;
      const b = items[j] as Item;
      const rest = items.filter((_, x) => x !== i && x !== j);
      const options: Array<[Rational | undefined, string]> = [
        [sub(a.value, b.value), "-"],
        [div(a.value, b.value), "/"],
      ];
      // Sums and products commute: try them once per pair.
      if (i < j) options.unshift([add(a.value, b.value), "+"], [mul(a.value, b.value), "*"]);
      for (const [value, op] of options) {
        if (!value) continue;
        const found = search(
          [...rest, { value, expr: `${wrap(a.expr)} ${op} ${wrap(b.expr)}` }],
          target,
          seen,
        );
        if (found !== undefined) return found;
      }
    }
  }
  return undefined;
}

/**
 * An expression over `numbers` (each once) that equals 24 exactly, or undefined when there is none.
 * Deterministic for a multiset: the numbers are sorted first. Used to score benchmarks and in tests,
 * never by a strategy.
 */
export function solve24(numbers: readonly number[], target = 24): string | undefined {
  const sorted = [...numbers].sort((a, b) => a - b);
  return search(
    sorted.map((n) => ({ value: rational(n), expr: String(n) })),
    rational(target),
    new Set(),
  );
}
