/**
 * Exact rational numbers on bigints. Game of 24 needs them: 8 / 3 is not a float, and
 * 8 / (3 - 8 / 3) must come out as exactly 24.
 */
export interface Rational {
  /** Carries the sign; shares no factor with `den`. */
  readonly num: bigint;
  /** Always positive. */
  readonly den: bigint;
}

const gcd = (a: bigint, b: bigint): bigint => {
  let x = a < 0n ? -a : a;
  let y = b < 0n ? -b : b;
  while (y !== 0n) [x, y] = [y, x % y];
  return x;
};

/** num / den in lowest terms; throws on a zero denominator (callers check `div` for undefined). */
export function rational(num: bigint | number, den: bigint | number = 1n): Rational {
  let n = BigInt(num);
  let d = BigInt(den);
  if (d === 0n) throw new RangeError("zero denominator");
  if (d < 0n) [n, d] = [-n, -d];
  const g = gcd(n, d) || 1n;
  return { num: n / g, den: d / g };
}

export const add = (a: Rational, b: Rational): Rational =>
  rational(a.num * b.den + b.num * a.den, a.den * b.den);
export const sub = (a: Rational, b: Rational): Rational =>
  rational(a.num * b.den - b.num * a.den, a.den * b.den);
export const mul = (a: Rational, b: Rational): Rational => rational(a.num * b.num, a.den * b.den);
/** a / b, or undefined when b is zero. */
export const div = (a: Rational, b: Rational): Rational | undefined =>
  b.num === 0n ? undefined : rational(a.num * b.den, a.den * b.num);

export const equals = (a: Rational, b: Rational): boolean => a.num === b.num && a.den === b.den;

/** "24", "-3" or "8/3". */
export const formatRational = (r: Rational): string => (r.den === 1n ? String(r.num) : `${r.num}/${r.den}`);

export const toNumber = (r: Rational): number => Number(r.num) / Number(r.den);

/** Reads "12", "-3", "8/3" or "2.5" exactly; undefined for anything else. */
export function parseRational(text: string): Rational | undefined {
  const t = text.trim();
  const fraction = t.match(/^(-?\d+)\s*\/\s*(\d+)$/);
  if (fraction) {
    const den = BigInt(fraction[2] as string);
    return den === 0n ? undefined : rational(BigInt(fraction[1] as string), den);
  }
  const decimal = t.match(/^(-?)(\d*)(?:\.(\d+))?$/);
  if (!decimal || (decimal[2] === "" && decimal[3] === undefined)) return undefined;
  const [, sign = "", whole = "", frac = ""] = decimal;
  const num = BigInt(`${sign}${whole || "0"}${frac}`);
  return rational(num, 10n ** BigInt(frac.length));
}

/**
 * Whether `written` denotes `value`: exactly, or as a decimal less than one unit in its last place away
 * (a model writing 8 / 3 = 2.67, or 2.66, has done the step right; the state keeps the exact 8/3).
 */
export function denotes(written: string, value: Rational): boolean {
  const parsed = parseRational(written);
  if (!parsed) return false;
  if (equals(parsed, value)) return true;
  const places = written.trim().match(/\.(\d+)$/)?.[1]?.length;
  if (places === undefined) return false;
  // |value - parsed| < 10^-places
  const diff = sub(value, parsed);
  const absNum = diff.num < 0n ? -diff.num : diff.num;
  return absNum * 10n ** BigInt(places) < diff.den;
}
