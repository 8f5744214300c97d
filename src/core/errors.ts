import type { BudgetLimit } from "./budget.js";
import type { NoAnswer } from "./strategy.js";

/** Base class of every error Deliberate raises on purpose: carries a stable machine-readable code. */
export class DeliberateError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Bad input from a user: flags, config, request bodies. */
export class UsageError extends DeliberateError {
  constructor(message: string) {
    super("invalid_usage", message);
  }
}

export type BackendErrorKind =
  | "unreachable"
  | "timeout"
  | "http"
  | "invalid_response"
  | "aborted"
  | "internal";

export class BackendError extends DeliberateError {
  readonly kind: BackendErrorKind;
  readonly status: number | undefined;
  /** Whether trying again may succeed (429, 5xx, timeouts, dropped connections). */
  readonly retryable: boolean;
  constructor(
    kind: BackendErrorKind,
    message: string,
    options: { status?: number; retryable?: boolean; cause?: unknown } = {},
  ) {
    super(`backend_${kind}`, message, { cause: options.cause });
    this.kind = kind;
    this.status = options.status;
    this.retryable = options.retryable ?? false;
  }
}

export class ModelNotFoundError extends DeliberateError {
  constructor(message: string) {
    super("model_not_found", message);
  }
}

export class ModelFetchError extends DeliberateError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("model_fetch_failed", message, options);
  }
}

export class BudgetExhaustedError extends DeliberateError {
  readonly limit: BudgetLimit;
  constructor(limit: BudgetLimit) {
    super("budget_exhausted", `budget exhausted: ${limit}`);
    this.limit = limit;
  }
}

/** A run that ended without an answer (see NoAnswer); the CLI exits 3 on it, apart from failures. */
export class NoAnswerError extends DeliberateError {
  readonly noAnswer: NoAnswer;
  constructor(noAnswer: NoAnswer, message = noAnswer.message) {
    super("no_answer", message);
    this.noAnswer = noAnswer;
  }
}

export class AbortedError extends DeliberateError {
  constructor(message = "aborted") {
    super("aborted", message);
  }
}

export const errorMessage = (error: unknown): string =>
  error instanceof Error ? error.message : String(error);

/** The machine-readable code of an error: a DeliberateError's own, "internal" for anything else. */
export const errorCode = (error: unknown): string =>
  error instanceof DeliberateError ? error.code : "internal";
