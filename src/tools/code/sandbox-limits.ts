import { UsageError } from "../../core/errors.js";

/** How often a sandbox's parent reads the program's CPU time (both the JavaScript and Python sandboxes). */
export const CPU_CHECK_INTERVAL_MS = 25;

/** The error a program stopped at its CPU limit fails with, in either sandbox. */
export const CPU_LIMIT_ERROR = "TimeoutError: CPU time limit exceeded";

/** Every limit must be a positive, finite number: a zero or NaN limit would disable the check it names. */
export function checkSandboxLimits(limits: object): void {
  for (const [key, value] of Object.entries(limits)) {
    if (typeof value !== "number" || !Number.isFinite(value) || value <= 0)
      throw new UsageError(`sandbox limit ${key} must be positive, got ${value}`);
  }
}
