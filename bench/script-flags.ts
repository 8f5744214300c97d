/** `--name value` from a bench script's command line, else `fallback`; throws when neither is there. */
export function flag(name: string, fallback?: string): string {
  const at = process.argv.indexOf(`--${name}`);
  const value = at >= 0 ? process.argv[at + 1] : fallback;
  if (value === undefined) throw new Error(`--${name} is required`);
  return value;
}

/** `--name value` when given, else undefined. */
export const optionalFlag = (name: string): string | undefined =>
  process.argv.includes(`--${name}`) ? flag(name) : undefined;

/** A numeric `--name value`, else `fallback`; a value that is not a number is an error, not NaN. */
export function numberFlag(name: string, fallback: number): number {
  const value = Number(flag(name, String(fallback)));
  if (!Number.isFinite(value)) throw new Error(`--${name} must be a number`);
  return value;
}
