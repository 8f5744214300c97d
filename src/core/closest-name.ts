/**
 * Edits (insert, delete, substitute, swap two neighbours) that turn `a` into `b`, or `limit + 1` once
 * it is clearly more than `limit`: a typo is a few edits, so long words are not compared in full.
 */
function editDistance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  // rows[i][j]: edits from a's first i characters to b's first j.
  const rows: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i]);
  const row0 = rows[0] as number[];
  for (let j = 1; j <= b.length; j++) row0[j] = j;
  for (let i = 1; i <= a.length; i++) {
    const row = rows[i] as number[];
    const above = rows[i - 1] as number[];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(
        (above[j] as number) + 1,
        (row[j - 1] as number) + 1,
        (above[j - 1] as number) + cost,
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, ((rows[i - 2] as number[])[j - 2] as number) + 1);
      }
      row[j] = best;
    }
  }
  return (rows[a.length] as number[])[b.length] as number;
}

/** Longer input than any name we suggest for is not a typo of one (and keeps the work small). */
const MAX_WORD_LENGTH = 64;

/**
 * The name `word` was most likely a typo of, for "did you mean …?" messages: the nearest within two
 * edits that shares more than half its characters with it (so "x" suggests nothing); the first
 * listed wins a tie. Case is ignored.
 */
export function closestName(word: string, names: readonly string[]): string | undefined {
  const wanted = word.toLowerCase();
  if (wanted.length === 0 || wanted.length > MAX_WORD_LENGTH) return undefined;
  let best: { name: string; distance: number } | undefined;
  for (const name of names) {
    const distance = editDistance(wanted, name.toLowerCase(), 2);
    const length = Math.max(wanted.length, name.length);
    if (distance > 2 || (length - distance) / length <= 0.5) continue;
    if (!best || distance < best.distance) best = { name, distance };
  }
  return best?.name;
}
