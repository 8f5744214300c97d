import { DeliberateError } from "../core/errors.js";
import { describeIssue, type ValidationIssue } from "./schema-validator.js";

/** Structured output gave up: no attempt produced a value matching the schema. */
export class StructuredOutputError extends DeliberateError {
  /** Why the last attempt failed; the first issue names the failing constraint. */
  readonly issues: ValidationIssue[];
  /** Attempts made; 0 when unknown (a check at the exit of a strategy that made them). */
  readonly attempts: number;
  constructor(attempts: number, issues: ValidationIssue[], reason?: string) {
    const last = issues[0] ? describeIssue(issues[0]) : "no output";
    super(
      "invalid_output",
      `no output matched the schema${attempts > 0 ? ` after ${attempts} attempt${attempts === 1 ? "" : "s"}` : ""}${reason ? ` (${reason})` : ""}; last failure: ${last}`,
    );
    this.issues = issues;
    this.attempts = attempts;
  }
}
