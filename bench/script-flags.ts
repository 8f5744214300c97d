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
