import { InvalidArgumentError } from "commander";

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
