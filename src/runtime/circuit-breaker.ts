import { BackendError } from "../core/errors.js";

export type CircuitState = "closed" | "open" | "half-open";

export interface CircuitBreakerOptions {
  /** Consecutive failed calls that open the circuit. */
  failureThreshold: number;
  /** How long an open circuit refuses calls before letting one probe through (half-open). */
  cooldownMs: number;
  now?: () => number;
}

/** A call refused without being made, because the backend's circuit is open. */
export class CircuitOpenError extends BackendError {
  override readonly code = "circuit_open";
  /** When the circuit lets a probe through again. */
  readonly retryAfterMs: number;
  constructor(name: string, retryAfterMs: number) {
    super(
      "unreachable",
      `model '${name}' is unavailable: its circuit breaker is open after repeated failures; retry in ${Math.ceil(retryAfterMs / 1000)} s`,
      // Retrying at once would only be refused again; a fallback may still take the call.
      { retryable: false },
    );
    this.retryAfterMs = retryAfterMs;
  }
}

/** What a caller reports about the one call it was let through for. Each method ends the permit. */
export interface CircuitPermit {
  /** The backend answered (also with a client error: it is up). */
  success(): void;
  /** The backend failed in a way that says it is down or overloaded. */
  failure(): void;
  /** The call ended without telling either (e.g. the caller aborted). */
  release(): void;
}

/**
 * Closed → open after `failureThreshold` consecutive failures → half-open once `cooldownMs` passed,
 * when exactly one probe call goes through: its success closes the circuit, its failure opens it
 * again for another cool-down. While open (or while the probe is out) calls are refused at once.
 * State is per instance: one breaker guards one backend.
 */
export class CircuitBreaker {
  private failures = 0;
  private openedAt: number | undefined;
  private probing = false;
  private readonly now: () => number;

  constructor(
    readonly name: string,
    private readonly options: CircuitBreakerOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  get state(): CircuitState {
    if (this.openedAt === undefined) return "closed";
    return this.now() - this.openedAt >= this.options.cooldownMs ? "half-open" : "open";
  }

  /** Lets one call through, or throws CircuitOpenError. */
  admit(): CircuitPermit {
    if (this.openedAt !== undefined) {
      const waitMs = this.openedAt + this.options.cooldownMs - this.now();
      if (waitMs > 0) throw new CircuitOpenError(this.name, waitMs);
      // Half-open: one probe at a time; the rest are refused until it reports.
      if (this.probing) throw new CircuitOpenError(this.name, this.options.cooldownMs);
      this.probing = true;
      return this.permit(true);
    }
    return this.permit(false);
  }

  private permit(probe: boolean): CircuitPermit {
    let done = false;
    const end = (outcome: "success" | "failure" | "release"): void => {
      if (done) return;
      done = true;
      if (probe) this.probing = false;
      if (outcome === "success") {
        this.failures = 0;
        this.openedAt = undefined;
      } else if (outcome === "failure") {
        this.failures++;
        // A failed probe re-opens at once; otherwise the threshold decides.
        if (probe || this.failures >= this.options.failureThreshold) this.openedAt = this.now();
      }
    };
    return {
      success: () => end("success"),
      failure: () => end("failure"),
      release: () => end("release"),
    };
  }
}
