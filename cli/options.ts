import { stat } from "node:fs/promises";
import { InvalidArgumentError } from "commander";
import { errorMessage, UsageError } from "../src/core/errors.js";
import { makeDirectory } from "../src/core/make-directory.js";

/** The longest delay a timer can wait: Node runs a longer one after 1 ms instead. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** Commander argument parsers that turn bad numbers into clear usage errors. */
export function parseInteger(
  name: string,
  { min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER } = {},
) {
  return (value: string): number => {
    if (!/^-?\d+$/.test(value.trim())) {
      throw new InvalidArgumentError(`${name} must be a whole number, not ${JSON.stringify(value)}`);
    }
    const parsed = Number.parseInt(value, 10);
    if (parsed < min) throw new InvalidArgumentError(`${name} must be at least ${min}`);
    // Past max a number either loses digits (above 2^53) or means something else to its user.
    if (parsed > max) throw new InvalidArgumentError(`${name} must be at most ${max}`);
    return parsed;
  };
}

export function parseNumber(name: string, { min = -Infinity, max = Infinity } = {}) {
  return (value: string): number => {
    const parsed = Number(value);
    if (value.trim() === "" || !Number.isFinite(parsed))
      throw new InvalidArgumentError(`${name} must be a number, not ${JSON.stringify(value)}`);
    if (parsed < min || parsed > max)
      throw new InvalidArgumentError(`${name} must be between ${min} and ${max}`);
    return parsed;
  };
}

export function parseChoice<T extends string>(name: string, choices: readonly T[]) {
  return (value: string): T => {
    if (!(choices as readonly string[]).includes(value)) {
      throw new InvalidArgumentError(
        `${name} must be one of: ${choices.join(", ")} (not ${JSON.stringify(value)})`,
      );
    }
    return value as T;
  };
}

/**
 * An integer flag commander handed over as a string (so a bad one is checked here, after parsing):
 * its value, or a one-line usage error. Undefined stays undefined.
 */
export function integerFlag(name: string, value: string, min: number): number;
export function integerFlag(name: string, value: string | undefined, min: number): number | undefined;
export function integerFlag(name: string, value: string | undefined, min: number): number | undefined {
  if (value === undefined) return undefined;
  try {
    return parseInteger(name, { min })(value);
  } catch (error) {
    throw new UsageError(errorMessage(error));
  }
}

/** Checks that a file a flag names exists, so a typo fails before any model is loaded. */
export async function requireFile(path: string, what: string): Promise<void> {
  const file = await stat(path).catch(() => undefined);
  if (!file?.isFile()) throw new UsageError(`${what} not found: ${path}`);
}

/** Makes the directory a flag names (as `mkdir -p`), so one that cannot be made fails before any work. */
export async function requireDirectory(path: string, flag: string): Promise<void> {
  try {
    await makeDirectory(path);
  } catch (error) {
    throw new UsageError(`cannot use ${flag} ${path}: ${errorMessage(error)}`);
  }
}
