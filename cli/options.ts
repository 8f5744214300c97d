import { stat } from "node:fs/promises";
import { InvalidArgumentError } from "commander";
import { errorMessage, UsageError } from "../src/core/errors.js";

/** Commander argument parsers that turn bad numbers into clear usage errors. */
export function parseInteger(name: string, { min = Number.MIN_SAFE_INTEGER } = {}) {
  return (value: string): number => {
    if (!/^-?\d+$/.test(value.trim())) throw new InvalidArgumentError(`${name} must be a whole number`);
    const parsed = Number.parseInt(value, 10);
    if (parsed < min) throw new InvalidArgumentError(`${name} must be at least ${min}`);
    return parsed;
  };
}

export function parseNumber(name: string, { min = -Infinity, max = Infinity } = {}) {
  return (value: string): number => {
    const parsed = Number(value);
    if (value.trim() === "" || !Number.isFinite(parsed))
      throw new InvalidArgumentError(`${name} must be a number`);
    if (parsed < min || parsed > max)
      throw new InvalidArgumentError(`${name} must be between ${min} and ${max}`);
    return parsed;
  };
}

export function parseChoice<T extends string>(name: string, choices: readonly T[]) {
  return (value: string): T => {
    if (!(choices as readonly string[]).includes(value)) {
      throw new InvalidArgumentError(`${name} must be one of: ${choices.join(", ")}`);
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
