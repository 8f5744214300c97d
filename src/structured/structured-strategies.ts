import { UsageError } from "../core/errors.js";
import type { Strategy } from "../core/strategy.js";
import { namedStrategy } from "../strategies/named-strategy.js";
import { structuredOutput, structuredSelfConsistency } from "./structured-output.js";
import type { StructuredSchema } from "./structured-schema.js";

/** Strategy names that work with a schema, as the CLI accepts them. */
export const STRUCTURED_STRATEGY_NAMES = ["direct", "sc", "asc", "sc-conf"] as const;

/**
 * The structured-output form of a named strategy: "direct" generates one valid value; the
 * self-consistency family votes over valid values on their canonical JSON. Results carry `name`, as
 * the catalogue's strategies do.
 */
export function createStructuredStrategy(
  name: string,
  schema: StructuredSchema,
  options: { n?: number; maxAttempts?: number } = {},
): Strategy {
  const shared = { schema, ...(options.maxAttempts !== undefined && { maxAttempts: options.maxAttempts }) };
  switch (name) {
    case "direct":
      return namedStrategy(name, structuredOutput(shared));
    case "sc":
      return namedStrategy(name, structuredSelfConsistency({ ...shared, n: options.n ?? 5 }));
    case "asc":
      return namedStrategy(
        name,
        structuredSelfConsistency({ ...shared, n: options.n ?? 16, adaptive: true }),
      );
    case "sc-conf":
      return namedStrategy(
        name,
        structuredSelfConsistency({ ...shared, n: options.n ?? 8, confidenceWeighted: true }),
      );
    default:
      throw new UsageError(
        `--schema works with --strategy ${STRUCTURED_STRATEGY_NAMES.join(", ")}, not "${name}"`,
      );
  }
}
